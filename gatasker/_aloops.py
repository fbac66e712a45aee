"""A supervisor's aloops and async job schedulers.

The supervisor holds one `ALoops`: the aloops by name, the default one, the
internal one workers use when no aloop is given (started on first need), and
the async job schedulers. Every method may be called from any thread.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable
from typing import Any, Protocol

from ._aloop import ALoop, request_stop, runs_here
from ._async_jobs import AsyncJob, AsyncJobScheduler
from ._bridge import Latch, allocate_lock
from ._constants import TT_COROUTINE
from ._logging import logger
from ._task import Task

INTERNAL_ALOOP = '__internal__'


class Named(Protocol):
    """The supervisor, as its aloops' log lines name it."""

    @property
    def id(self) -> object:
        """The supervisor's id."""


class ALoops:
    """The aloops and async job schedulers of *supervisor* (what an `ALoop` is made with).

    Any thread; `internal` and `stop_all` may block (cooperatively in a
    greenlet) while an aloop starts or stops; nothing else blocks.
    """

    def __init__(self, supervisor: Named) -> None:
        self._supervisor = supervisor
        self._aloops: dict[str, ALoop] = {}
        self.default: ALoop | None = None
        self._internal_lock = allocate_lock()  # held briefly, never across a wait
        self._internal_starting: Latch | None = None  # set once a start of it ended
        self._job_schedulers: dict[str, AsyncJobScheduler] = {}
        self._default_job_scheduler: AsyncJobScheduler | None = None

    # -- aloops ---------------------------------------------------------------

    def create(self, name: str, daemon: bool, start: bool, default: bool) -> ALoop | bool:
        """``create_aloop()``: see `TaskSupervisor.create_aloop`."""
        if not isinstance(name, str) or not name:
            raise TypeError(f'an aloop name must be a non-empty str, got {name!r}')
        if name in self._aloops:
            logger.error('supervisor %s: an aloop named %r exists already',
                         self._supervisor.id, name)
            return False
        aloop = ALoop(name, self._supervisor, daemon=daemon)
        self._aloops[name] = aloop
        if start:
            aloop.start()
        if default:
            self.default = aloop
        return aloop

    def get(self, name: str | None) -> ALoop | None:
        """The aloop named *name*, or the default one; None if there is none."""
        if name is None:
            return self.default
        return self._aloops.get(name)

    def resolve(self, loop: object) -> ALoop:
        """*loop* itself, or the aloop of that name; LookupError if there is none."""
        if isinstance(loop, ALoop):
            return loop
        if isinstance(loop, str) and loop in self._aloops:
            return self._aloops[loop]
        raise LookupError(f'no aloop {loop!r}')

    def pick(self, loop: object, internal: bool = False) -> ALoop:
        """The aloop for a coroutine: *loop*, else the default, else (for workers)
        the internal one, started once; RuntimeError when there is none or it
        does not run."""
        if loop is not None:
            aloop = self.resolve(loop)
        elif self.default is not None:
            aloop = self.default
        elif internal:
            aloop = self._internal()
        else:
            raise RuntimeError('no aloop: create one with create_aloop(name, default=True) '
                               'or pass loop=')
        if not aloop.is_active():
            raise RuntimeError(f'{aloop!r} is not running')
        return aloop

    def _internal(self) -> ALoop:
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
                    aloop = self._aloops[INTERNAL_ALOOP] = ALoop(INTERNAL_ALOOP, self._supervisor)
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

    def loop_of(self, task: Task[Any]) -> ALoop | None:
        """The aloop a coroutine task runs on (None for other tasks)."""
        if task.tt != TT_COROUTINE:
            return None
        try:
            return self.resolve(task.loop) if task.loop is not None else self.default
        except LookupError:
            return None

    def running_names(self) -> list[str]:
        """The names of the aloops that run."""
        return [name for name, aloop in self._aloops.items() if aloop.is_active()]

    # -- async jobs -------------------------------------------------------------

    def create_job_scheduler(self, name: str, aloop: ALoop | str | None, default: bool
                             ) -> AsyncJobScheduler | bool:
        """``create_async_job_scheduler()``: see `TaskSupervisor.create_async_job_scheduler`."""
        if name in self._job_schedulers:
            logger.error('supervisor %s: a job scheduler named %r exists already',
                         self._supervisor.id, name)
            return False
        scheduler = AsyncJobScheduler(name, self.pick(aloop))
        self._job_schedulers[name] = scheduler
        if default or self._default_job_scheduler is None:
            self._default_job_scheduler = scheduler
        return scheduler

    def job_scheduler(self, scheduler: AsyncJobScheduler | str | None) -> AsyncJobScheduler:
        """*scheduler*, the one of that name or the default one; LookupError or
        RuntimeError if there is none."""
        if isinstance(scheduler, AsyncJobScheduler):
            return scheduler
        if scheduler is None:
            if self._default_job_scheduler is None:
                raise RuntimeError('no async job scheduler: create_async_job_scheduler() first')
            return self._default_job_scheduler
        if scheduler in self._job_schedulers:
            return self._job_schedulers[scheduler]
        raise LookupError(f'no async job scheduler {scheduler!r}')

    def cancel_job(self, scheduler: AsyncJobScheduler | str | None, job: AsyncJob) -> bool:
        """``cancel_async_job()``: see `TaskSupervisor.cancel_async_job`."""
        if scheduler is None:
            for candidate in self._job_schedulers.values():
                if job in candidate.jobs:
                    return candidate.cancel_job(job)
            return False
        return self.job_scheduler(scheduler).cancel_job(job)

    def job_scheduler_names(self) -> list[str]:
        """The names of the async job schedulers."""
        return list(self._job_schedulers)

    # -- the supervisor's stop ------------------------------------------------------

    def note_callers(self, callers: set[int], ignored_loops: set[object],
                     tasks: list[Task[Any]]) -> None:
        """stop() from an aloop's thread: add that aloop to *callers* and
        *ignored_loops*, and the workers whose coroutine tasks (of *tasks*) run
        on it to *callers*. A coroutine (or callback) there blocks that loop,
        so neither the loop nor its coroutine tasks (nor workers waiting on
        them) can end first."""
        for aloop in list(self._aloops.values()):
            if runs_here(aloop) and aloop.is_active():
                callers.add(id(aloop))
                ignored_loops.add(aloop)
        if ignored_loops:
            for task in tasks:
                if task.worker is not None and self.loop_of(task) in ignored_loops:
                    callers.add(id(task.worker))

    def stop_all(self, callers: set[int], deadline: float | None) -> None:
        """Stop the job schedulers, then every aloop within *deadline* (a
        ``time.monotonic()`` value); an aloop whose thread is in stop() (its id
        in *callers*) is asked to stop and winds down afterwards. Blocks."""
        for scheduler in list(self._job_schedulers.values()):
            scheduler.stop()
        for aloop in list(self._aloops.values()):
            remaining = True if deadline is None else max(0.0, deadline - time.monotonic())
            if id(aloop) in callers:  # its thread is in stop(): it winds down afterwards
                request_stop(aloop, None if remaining is True else remaining, False)
                continue
            try:
                aloop.stop(wait=remaining)
            except Exception:
                logger.exception('stopping %r failed', aloop)

    def start_scheduler(self, loop: Callable[[], Any], scheduler: object) -> None:
        """Run the coroutine ``loop()`` of *scheduler* on the internal aloop; log
        why it could not start or why it failed."""
        try:
            future = self.pick(None, internal=True).submit(loop())
        except Exception:
            logger.exception('scheduler %r could not start', scheduler)
            return

        def report(f: concurrent.futures.Future[object]) -> None:
            if not f.cancelled() and f.exception() is not None:
                logger.error('scheduler %r failed', scheduler, exc_info=f.exception())

        future.add_done_callback(report)
