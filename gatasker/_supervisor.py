"""The task supervisor: the one public class that owns the tiers and runs tasks.

`TaskSupervisor` is a facade over its parts, each in a module of its own:

* `Lifecycle` (``_lifecycle.py``): its state and its runs. A run
  (`HubRun`, ``_run.py``) lives in one hub; one greenlet there, the mailbox,
  takes the messages posted to the run's inbox in order and alone changes
  the accounting, so it needs no locks. `StopSequence` (``_stop.py``) is the
  stop's steps.
* the ``Engine`` (``_engine.py``): the task path (put, admit, dispatch,
  done, cancel, resize), its policies in ``_policy_runtime.py``.
* `ActorRegistry` (the running actors and workers, and what they see of
  the supervisor), `ALoops` (aloops and async job schedulers),
  `ProcessConfig` (the process tier's sizes and backend), `Schedulers`,
  `Introspection` (``statistics()`` and ``get_info()``).
* `RunningSupervisors` (``_fork.py``): every running supervisor, stopped at
  exit and reset after a fork.

A public call validates its arguments in the caller's thread, then posts a
message to the run's inbox.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import os
import time
from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime
from types import SimpleNamespace
from typing import Any, TypeVar, overload

import gevent
from zope.interface import implementer

from ._actor_registry import ActorRegistry
from ._aloop import ALoop
from ._aloops import ALoops
from ._async_jobs import AsyncJob, AsyncJobScheduler
from ._constants import TASK_NORMAL, TT_COROUTINE, TT_GREENLET, TT_MP, TT_THREAD
from ._coroutines import CoroutineObject, start_on_aloop
from ._engine import Engine
from ._fork import RunningSupervisors
from ._ids import new_task_id
from ._info import Introspection
from ._inspect import to_jsonable
from ._interfaces import ISupervisor
from ._lifecycle import RUNNING, Lifecycle, default_mode
from ._logging import call_logged
from ._policies import TaskPolicy
from ._port import ActorHost, HubPort
from ._process_config import Backend, ProcessConfig
from ._process_pool import ProcessPool
from ._process_tier import ProcessTier
from ._put import check_put, policy_of
from ._run import HubRun
from ._schedulers import Scheduler, Schedulers, SyncScheduler
from ._statistics import SupervisorStatistics
from ._stop import StopSequence
from ._task import Task, current_task
from ._tier_config import TierConfig
from ._version import __version__

T = TypeVar('T')
_supervisor_ids = itertools.count(1)


@implementer(ISupervisor)
class TaskSupervisor:
    """Owns the execution tiers and runs tasks by priority with reserves.

    ``TaskSupervisor(supervisor_id=None, **pool_kwargs)``: *pool_kwargs* are
    the thread tier's sizes (``pool_size``, ``reserve_normal``,
    ``reserve_high``, ``min_size``, ``max_size``). Every method may be
    called from any OS thread and any greenlet.

    In a process whose ``threading`` is monkey-patched, `start` from
    the main thread runs the supervisor in that thread's hub (*embedded*
    mode); otherwise in a daemon OS thread named ``supervisor_<id>_hub``
    (*threaded* mode).

    It holds its parts: the run (`HubRun`, from `start` to the end of
    `stop`), the actor registry, the aloops, the process tier's
    configuration; the task path is the engine's.
    """

    #: Seconds the atexit hook waits for queued work of a forgotten supervisor.
    exit_timeout = 5.0

    def __init__(self, supervisor_id: object = None, *, _autostart: bool = False,
                 **pool_kwargs: int | str) -> None:
        self._processes = ProcessConfig()
        self._tiers = TierConfig(pool_kwargs, self._processes)
        if supervisor_id is None:
            supervisor_id = f'supervisor{next(_supervisor_ids)}'
        self.id = supervisor_id
        self.poll_delay = 0.1  # kept for atasker code; nothing depends on it
        self.timeout_warning: float | None = None
        self.timeout_warning_func: Callable[[Task[Any]], Any] | None = None
        self.timeout_critical: float | None = None
        self.timeout_critical_func: Callable[[Task[Any]], Any] | None = None
        self._schedulers = Schedulers()
        self._engine = Engine(self, prepare=self._prepare_task,
                              run_coroutine=self._run_coroutine_task,
                              check_quiet=self._check_quiet, maybe_finish=self._maybe_finish,
                              sizes=self._tiers.resize_args)
        self._actors = ActorRegistry(self._running_port, self._restarting, self.is_started,
                                     lambda: self.default_tt, self._put_worker_task,
                                     self._run_coroutine_executor)
        self._aloops = ALoops(self)
        self._stopping = StopSequence(self, self._engine, self._actors, self._aloops,
                                      self._schedulers)
        self._life = Lifecycle(self, self._open_tiers, self._engine.accept,
                               self._engine.complete_late, self._stopping, self._on_started,
                               self._on_stopped, _running.hub_thread)
        self._life.autostart = _autostart  # the default supervisor starts on first use
        self._introspection = Introspection(
            self, self._life, self._engine, self._tiers.limits, lambda: self._tiers.thread,
            self._actors, self._aloops, self._processes, self._schedulers)

    def __repr__(self) -> str:
        return f'<TaskSupervisor {self.id!r} {self._life.state}>'

    def __enter__(self) -> TaskSupervisor:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- sizes -------------------------------------------------------------

    def set_thread_pool(self, **kwargs: int | str) -> None:
        """Set the thread tier's sizes; keys not given keep their value.

        Takes effect at once when running; running tasks are never stopped.

        Args:
            **kwargs: ``pool_size``, ``reserve_normal``, ``reserve_high``,
                ``min_size`` (or ``'max'``) and ``max_size`` OS threads.

        Raises:
            TypeError: An unknown key or a size that is not an int.
            ValueError: A bad size. Nothing changes then.

        Any thread; never blocks.
        """
        self._tiers.set_thread(kwargs)
        self._post_if_running(self._engine.on_resize, TT_THREAD)

    def set_greenlet_pool(self, **kwargs: int) -> None:
        """Set the greenlet tier's sizes; keys not given keep their value.

        Args:
            **kwargs: ``pool_size``, ``reserve_normal``, ``reserve_high``.

        Raises:
            TypeError: An unknown key or a size that is not an int.
            ValueError: A negative size. Nothing changes then.

        Any thread; never blocks.
        """
        self._tiers.set_greenlet(kwargs)
        self._post_if_running(self._engine.on_resize, TT_GREENLET)

    def set_mp_pool(self, *, executor: object = None, **kwargs: int) -> None:
        """Set the process tier's sizes and optionally the executor that runs its tasks.

        Keys not given keep their value. Without an executor and without
        `create_mp_pool`, the built-in pool runs ``pool_size + reserve_normal
        + reserve_high`` processes, started in the background once the
        supervisor runs (as atasker's pool was created here).

        Args:
            executor: any ``concurrent.futures.Executor`` (or a
                ``multiprocessing`` pool) to run TT_MP tasks; the supervisor
                never shuts it down.
            **kwargs: ``pool_size``, ``reserve_normal``, ``reserve_high``.

        Raises:
            TypeError: An unknown key, a size that is not an int or an
                executor that is not one.
            ValueError: A negative size. Nothing changes then.

        Before or after `start`; any thread; never blocks.
        """
        backend = self._processes.configure(executor, kwargs, running=self.mode is not None)
        if backend is not None:
            self._post_if_running(self._on_mp_backend, backend)
        self._post_if_running(self._engine.on_resize, TT_MP)

    def create_mp_pool(self, processes: int | None = None, **kwargs: object) -> ProcessPool:
        """Make gatasker's built-in process pool the process tier's backend and return it.

        Unless `set_mp_pool` set sizes, the tier's ``pool_size`` becomes
        *processes*. The processes start in the background once the
        supervisor runs, so the first task does not wait for one.

        Args:
            processes: how many worker processes; the CPU count by default.
            **kwargs: ``initializer``, ``initargs``, ``maxtasksperchild``,
                ``start_method``, ``preload`` (modules each process imports
                as it starts): see `ProcessPool`.

        Returns:
            The new pool.

        Raises:
            TypeError: An unknown keyword, or a bad value for `ProcessPool`.
            ValueError: A bad value for `ProcessPool`. Nothing changes then.

        Before or after `start`; any thread; never blocks.
        """
        pool = self._processes.create_pool(processes, kwargs)
        self._post_if_running(self._on_mp_backend, pool)
        self._post_if_running(self._engine.on_resize, TT_MP)
        return pool

    @property
    def mp_pool(self) -> Any:
        """What runs TT_MP tasks: the built-in `ProcessPool` or the executor set.

        Assign any ``concurrent.futures.Executor`` (or a ``multiprocessing``
        pool, as in atasker) to run them there; None restores a built-in pool.
        The supervisor never shuts down an executor it was given. Any thread;
        never blocks.
        """
        return self._processes.pool

    @mp_pool.setter
    def mp_pool(self, pool: object) -> None:
        self._post_if_running(self._on_mp_backend, self._processes.replace(pool))

    def _on_mp_backend(self, run: HubRun, backend: Backend) -> None:
        tier = run.tiers.get(TT_MP)
        if isinstance(tier, ProcessTier):
            tier.set_backend(backend)

    # -- life cycle ----------------------------------------------------------

    @property
    def mode(self) -> str | None:
        """``'embedded'`` or ``'threaded'`` while running, else None. Any thread."""
        return self._life.mode

    @property
    def default_tt(self) -> int:
        """TT_GREENLET in embedded mode, TT_THREAD in threaded mode (also before a
        start: the mode `start` would pick). Any thread."""
        return TT_GREENLET if (self.mode or default_mode()) == 'embedded' else TT_THREAD

    def is_started(self) -> bool:
        """True while the supervisor accepts tasks. Any thread; never blocks."""
        return self._life.state == RUNNING

    @property
    def active(self) -> bool:
        """True while the supervisor accepts tasks (atasker's name). Any thread."""
        return self._life.state == RUNNING

    def start(self, mode: str | None = None) -> bool:
        """Start the supervisor; return False if it is already running.

        Args:
            mode: ``'embedded'`` (run in the calling thread's hub) or
                ``'threaded'`` (run in an own OS thread); by default embedded
                when ``threading`` is monkey-patched and the caller is the
                main thread. (Another OS thread's hub runs only while that
                thread waits in gevent, and may end with it.)

        Raises:
            ValueError: an unknown *mode*.

        Any thread; in threaded mode, blocks the caller until the hub thread is up.
        """
        return self._life.start(mode)

    def _open_tiers(self, run: HubRun) -> None:
        self._tiers.open_tiers(run, self._done_of)

    def _done_of(self, run: HubRun) -> Callable[[Task[Any], bool, Any], None]:
        return functools.partial(self._engine.task_done, run)

    def _on_started(self) -> None:
        _running.add(self, self._after_fork_in_child)
        self._actors.start_forked()

    def _on_stopped(self) -> None:
        _running.discard(self)

    def _post(self, run: HubRun, handler: Callable[..., object], *args: object) -> None:
        run.inbox.put((handler, args))

    def _post_if_running(self, handler: Callable[..., object], *args: object) -> None:
        self._life.post_if_running(handler, *args)

    def _running_port(self) -> HubPort:
        return self._life.running_run().port

    def _restarting(self) -> bool:
        return self._life.restart_on_use

    # The tests read the current run.
    @property
    def _run(self) -> HubRun | None:
        return self._life.run

    def watch_hub(self, threshold: float | None = 0.1) -> None:
        """Watch the supervisor's hub for greenlets that block it.

        When a callback posted to the hub has not run within *threshold*
        seconds, the stack the hub's thread runs is logged once per incident
        as a warning on the ``gatasker`` logger; ``statistics().hub`` has the
        hub's lag (p99, max) and the incident count. ``None`` stops
        watching. Kept across restarts. Any thread; never blocks.
        """
        self._life.watch(threshold)

    def serve_inspect(self, address: str | tuple[str, int] | os.PathLike[str]
                      ) -> str | tuple[str, int] | None:
        """Open the endpoint that ``python -m gatasker inspect ADDRESS`` reads.

        A daemon OS thread answers each connection with one JSON line of
        `statistics` of every running supervisor of the process, also while
        the hub is blocked. Closed when the supervisor stops; a second call
        replaces the endpoint.

        Args:
            address: ``('127.0.0.1', port)`` or ``'127.0.0.1:port'``
                (loopback only; port 0 picks a free port) or the path of a
                unix socket.

        Returns:
            The bound address (``(host, port)`` or the path); None in a
            process-pool worker while it imports the main script
            (module-level code runs there), where it does nothing.

        Raises:
            SupervisorNotRunning: not running.
            TypeError: A bad address.
            ValueError: A bad address, or not loopback.
            OSError: it cannot bind (nothing changes then).

        Any thread; blocks only to bind.
        """
        return self._life.serve_inspect(address, self._inspect_snapshot)

    def _inspect_snapshot(self) -> dict[str, Any]:
        supervisors = [self] + [sup for sup in running_supervisors() if sup is not self]
        return {'version': __version__, 'pid': os.getpid(), 'time': time.time(),
                'supervisors': [to_jsonable(sup.statistics()) for sup in supervisors]}

    def block(self) -> None:
        """Return when the supervisor stops (at once when it does not run).

        Any thread; blocks (cooperatively in a greenlet).
        """
        self._life.block()

    def stop(self, wait: bool | float = True, stop_schedulers: bool = True,
             cancel_tasks: bool = False) -> bool:
        """Stop the supervisor; return False if it was not running.

        Stops workers and schedulers (if *stop_schedulers*), lets queued
        tasks run to completion, stops aloops, then the tiers. Delayed tasks
        are canceled.

        Args:
            wait: True waits for ever; a number bounds the whole stop in
                seconds: tasks not started by then are canceled. False
                cancels every task that has not started and does not wait
                for running ones.
            stop_schedulers: stop the workers and schedulers first.
            cancel_tasks: as ``wait=False``, and also cancel running
                greenlet, process and coroutine tasks (and thread tasks that
                call ``checkpoint()``) as `Task.cancel` does.

        Raises:
            ValueError: *wait* is not True, False or a non-negative number.

        Any thread; blocks the caller (cooperatively in a greenlet) until done.
        """
        return self._life.stop(wait, stop_schedulers, cancel_tasks)

    # The engine calls these two at a task's end while the run stops.
    def _check_quiet(self, run: HubRun) -> None:
        self._stopping.check_quiet(run)

    def _maybe_finish(self, run: HubRun) -> None:
        self._stopping.maybe_finish(run)

    def _check_coroutine_loop(self, loop: object) -> None:
        """Raise RuntimeError at the call when no aloop can run a coroutine task."""
        self._aloops.pick(loop)

    def _run_coroutine_task(self, task: Task[Any]) -> None:
        """Hand a TT_COROUTINE task to its aloop (in the supervisor's greenlet)."""
        run = task._run
        assert isinstance(run, HubRun)
        start_on_aloop(
            task, functools.partial(self._aloops.pick, task.loop, task.worker is not None),
            functools.partial(self._engine.task_done, run),
            functools.partial(self._engine.policies.arm_limits, run, task))

    # -- tasks ---------------------------------------------------------------

    # A coroutine function's task gives what its coroutine returns: that overload comes first.
    @overload
    def put_task(
        self, target: Callable[..., Coroutine[Any, Any, T]], args: Iterable[Any] = (),
        kwargs: dict[str, Any] | None = None, callback: Callable[[Any], Any] | None = None,
        priority: int = TASK_NORMAL, delay: float | None = None, tt: int = TT_THREAD,
        task_id: object = None, worker: object = None, name: str | None = None,
        loop: object = None,
        _pass_task_id: bool = True, timeout: float | None = None,
        soft_timeout: float | None = None, retries: int = 0,
        retry_backoff: tuple[float, float] | None = None,
        retry_on: tuple[type[BaseException], ...] | None = None, eta: datetime | None = None,
        _policy: TaskPolicy | None = None,
    ) -> Task[T]: ...

    @overload
    def put_task(
        self, target: Callable[..., T], args: Iterable[Any] = (),
        kwargs: dict[str, Any] | None = None, callback: Callable[[Any], Any] | None = None,
        priority: int = TASK_NORMAL, delay: float | None = None, tt: int = TT_THREAD,
        task_id: object = None, worker: object = None, name: str | None = None,
        loop: object = None,
        _pass_task_id: bool = True, timeout: float | None = None,
        soft_timeout: float | None = None, retries: int = 0,
        retry_backoff: tuple[float, float] | None = None,
        retry_on: tuple[type[BaseException], ...] | None = None, eta: datetime | None = None,
        _policy: TaskPolicy | None = None,
    ) -> Task[T]: ...

    def put_task(
        self,
        target: Callable[..., Any],
        args: Iterable[Any] = (),
        kwargs: dict[str, Any] | None = None,
        callback: Callable[[Any], Any] | None = None,
        priority: int = TASK_NORMAL,
        delay: float | None = None,
        tt: int = TT_THREAD,
        task_id: object = None,
        worker: object = None,
        name: str | None = None,
        loop: object = None,
        _pass_task_id: bool = True,
        timeout: float | None = None,
        soft_timeout: float | None = None,
        retries: int = 0,
        retry_backoff: tuple[float, float] | None = None,
        retry_on: tuple[type[BaseException], ...] | None = None,
        eta: datetime | None = None,
        _policy: TaskPolicy | None = None,
    ) -> Task[Any]:
        """Queue ``target(*args, **kwargs, _task_id=<id>)`` and return its Task.

        The task ends by itself when the target returns or raises; limits,
        retries and *eta*: see ``docs/policies.md``. Any thread; never blocks.

        Args:
            target: What to run (a coroutine function for ``TT_COROUTINE``).
            args: Its positional arguments.
            kwargs: Its keyword arguments.
            callback: Called with the result on success, in the supervisor's hub.
            priority: ``TASK_CRITICAL``, ``TASK_HIGH``, ``TASK_NORMAL`` or ``TASK_LOW``.
            delay: Seconds to wait outside the pool before queuing.
            tt: ``TT_THREAD``, ``TT_GREENLET``, ``TT_MP`` or ``TT_COROUTINE``.
            task_id: The task's id; a new one when None.
            worker: The worker the task runs for, if any.
            name: The task's name, for logs and statistics.
            loop: The aloop (or its name) of a coroutine task; None: the default.
            timeout: A hard limit on each run, in seconds.
            soft_timeout: A soft limit on each run: ``TaskTimeout`` raised in it.
            retries: How many times a failed run is run again.
            retry_backoff: ``(initial, maximum)`` seconds between retries.
            retry_on: The exception classes that are retried (default: all).
            eta: When to queue it: an aware ``datetime``, or a naive local one.

        Returns:
            Task: The queued task.

        Raises:
            SupervisorNotRunning: The supervisor is stopped or stopping.
            TypeError: A bad argument; nothing is queued then.
            ValueError: A bad argument; nothing is queued then.
        """
        args, delay = check_put(target, args, kwargs, callback, worker, priority, tt, delay, eta)
        policy = policy_of(_policy, timeout, soft_timeout, retries, retry_backoff, retry_on)
        run = self._life.running_run()
        if tt == TT_COROUTINE:
            self._check_coroutine_loop(loop)
        if task_id is None:
            task_id = new_task_id()
        elif self._engine.live_task(task_id) is not None:
            raise ValueError(f'a task with id {task_id!r} is already queued or running')
        task_kwargs = dict(kwargs) if kwargs else {}
        if _pass_task_id:
            task_kwargs['_task_id'] = task_id
        task: Task[Any] = Task(self._engine, task_id, tt, target, args, task_kwargs, callback,
                               priority, delay, worker, name, loop, policy)
        return self._engine.submit(run, task)

    def _put_worker_task(self, worker: object, target: Callable[..., Any], args: tuple[Any, ...],
                         kwargs: dict[str, Any], priority: int, tt: int,
                         policy: TaskPolicy | None = None) -> Task[Any]:
        """``put_task`` for a run of *worker*, whose arguments were checked when it
        started; a greenlet-tier run that may start at once runs in the calling
        (worker's) greenlet and is done when this returns."""
        run = self._life.running_run()
        task_id = kwargs['_task_id'] = new_task_id()
        task: Task[Any] = Task(self._engine, task_id, tt, target, args, kwargs, None, priority,
                               None, worker, None, None, policy)
        return self._engine.submit(run, task, here=tt == TT_GREENLET)

    def _prepare_task(self, task: Task[Any]) -> None:
        """Check a task in the caller, before it is queued (may raise)."""
        self._processes.check_task(task)

    def mark_task_completed(self, task: Task[Any] | None = None, task_id: object = None,
                            **_: object) -> bool:
        """Kept for atasker code: tasks complete by themselves. Returns True.

        Idempotent. With neither argument, refers to the task running in the
        caller.

        Raises:
            LookupError: an id this supervisor does not know, or no argument
                outside a task.

        Any thread; never blocks.
        """
        if task is None and task_id is None:
            task = current_task()
            if task is None:
                raise LookupError('mark_task_completed() outside a task needs task or task_id')
        if task is not None:
            return True
        if task_id in self._engine.tasks or task_id in self._engine.recent_ids:
            return True
        raise LookupError(f'no task with id {task_id!r}')

    def get_task(self, task_id: object) -> Task[Any] | None:
        """The queued, delayed or running task with that id, else None.

        Any thread; never blocks.
        """
        return self._engine.live_task(task_id)

    def get_tasks(self) -> dict[Any, Task[Any]]:
        """Every queued, delayed or running task: a new dict ``id -> Task``, as
        atasker's. Any thread; never blocks."""
        return self._engine.live_tasks()

    # -- aloops and async jobs ------------------------------------------------

    @property
    def default_aloop(self) -> ALoop | None:
        """The aloop coroutine tasks and async workers use when given none, or None.

        Settable (an `ALoop` or None); see also `set_default_aloop`. Any thread.
        """
        return self._aloops.default

    @default_aloop.setter
    def default_aloop(self, aloop: ALoop | None) -> None:
        self._aloops.default = aloop

    def create_aloop(self, name: str, daemon: bool = False, start: bool = True,
                     default: bool = False) -> ALoop | bool:
        """Create an aloop (an asyncio loop in its own OS thread) named *name*.

        Args:
            name: a non-empty str, unique in this supervisor.
            daemon: run the loop's thread as a daemon thread.
            start: start the loop at once.
            default: make it the default aloop.

        Returns:
            The new `ALoop`; False (an error is logged) if the name is taken.

        Raises:
            TypeError: *name* is not a non-empty str.

        Any thread; blocks until the loop's thread is up when *start*.
        """
        return self._aloops.create(name, daemon, start, default)

    def get_aloop(self, name: str | None = None) -> ALoop | None:
        """The aloop named *name*, or the default aloop; None if there is none.

        Any thread; never blocks.
        """
        return self._aloops.get(name)

    def set_default_aloop(self, aloop: ALoop | str) -> None:
        """Make *aloop* (an `ALoop` or a name) the default one.

        Raises:
            LookupError: no aloop of that name.

        Any thread; never blocks.
        """
        self._aloops.default = self._aloops.resolve(aloop)

    def start_aloop(self, name: str) -> bool:
        """Start the aloop *name*; False if it runs already.

        Raises:
            LookupError: no aloop of that name.

        Any thread; blocks until the loop's thread is up.
        """
        return self._aloops.resolve(name).start()

    def stop_aloop(self, name: str, wait: bool | float = True, cancel_tasks: bool = False) -> bool:
        """Stop the aloop *name* (see `ALoop.stop`); False if it was not running.

        Raises:
            LookupError: no aloop of that name.

        Any thread; blocks (cooperatively in a greenlet) up to *wait*.
        """
        return self._aloops.resolve(name).stop(wait=wait, cancel_tasks=cancel_tasks)

    def create_async_job_scheduler(self, name: str, aloop: ALoop | str | None = None,
                                   start: bool = True, default: bool = False
                                   ) -> AsyncJobScheduler | bool:
        """Create a job scheduler named *name* on *aloop* (default: the default aloop).

        The first one created (or one created with ``default=True``) is the
        default job scheduler. *start* is kept for atasker code: a scheduler
        runs its jobs once they are created.

        Returns:
            The new `AsyncJobScheduler`; False (an error is logged) if the
            name is taken.

        Raises:
            LookupError: No aloop of that name.
            RuntimeError: There is no aloop, or it does not run.

        Any thread; never blocks.
        """
        return self._aloops.create_job_scheduler(name, aloop, default)

    def create_async_job(self, scheduler: AsyncJobScheduler | str | None = None, *,
                         target: Callable[..., object], args: tuple[object, ...] = (),
                         kwargs: dict[str, object] | None = None, interval: float | None = None,
                         timer: float = 0, number: int = 0) -> AsyncJob:
        """Run ``target(*args, **kwargs)`` every *interval* seconds on a fixed grid,
        after *timer* seconds, *number* times (0: until canceled).

        Args:
            scheduler: a job scheduler or its name; the default one if None.

        Returns:
            The job, for `cancel_async_job`.

        Raises:
            LookupError: No scheduler of that name.
            RuntimeError: No scheduler given and no default one, or its aloop
                does not run.
            TypeError: A bad *target*, *interval* or *timer*.
            ValueError: A bad *interval*, *timer* or *number*.

        Any thread; never blocks.
        """
        return self._aloops.job_scheduler(scheduler).create_job(target, args, kwargs, interval,
                                                                timer, number)

    def cancel_async_job(self, scheduler: AsyncJobScheduler | str | None = None, *,
                         job: AsyncJob) -> bool:
        """Stop further runs of *job*; False if it is not (or no longer) scheduled.

        Args:
            scheduler: the job's scheduler or its name; None looks in every one.

        Any thread; never blocks.
        """
        return self._aloops.cancel_job(scheduler, job)

    def _put_coroutine(self, coro: Coroutine[Any, Any, T], aloop: ALoop) -> Task[T]:
        """``aloop.background_task(coro)``: a registered task for a coroutine object."""
        return self.put_task(CoroutineObject(coro), tt=TT_COROUTINE, loop=aloop,
                             priority=TASK_NORMAL, _pass_task_id=False)

    def _run_coroutine_executor(self, coro_fn: Callable[..., Any], args: tuple[Any, ...],
                                kwargs: dict[str, Any], loop: object,
                                policy: TaskPolicy | None = None) -> Task[Any]:
        """A run of an async worker's executor: a coroutine task on its aloop (the
        internal one when neither it nor the supervisor has one)."""
        aloop = self._aloops.pick(loop, internal=True)
        return self.put_task(coro_fn, args, kwargs, tt=TT_COROUTINE, loop=aloop,
                             worker=kwargs.get('_worker'), _policy=policy)

    # -- schedulers ------------------------------------------------------------

    def register_scheduler(self, scheduler: Scheduler) -> bool:
        """Run ``scheduler.loop()`` and call ``scheduler.stop()`` when stopping.

        A plain ``loop`` runs as a greenlet in the supervisor's hub; a
        coroutine function ``loop`` on the default aloop. Returns True.

        Raises:
            TypeError: *scheduler* lacks a callable ``loop()`` or ``stop()``.
            SupervisorNotRunning: the supervisor does not run.

        Any thread; never blocks.
        """
        checked = self._schedulers.check(scheduler)
        run = self._life.running_run()
        self._schedulers.add(checked)
        self._post(run, self._start_scheduler, checked)
        return True

    def _start_scheduler(self, scheduler: Scheduler) -> None:
        if inspect.iscoroutinefunction(scheduler.loop):
            self._aloops.start_scheduler(scheduler.loop, scheduler)
        else:
            gevent.spawn(call_logged, 'scheduler %r', scheduler.loop)

    def unregister_scheduler(self, scheduler: object) -> bool:
        """Forget a scheduler (it is not stopped); False if it was not registered.
        Any thread; never blocks."""
        return self._schedulers.discard(scheduler)

    def register_sync_scheduler(self, scheduler: SyncScheduler) -> bool:
        """Record *scheduler* so that `stop` calls its ``stop()``; returns True.

        Raises:
            TypeError: *scheduler* lacks a callable ``stop()``.

        Any thread; never blocks.
        """
        self._schedulers.add_sync(scheduler)
        return True

    def unregister_sync_scheduler(self, scheduler: object) -> bool:
        """Forget a synchronous scheduler; False if it was not registered.
        Any thread; never blocks."""
        return self._schedulers.discard_sync(scheduler)

    # -- fork ------------------------------------------------------------------

    def _after_fork_in_child(self) -> None:
        """In a child just forked, where only the forking thread runs: drop the parent's run.

        Nothing of the parent's run can work here: in threaded mode its hub
        thread is gone, in either mode its pool threads, and its queued tasks
        and messages are the parent's to run. The supervisor is stopped; if it
        was running, its first use here (or `start`) starts it afresh,
        in the child's mode, with the actors and workers that ran in the parent.
        """
        self._life.after_fork_in_child()
        tasks = list(self._engine.tasks.values())
        self._engine.reset()
        for task in tasks:  # whoever waits for them here must not wait for ever
            call_logged('dropping %r after a fork', task._drop_after_fork)
        # The parent's actors and workers start again with the supervisor here;
        # what their mailboxes held stays the parent's.
        self._actors.after_fork_in_child()
        self._processes.after_fork_in_child()

    # -- introspection ---------------------------------------------------------

    def get_info(self) -> SimpleNamespace:
        """A snapshot of the supervisor as atasker gave it: state, tier sizes,
        running and queued counts, schedulers, actors, aloops, process pool.

        The figures are those of `statistics`, under atasker's names
        (``thread_pool_size``, ``greenlet_tasks_count``, ``mp_queued`` ...).
        Any thread; never blocks; the counts are read without stopping the
        supervisor.
        """
        return self._introspection.info(self.default_tt, self.poll_delay)

    def statistics(self) -> SupervisorStatistics:
        """A snapshot of the supervisor.

        Per tier and priority the running and queued tasks, counters of
        completed, failed, cancelled and timed-out tasks and histograms of
        queue wait and run time; per actor and worker the mailbox depth and
        handled/failed counts; the process pool; the hub watchdog's lag and
        incidents.

        Returns:
            A frozen `SupervisorStatistics`.

        Any thread; never blocks (counts are read without locking, so a
        snapshot taken while tasks move may be off by the tasks in flight).
        """
        return self._introspection.statistics()

def actor_host(sup: TaskSupervisor) -> ActorHost:
    """What the actors and workers of *sup* use of it. Any thread; never blocks."""
    return sup._actors

_running: RunningSupervisors[TaskSupervisor] = RunningSupervisors()

def running_supervisors() -> list[TaskSupervisor]:
    """Every supervisor of the process that runs now (started, not yet stopped).

    What ``python -m gatasker inspect`` and the contrib exporters report.
    Any thread; never blocks.
    """
    return _running.supervisors()
