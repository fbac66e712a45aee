"""The supervisor's side of aloops and async jobs.

A mixin of TaskSupervisor; each hook calls ``super()`` so the other mixins
keep working.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from . import _tracing
from ._aloop import ALoop
from ._async_jobs import AsyncJob, AsyncJobScheduler
from ._bridge import Latch, allocate_lock, real_thread_id
from ._constants import TASK_NORMAL, TASK_STATUS_STARTED, TT_COROUTINE
from ._logging import logger
from ._policies import TaskPolicy

INTERNAL_ALOOP = '__internal__'


class ALoopSupport:
    """Mixin: creates, finds and stops the supervisor's aloops and job schedulers."""

    id: Any
    default_aloop: ALoop | None
    _aloops: dict[str, ALoop]
    _job_schedulers: dict[str, AsyncJobScheduler]
    _default_job_scheduler: AsyncJobScheduler | None

    def _init_extensions(self) -> None:
        self._aloops = {}
        self._internal_lock = allocate_lock()  # held briefly, never across a wait
        self._internal_starting: Latch | None = None  # set once a start of it ended
        self._job_schedulers = {}
        self._default_job_scheduler = None
        super()._init_extensions()  # type: ignore[misc]

    # -- aloops -----------------------------------------------------------------

    def create_aloop(self, name: str, daemon: bool = False, start: bool = True,
                     default: bool = False) -> ALoop | bool:
        """Create an aloop named *name*; log an error and return False if the name is taken.

        Started at once unless ``start=False``; ``default=True`` makes it the
        default aloop. Blocks until the loop's thread is up.
        """
        if not isinstance(name, str) or not name:
            raise TypeError(f'an aloop name must be a non-empty str, got {name!r}')
        if name in self._aloops:
            logger.error('supervisor %s: an aloop named %r exists already', self.id, name)
            return False
        aloop = ALoop(name, self, daemon=daemon)
        self._aloops[name] = aloop
        if start:
            aloop.start()
        if default:
            self.default_aloop = aloop
        return aloop

    def get_aloop(self, name: str | None = None) -> ALoop | None:
        """The aloop named *name*, or the default aloop; None if there is none."""
        if name is None:
            return self.default_aloop
        return self._aloops.get(name)

    def set_default_aloop(self, aloop: ALoop | str) -> None:
        """Make *aloop* (an ALoop or a name) the default one."""
        self.default_aloop = self._resolve_aloop(aloop)

    def start_aloop(self, name: str) -> bool:
        """Start the aloop *name*; False if it runs already."""
        return self._resolve_aloop(name).start()

    def stop_aloop(self, name: str, wait: bool | float = True, cancel_tasks: bool = False) -> bool:
        """Stop the aloop *name* (see :meth:`ALoop.stop`); False if it was not running."""
        return self._resolve_aloop(name).stop(wait=wait, cancel_tasks=cancel_tasks)

    def _resolve_aloop(self, loop: Any) -> ALoop:
        if isinstance(loop, ALoop):
            return loop
        if isinstance(loop, str) and loop in self._aloops:
            return self._aloops[loop]
        raise LookupError(f'no aloop {loop!r}')

    def _pick_aloop(self, loop: Any, internal: bool = False) -> ALoop:
        """The aloop for a coroutine: *loop*, else the default, else (for workers)
        an internal one created once; RuntimeError when there is none."""
        if loop is not None:
            aloop = self._resolve_aloop(loop)
        elif self.default_aloop is not None:
            aloop = self.default_aloop
        elif internal:
            aloop = self._internal_aloop()
        else:
            raise RuntimeError('no aloop: create one with create_aloop(name, default=True) '
                               'or pass loop=')
        if not aloop.is_active():
            raise RuntimeError(f'{aloop!r} is not running')
        return aloop

    def _internal_aloop(self) -> ALoop:
        """The internal aloop, started by the first caller that needs it; the
        callers that come while it starts wait for that start (cooperatively
        in a greenlet) instead of finding it registered but not yet running."""
        with self._internal_lock:
            aloop = self._aloops.get(INTERNAL_ALOOP)
            if aloop is not None and aloop.is_active():
                return aloop
            starting = self._internal_starting
            starter = starting is None
            if starting is None:
                starting = self._internal_starting = Latch()
                if aloop is None:
                    aloop = self._aloops[INTERNAL_ALOOP] = ALoop(INTERNAL_ALOOP, self)
        if not starter:
            starting.wait()
            return self._aloops[INTERNAL_ALOOP]
        assert aloop is not None
        try:
            aloop.start()
        finally:
            with self._internal_lock:
                self._internal_starting = None
            starting.set()
        return aloop

    # -- coroutine tasks --------------------------------------------------------------

    def _check_coroutine_loop(self, loop: Any) -> None:
        self._pick_aloop(loop)

    def _put_coroutine(self, coro: Any, aloop: ALoop) -> Any:
        """aloop.background_task(coro): a registered task for a coroutine object."""
        return self.put_task(_CoroutineObject(coro), tt=TT_COROUTINE,  # type: ignore[attr-defined]
                             loop=aloop, priority=TASK_NORMAL, _pass_task_id=False)

    def _run_coroutine_executor(self, coro_fn: Callable[..., Any], args: tuple[Any, ...],
                                kwargs: dict[str, Any], loop: Any,
                                policy: TaskPolicy | None = None) -> Any:
        aloop = self._pick_aloop(loop, internal=True)
        return self.put_task(coro_fn, args, kwargs, tt=TT_COROUTINE,  # type: ignore[attr-defined]
                             loop=aloop, worker=kwargs.get('_worker'), _policy=policy)

    def _run_coroutine_task(self, task: Any) -> None:
        # In the supervisor's greenlet: hand the coroutine to its aloop.
        try:
            aloop = self._pick_aloop(task.loop, internal=task.worker is not None)
            if not task._mark_started():
                return  # canceled meanwhile
            target = task.target
            coro = target.coro if isinstance(target, _CoroutineObject) else \
                target(*task.args, **task.kwargs)
            if task._trace is not None and _tracing.tracer is not None:
                coro = _tracing.tracer.coroutine(task, coro)
            handle = _CoroutineRun()
            future = aloop.submit(_contained(coro, handle))
            handle.future = future
            task._handle = handle  # cancelled to stop the task (Task.cancel, a time limit)
            if task.policy is not None:
                self._engine.policies.arm_limits(task._run, task)  # type: ignore[attr-defined]
        except BaseException as exc:
            if task.status != TASK_STATUS_STARTED:  # start it, so that it can complete
                task._mark_started()
            self._engine.task_done(task._run, task, False, exc)  # type: ignore[attr-defined]
            return
        run = task._run

        def finished(fut: Any) -> None:
            # In the aloop's thread; _task_done is thread-safe.
            if fut.cancelled():
                self._engine.task_done(run, task, False, asyncio.CancelledError())  # type: ignore[attr-defined]
            elif fut.exception() is not None:
                self._engine.task_done(run, task, False, fut.exception())  # type: ignore[attr-defined]
            else:
                self._engine.task_done(run, task, *fut.result())  # type: ignore[attr-defined]

        future.add_done_callback(finished)

    def _start_async_scheduler(self, scheduler: Any) -> None:
        try:
            aloop = self._pick_aloop(None, internal=True)
            future = aloop.submit(scheduler.loop())
        except Exception:
            logger.exception('scheduler %r could not start', scheduler)
            return
        def report(f: Any) -> None:
            if not f.cancelled() and f.exception() is not None:
                logger.error('scheduler %r failed', scheduler, exc_info=f.exception())

        future.add_done_callback(report)

    # -- async jobs ---------------------------------------------------------------

    def create_async_job_scheduler(self, name: str, aloop: ALoop | str | None = None,
                                   start: bool = True, default: bool = False
                                   ) -> AsyncJobScheduler | bool:
        """Create a job scheduler on *aloop* (default: the default aloop); False if
        the name is taken (an error is logged)."""
        if name in self._job_schedulers:
            logger.error('supervisor %s: a job scheduler named %r exists already', self.id, name)
            return False
        target = self._pick_aloop(aloop)
        scheduler = AsyncJobScheduler(name, target)
        self._job_schedulers[name] = scheduler
        if default or self._default_job_scheduler is None:
            self._default_job_scheduler = scheduler
        return scheduler

    def _job_scheduler(self, scheduler: AsyncJobScheduler | str | None) -> AsyncJobScheduler:
        if isinstance(scheduler, AsyncJobScheduler):
            return scheduler
        if scheduler is None:
            if self._default_job_scheduler is None:
                raise RuntimeError('no async job scheduler: create_async_job_scheduler() first')
            return self._default_job_scheduler
        if scheduler in self._job_schedulers:
            return self._job_schedulers[scheduler]
        raise LookupError(f'no async job scheduler {scheduler!r}')

    def create_async_job(self, scheduler: AsyncJobScheduler | str | None = None, *,
                         target: Callable[..., Any], args: tuple[Any, ...] = (),
                         kwargs: dict[str, Any] | None = None, interval: float | None = None,
                         timer: float = 0, number: int = 0) -> AsyncJob:
        """Run ``target(*args, **kwargs)`` every *interval* seconds on a fixed grid,
        after *timer* seconds, *number* times (0: until canceled)."""
        return self._job_scheduler(scheduler).create_job(target, args, kwargs, interval,
                                                         timer, number)

    def cancel_async_job(self, scheduler: AsyncJobScheduler | str | None = None, *,
                         job: AsyncJob) -> bool:
        """Stop further runs of *job*."""
        if scheduler is None:
            for candidate in self._job_schedulers.values():
                if job in candidate.jobs:
                    return candidate.cancel_job(job)
            return False
        return self._job_scheduler(scheduler).cancel_job(job)

    # -- hooks ----------------------------------------------------------------------

    def _stop_extensions(self, run: Any, deadline: float | None) -> None:
        for scheduler in list(self._job_schedulers.values()):
            scheduler.stop()
        for aloop in list(self._aloops.values()):
            remaining = True if deadline is None else max(0.0, deadline - time.monotonic())
            if id(aloop) in run.callers:  # its thread is in stop(): it winds down afterwards
                aloop._request_stop(None if remaining is True else remaining, False)
                continue
            try:
                aloop.stop(wait=remaining)
            except Exception:
                logger.exception('stopping %r failed', aloop)
        super()._stop_extensions(run, deadline)  # type: ignore[misc]

    def _note_callers(self, run: Any) -> None:
        # stop() from an aloop's thread: a coroutine (or callback) blocks that loop, so
        # neither the loop nor its coroutine tasks (nor workers waiting on them) can end first.
        thread = real_thread_id()
        for aloop in list(self._aloops.values()):
            if aloop._thread_id == thread and aloop.is_active():
                run.callers.add(id(aloop))
                run.ignored_loops.add(aloop)
        if run.ignored_loops:
            for task in list(self._engine.tasks.values()):  # type: ignore[attr-defined]
                if task.worker is not None and self._loop_of(task) in run.ignored_loops:
                    run.callers.add(id(task.worker))
        super()._note_callers(run)  # type: ignore[misc]

    def _loop_of(self, task: Any) -> Any:
        if task.tt != TT_COROUTINE:
            return None
        try:
            return self._resolve_aloop(task.loop) if task.loop is not None else self.default_aloop
        except LookupError:
            return None

    def _extend_info(self, info: SimpleNamespace, run: Any) -> None:
        info.aloops = [name for name, aloop in self._aloops.items() if aloop.is_active()]
        info.default_aloop = self.default_aloop.name if self.default_aloop else None
        info.async_job_schedulers = list(self._job_schedulers)
        super()._extend_info(info, run)  # type: ignore[misc]


