"""The task supervisor: the one public class that owns the tiers and runs tasks.

`TaskSupervisor` is the facade: each public method is defined here, checks
what it can in the caller and calls one part. `SupervisorCore` (``_core.py``)
builds the parts and wires them; the parts are, each in a module of its own:

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

import itertools
import os
from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime
from types import SimpleNamespace
from typing import Any, TypeVar, overload

from zope.interface import implementer

from ._aloop import ALoop
from ._async_jobs import AsyncJob, AsyncJobScheduler
from ._constants import TASK_NORMAL, TT_THREAD
from ._core import SupervisorCore
from ._fork import RunningSupervisors
from ._interfaces import ISupervisor
from ._policies import TaskPolicy
from ._port import ActorHost
from ._process_pool import ProcessPool
from ._schedulers import Scheduler, SyncScheduler
from ._statistics import SupervisorStatistics
from ._task import Task

T = TypeVar('T')
_supervisor_ids = itertools.count(1)


@implementer(ISupervisor)
class TaskSupervisor:
    """Owns the execution tiers and runs tasks by priority with reserves.

    ``TaskSupervisor(supervisor_id=None, **pool_kwargs)``: *pool_kwargs* are
    the thread tier's sizes, as `set_thread_pool` takes them. It runs in the
    hub of the thread that starts it (*embedded* mode) or in a daemon OS
    thread of its own (*threaded* mode): see the "Runtime modes" page. Every
    method may be called from any OS thread and any greenlet.

    Attributes:
        id: The constructor's *supervisor_id*, else ``'supervisor<n>'``.
        timeout_warning: Seconds a task may wait to start before a warning is
            logged (once) and ``timeout_warning_func(task)`` called; None: never.
        timeout_warning_func: Called with such a task in a greenlet of the hub.
        timeout_critical: As *timeout_warning*, logged as an error.
        timeout_critical_func: As *timeout_warning_func*, for *timeout_critical*.
        poll_delay: Kept for atasker code; unused.
        exit_timeout: Seconds the exit hook waits for a never-stopped supervisor's work.
    """

    exit_timeout = 5.0

    def __init__(self, supervisor_id: object = None, *, _autostart: bool = False,
                 **pool_kwargs: int | str) -> None:
        self._core = core = SupervisorCore(self, pool_kwargs, _running, _autostart)
        self._life, self._engine, self._tiers = core.life, core.engine, core.tiers
        self._processes, self._aloops, self._actors = core.processes, core.aloops, core.actors
        self._schedulers, self._introspection = core.schedulers, core.introspection
        self.id = f'supervisor{next(_supervisor_ids)}' if supervisor_id is None else supervisor_id
        self.poll_delay = 0.1  # kept for atasker code; nothing depends on it
        self.timeout_warning: float | None = None
        self.timeout_warning_func: Callable[[Task[Any]], Any] | None = None
        self.timeout_critical: float | None = None
        self.timeout_critical_func: Callable[[Task[Any]], Any] | None = None

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
        Any thread; never blocks.

        Args:
            **kwargs: ``pool_size``, ``reserve_normal``, ``reserve_high``,
                ``min_size`` (or ``'max'``) and ``max_size`` OS threads.

        Raises:
            TypeError: An unknown key or a size that is not an int.
            ValueError: A bad size. Nothing changes then."""
        self._tiers.thread.configure(kwargs, 'set_thread_pool')

    def set_greenlet_pool(self, **kwargs: int) -> None:
        """Set the greenlet tier's sizes; keys not given keep their value.

        Any thread; never blocks.

        Args:
            **kwargs: ``pool_size``, ``reserve_normal``, ``reserve_high``.

        Raises:
            TypeError: An unknown key or a size that is not an int.
            ValueError: A negative size. Nothing changes then."""
        self._tiers.greenlet.configure(kwargs, 'set_greenlet_pool')

    def set_mp_pool(self, *, executor: object = None, **kwargs: int) -> None:
        """Set the process tier's sizes and optionally the executor that runs its tasks.

        Keys not given keep their value; see "The process tier". Any thread,
        before or after `start`; never blocks.

        Args:
            executor: any ``concurrent.futures.Executor`` (or a
                ``multiprocessing`` pool) to run TT_MP tasks; never shut down.
            **kwargs: ``pool_size``, ``reserve_normal``, ``reserve_high``.

        Raises:
            TypeError: An unknown key, a size that is not an int or an
                executor that is not one.
            ValueError: A negative size. Nothing changes then."""
        limits, backend = self._processes.configure(executor, kwargs, self.mode is not None)
        if backend is not None:
            self._life.post_if_running(self._core.on_mp_backend, backend)
        self._tiers.mp.limits = limits  # resizes the running tier

    def create_mp_pool(self, processes: int | None = None, **kwargs: object) -> ProcessPool:
        """Make gatasker's built-in process pool the process tier's backend.

        Unless `set_mp_pool` set sizes, the tier's ``pool_size`` becomes
        *processes*. Any thread, before or after `start`; never blocks.

        Args:
            processes: how many worker processes; the CPU count by default.
            **kwargs: ``initializer``, ``initargs``, ``maxtasksperchild``,
                ``start_method``, ``preload``: see `ProcessPool`.

        Returns:
            The new pool; its processes start in the background once running.

        Raises:
            TypeError: An unknown keyword, or a bad value for `ProcessPool`.
            ValueError: A bad value for `ProcessPool`. Nothing changes then."""
        pool, limits = self._processes.create_pool(processes, kwargs)
        self._life.post_if_running(self._core.on_mp_backend, pool)
        self._tiers.mp.limits = limits  # resizes the running tier
        return pool

    @property
    def mp_pool(self) -> Any:
        """What runs TT_MP tasks: the built-in `ProcessPool` or the executor set.

        Settable to any ``concurrent.futures.Executor`` (or a ``multiprocessing``
        pool); None restores a built-in pool. Any thread; never blocks."""
        return self._processes.pool

    @mp_pool.setter
    def mp_pool(self, pool: object) -> None:
        self._life.post_if_running(self._core.on_mp_backend, self._processes.replace(pool))

    # -- life cycle ----------------------------------------------------------
    @property
    def mode(self) -> str | None:
        """``'embedded'`` or ``'threaded'`` while running, else None. Any thread."""
        return self._life.mode

    @property
    def default_tt(self) -> int:
        """TT_GREENLET in embedded mode, TT_THREAD in threaded mode (before a
        start: the mode `start` would pick). Any thread."""
        return self._core.default_tt()

    def is_started(self) -> bool:
        """True while the supervisor accepts tasks. Any thread; never blocks."""
        return self._core.is_started()

    @property
    def active(self) -> bool:
        """True while the supervisor accepts tasks (atasker's name). Any thread."""
        return self._core.is_started()

    def start(self, mode: str | None = None) -> bool:
        """Start the supervisor; return False if it is already running.

        Any thread; in threaded mode, blocks until the hub thread is up.

        Args:
            mode: ``'embedded'`` (in the calling thread's hub) or
                ``'threaded'`` (in an own OS thread); by default embedded when
                ``threading`` is monkey-patched and the caller is the main thread.

        Raises:
            ValueError: an unknown *mode*."""
        return self._life.start(mode)

    def watch_hub(self, threshold: float | None = 0.1) -> None:
        """Log the stack that blocks the supervisor's hub for over *threshold* seconds.

        ``statistics().hub`` has the lag and the incidents; see "Observability".
        Kept across restarts. Any thread; never blocks.

        Args:
            threshold: seconds; None stops watching.

        Raises:
            TypeError: *threshold* is not a number or None.
            ValueError: *threshold* is not positive and finite."""
        self._life.watch(threshold)

    def serve_inspect(self, address: str | tuple[str, int] | os.PathLike[str]
                      ) -> str | tuple[str, int] | None:
        """Open the endpoint that ``python -m gatasker inspect ADDRESS`` reads.

        See "Observability"; closed when the supervisor stops. Any thread;
        blocks only to bind.

        Args:
            address: ``('127.0.0.1', port)``, ``'127.0.0.1:port'`` (loopback
                only; port 0 picks one) or the path of a unix socket.

        Returns:
            The bound address; None in a process-pool worker importing the main script.

        Raises:
            SupervisorNotRunning: not running.
            TypeError: A bad address.
            ValueError: A bad address, or not loopback.
            OSError: it cannot bind (nothing changes then)."""
        return self._life.serve_inspect(address, self._core.inspect_snapshot)

    def block(self) -> None:
        """Return when the supervisor stops (at once when it does not run).
        Any thread; blocks (cooperatively in a greenlet)."""
        self._life.block()

    def stop(self, wait: bool | float = True, stop_schedulers: bool = True,
             cancel_tasks: bool = False) -> bool:
        """Stop workers and schedulers, run queued tasks, stop aloops, then the tiers.

        Delayed tasks are canceled; a stop from inside: see "Guarantees". Any
        thread; blocks (cooperatively in a greenlet) until done.

        Args:
            wait: True waits for ever; seconds bound the whole stop (what has
                not started by then is canceled); False cancels what has not
                started and does not wait for running tasks.
            stop_schedulers: stop the workers and schedulers first.
            cancel_tasks: as ``wait=False``, and cancel running tasks as
                `Task.cancel` does.

        Returns:
            False if it was not running.

        Raises:
            ValueError: *wait* is not True, False or a non-negative number."""
        return self._life.stop(wait, stop_schedulers, cancel_tasks)

    # -- tasks ---------------------------------------------------------------
    # A coroutine function's task gives what its coroutine returns: that overload comes first.
    @overload
    def put_task(
        self, target: Callable[..., Coroutine[Any, Any, T]], args: Iterable[Any] = (),
        kwargs: dict[str, Any] | None = None, callback: Callable[[Any], Any] | None = None,
        priority: int = TASK_NORMAL, delay: float | None = None, tt: int = TT_THREAD,
        task_id: object = None, worker: object = None, name: str | None = None, loop: object = None,
        _pass_task_id: bool = True, timeout: float | None = None, soft_timeout: float | None = None,
        retries: int = 0, retry_backoff: tuple[float, float] | None = None,
        retry_on: tuple[type[BaseException], ...] | None = None, eta: datetime | None = None,
        _policy: TaskPolicy | None = None) -> Task[T]: ...

    @overload
    def put_task(
        self, target: Callable[..., T], args: Iterable[Any] = (),
        kwargs: dict[str, Any] | None = None, callback: Callable[[Any], Any] | None = None,
        priority: int = TASK_NORMAL, delay: float | None = None, tt: int = TT_THREAD,
        task_id: object = None, worker: object = None, name: str | None = None, loop: object = None,
        _pass_task_id: bool = True, timeout: float | None = None, soft_timeout: float | None = None,
        retries: int = 0, retry_backoff: tuple[float, float] | None = None,
        retry_on: tuple[type[BaseException], ...] | None = None, eta: datetime | None = None,
        _policy: TaskPolicy | None = None) -> Task[T]: ...

    def put_task(
        self, target: Callable[..., Any], args: Iterable[Any] = (),
        kwargs: dict[str, Any] | None = None, callback: Callable[[Any], Any] | None = None,
        priority: int = TASK_NORMAL, delay: float | None = None, tt: int = TT_THREAD,
        task_id: object = None, worker: object = None, name: str | None = None, loop: object = None,
        _pass_task_id: bool = True, timeout: float | None = None, soft_timeout: float | None = None,
        retries: int = 0, retry_backoff: tuple[float, float] | None = None,
        retry_on: tuple[type[BaseException], ...] | None = None, eta: datetime | None = None,
        _policy: TaskPolicy | None = None) -> Task[Any]:
        """Queue ``target(*args, **kwargs, _task_id=<id>)`` and return its Task.

        The task ends by itself when the target returns or raises; limits,
        retries and *eta*: see "Task policies". Any thread; never blocks.

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
            ValueError: A bad argument; nothing is queued then."""
        return self._core.put_task(target, args, kwargs, callback, priority, delay, tt, task_id,
                                   worker, name, loop, _pass_task_id, timeout, soft_timeout,
                                   retries, retry_backoff, retry_on, eta, _policy)

    def mark_task_completed(self, task: Task[Any] | None = None, task_id: object = None,
                            **_: object) -> bool:
        """Kept for atasker code (tasks complete by themselves): returns True.

        Idempotent. Any thread; never blocks.

        Args:
            task: The task; with neither argument, the task running in the caller.
            task_id: Or its id.

        Raises:
            LookupError: an id this supervisor does not know, or no argument
                outside a task."""
        return self._core.mark_completed(task, task_id)

    def get_task(self, task_id: object) -> Task[Any] | None:
        """The queued, delayed or running task with that id, else None. Any thread; never blocks."""
        return self._engine.live_task(task_id)

    def get_tasks(self) -> dict[Any, Task[Any]]:
        """Every queued, delayed or running task: a new dict ``id -> Task``.
        Any thread; never blocks."""
        return self._engine.live_tasks()

    # -- aloops and async jobs ------------------------------------------------
    @property
    def default_aloop(self) -> ALoop | None:
        """The aloop coroutine tasks and async workers use when given none, or None.

        Settable (an `ALoop` or None); see also `set_default_aloop`. Any thread."""
        return self._aloops.default

    @default_aloop.setter
    def default_aloop(self, aloop: ALoop | None) -> None:
        self._aloops.default = aloop

    def create_aloop(self, name: str, daemon: bool = False, start: bool = True,
                     default: bool = False) -> ALoop | bool:
        """Create an aloop (an asyncio loop in its own OS thread) named *name*.

        Any thread; blocks until the loop's thread is up when *start*.

        Args:
            name: a non-empty str, unique in this supervisor.
            daemon: run the loop's thread as a daemon thread.
            start: start the loop at once.
            default: make it the default aloop.

        Returns:
            The new `ALoop`; False (an error is logged) if the name is taken.

        Raises:
            TypeError: *name* is not a non-empty str."""
        return self._aloops.create(name, daemon, start, default)

    def get_aloop(self, name: str | None = None) -> ALoop | None:
        """The aloop named *name*, or the default aloop; None if there is none.
        Any thread; never blocks."""
        return self._aloops.get(name)

    def set_default_aloop(self, aloop: ALoop | str) -> None:
        """Make *aloop* (an `ALoop` or a name) the default one.

        Any thread; never blocks.

        Raises:
            LookupError: no aloop of that name."""
        self._aloops.default = self._aloops.resolve(aloop)

    def start_aloop(self, name: str) -> bool:
        """Start the aloop *name*; False if it runs already.

        Any thread; blocks until the loop's thread is up.

        Raises:
            LookupError: no aloop of that name."""
        return self._aloops.resolve(name).start()

    def stop_aloop(self, name: str, wait: bool | float = True, cancel_tasks: bool = False) -> bool:
        """Stop the aloop *name* (see `ALoop.stop`); False if it was not running.

        Any thread; blocks (cooperatively in a greenlet) up to *wait*.

        Raises:
            LookupError: no aloop of that name."""
        return self._aloops.resolve(name).stop(wait=wait, cancel_tasks=cancel_tasks)

    def create_async_job_scheduler(self, name: str, aloop: ALoop | str | None = None,
                                   start: bool = True, default: bool = False
                                   ) -> AsyncJobScheduler | bool:
        """Create a job scheduler named *name* on *aloop* (default: the default aloop).

        The first one created (or one with ``default=True``) is the default
        one. *start* is kept for atasker code: a scheduler runs at once. Any
        thread; never blocks.

        Returns:
            The new `AsyncJobScheduler`; False (an error is logged) if the
            name is taken.

        Raises:
            LookupError: No aloop of that name.
            RuntimeError: There is no aloop, or it does not run."""
        return self._aloops.create_job_scheduler(name, aloop, default)

    def create_async_job(self, scheduler: AsyncJobScheduler | str | None = None, *,
                         target: Callable[..., object], args: tuple[object, ...] = (),
                         kwargs: dict[str, object] | None = None, interval: float | None = None,
                         timer: float = 0, number: int = 0) -> AsyncJob:
        """Run ``target(*args, **kwargs)`` every *interval* seconds on a fixed grid,
        after *timer* seconds, *number* times (0: until canceled).

        Any thread; never blocks.

        Args:
            scheduler: a job scheduler or its name; the default one if None.

        Returns:
            The job, for `cancel_async_job`.

        Raises:
            LookupError: No scheduler of that name.
            RuntimeError: No scheduler given and no default one, or its aloop
                does not run.
            TypeError: A bad *target*, *interval* or *timer*.
            ValueError: A bad *interval*, *timer* or *number*."""
        return self._aloops.job_scheduler(scheduler).create_job(target, args, kwargs, interval,
                                                                timer, number)

    def cancel_async_job(self, scheduler: AsyncJobScheduler | str | None = None, *,
                         job: AsyncJob) -> bool:
        """Stop further runs of *job*; False if it is not (or no longer) scheduled.

        Any thread; never blocks.

        Args:
            scheduler: the job's scheduler or its name; None looks in every one."""
        return self._aloops.cancel_job(scheduler, job)

    # -- schedulers ------------------------------------------------------------
    def register_scheduler(self, scheduler: Scheduler) -> bool:
        """Run ``scheduler.loop()`` and call ``scheduler.stop()`` when stopping.

        A plain ``loop`` runs as a greenlet in the supervisor's hub, a
        coroutine function on the default aloop. Any thread; never blocks.

        Returns:
            True.

        Raises:
            TypeError: *scheduler* lacks a callable ``loop()`` or ``stop()``.
            SupervisorNotRunning: the supervisor does not run."""
        self._core.register_scheduler(scheduler)
        return True

    def unregister_scheduler(self, scheduler: object) -> bool:
        """Forget a scheduler (it is not stopped); False if it was not registered.
        Any thread; never blocks."""
        return self._schedulers.discard(scheduler)

    def register_sync_scheduler(self, scheduler: SyncScheduler) -> bool:
        """Record *scheduler* so that `stop` calls its ``stop()``; returns True.

        Any thread; never blocks.

        Raises:
            TypeError: *scheduler* lacks a callable ``stop()``."""
        self._schedulers.add_sync(scheduler)
        return True

    def unregister_sync_scheduler(self, scheduler: object) -> bool:
        """Forget a synchronous scheduler; False if it was not registered.
        Any thread; never blocks."""
        return self._schedulers.discard_sync(scheduler)

    # -- introspection ---------------------------------------------------------
    def get_info(self) -> SimpleNamespace:
        """A snapshot as atasker's ``get_info()`` gave it: the figures of
        `statistics` under atasker's names (``thread_pool_size``, ``mp_queued`` ...).

        Any thread; never blocks."""
        return self._introspection.info(self.default_tt, self.poll_delay)

    def statistics(self) -> SupervisorStatistics:
        """A snapshot of the tiers per priority, the actors, the process pool and the
        hub: see "Observability".

        Any thread; never blocks (read without locking: a snapshot taken while
        tasks move may be off by the tasks in flight).

        Returns:
            A frozen `SupervisorStatistics`."""
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