class _CoroutineRun:
    """A coroutine task's handle: cancels its asyncio task from any thread.

    Cancelling the asyncio task itself (not the concurrent future) lets a
    coroutine that handles the CancelledError still return its result.
    """

    __slots__ = ('atask', 'future', 'loop')

    def __init__(self) -> None:
        self.future: Any = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.atask: asyncio.Task[Any] | None = None

    def cancel(self) -> bool:
        loop, atask = self.loop, self.atask
        if loop is None or atask is None:  # not started on its loop yet
            return bool(self.future.cancel())
        loop.call_soon_threadsafe(atask.cancel)
        return True


async def _contained(coro: Any, handle: _CoroutineRun | None = None) -> tuple[bool, Any]:
    """Await *coro*; return ``(ok, result_or_exception)``.

    asyncio lets SystemExit and KeyboardInterrupt out of ``run_forever``, which
    would leave the task STARTED; here they end only the task, like any other
    BaseException (a cancellation stays a cancellation).
    """
    if handle is not None:
        handle.loop = asyncio.get_running_loop()
        handle.atask = asyncio.current_task()
    try:
        return True, await coro
    except asyncio.CancelledError:
        raise
    except BaseException as exc:  # the task's outcome
        return False, exc


class _CoroutineObject:
    """A coroutine object carried as a task's target (aloop.background_task)."""

    __slots__ = ('__name__', 'coro')

    def __init__(self, coro: Any) -> None:
        self.coro = coro
        self.__name__ = getattr(coro, '__qualname__', 'coroutine')

    def __call__(self) -> Any:
        return self.coro
