"""``gatasker.Executor``: a ``concurrent.futures.Executor`` over a supervisor."""

from __future__ import annotations

import concurrent.futures
import inspect
import time
import weakref
from collections import deque
from collections.abc import Callable, Coroutine, Iterable, Iterator
from typing import Any, ParamSpec, TypeVar, overload

from ._bridge import allocate_lock
from ._constants import TASK_NORMAL, TT_COROUTINE, check_priority, check_timeout, check_tt
from ._default import task_supervisor
from ._supervisor import TaskSupervisor
from ._task import Task

P = ParamSpec('P')
T = TypeVar('T')


class _Shared:
    """What an executor and the views made by `Executor.options()` share."""

    __slots__ = ('cancel', 'lock', 'shut_down', 'tasks')

    def __init__(self) -> None:
        self.lock = allocate_lock()  # held for a few bytecodes only, never while waiting
        self.shut_down = False
        self.cancel = False
        # Unfinished tasks stay referenced by their supervisor: a weak set forgets the others
        # without a done-callback per call.
        self.tasks: weakref.WeakSet[Task[Any]] = weakref.WeakSet()


class Executor(concurrent.futures.Executor):
    """A ``concurrent.futures.Executor`` whose calls run as tasks of a supervisor.

    `options()` gives the same executor with another priority or task type
    for some calls. Give it to anything that takes an Executor, such as
    ``loop.run_in_executor``. `shutdown()` does not stop the supervisor.
    Every method may be called from any thread or greenlet; only
    `shutdown()` with ``wait=True`` and the iterator of `map()` block
    (cooperatively in a greenlet).

    Args:
        supervisor: The `TaskSupervisor` the calls run on; the default one
            when None.
        priority: The calls' priority.
        tt: Their task type; None runs a coroutine function on an aloop,
            anything else on the supervisor's ``default_tt``.
    """

    def __init__(self, supervisor: TaskSupervisor | None = None, *,
                 priority: int = TASK_NORMAL, tt: int | None = None) -> None:
        if supervisor is not None and not isinstance(supervisor, TaskSupervisor):
            raise TypeError(f'supervisor must be a TaskSupervisor or None, got {supervisor!r}')
        self._supervisor = supervisor
        self._priority = check_priority(priority)
        self._tt = None if tt is None else check_tt(tt)
        self._shared = _Shared()

    def __repr__(self) -> str:
        state = 'shut down' if self._shared.shut_down else 'running'
        return f'<gatasker.Executor priority={self._priority} tt={self._tt} {state}>'

    @property
    def supervisor(self) -> TaskSupervisor:
        """The supervisor the calls run on."""
        if self._supervisor is not None:
            return self._supervisor
        return task_supervisor

    def options(self, *, priority: int | None = None, tt: int | None = None) -> Executor:
        """This executor with another *priority* and/or task type *tt*.

        The result shares the supervisor, the pending calls and the shut-down
        state: shutting either down shuts both. Never blocks.

        Args:
            priority: The new priority; None keeps it.
            tt: The new task type; None keeps it.

        Returns:
            Executor: A view of this executor.
        """
        return _View(self._supervisor,
                     self._priority if priority is None else check_priority(priority),
                     self._tt if tt is None else check_tt(tt), self._shared)

    @overload
    def submit(self, fn: Callable[P, Coroutine[Any, Any, T]], /, *args: P.args,
               **kwargs: P.kwargs) -> concurrent.futures.Future[T]: ...

    @overload
    def submit(self, fn: Callable[P, T], /, *args: P.args,
               **kwargs: P.kwargs) -> concurrent.futures.Future[T]: ...

    def submit(self, fn: Callable[..., object], /, *args: object,
               **kwargs: object) -> concurrent.futures.Future[Any]:
        """Queue ``fn(*args, **kwargs)`` as a task. Never blocks.

        Cancelling the future cancels the task if it has not started.

        Args:
            fn: What to run.
            *args: Its positional arguments.
            **kwargs: Its keyword arguments.

        Returns:
            concurrent.futures.Future: The task's future (see `Task.future()`).

        Raises:
            RuntimeError: After `shutdown()`.
            SupervisorNotRunning: The supervisor is not running.
        """
        return self._submit(fn, args, kwargs).future()

    def _submit(self, fn: Callable[..., object], args: tuple[object, ...],
                kwargs: dict[str, object]) -> Task[Any]:
        if not callable(fn):
            raise TypeError(f'submit() needs a callable, got {fn!r}')
        shared = self._shared
        if shared.shut_down:
            raise RuntimeError('cannot schedule new futures after shutdown')
        supervisor = self.supervisor
        tt = self._tt
        if tt is None:
            tt = TT_COROUTINE if inspect.iscoroutinefunction(fn) else supervisor.default_tt
        task: Task[Any] = supervisor.put_task(fn, args, kwargs, priority=self._priority, tt=tt,
                                              name=getattr(fn, '__name__', None),
                                              _pass_task_id=False)
        with shared.lock:
            shared.tasks.add(task)
            cancel = shared.cancel  # a shutdown(cancel_futures=True) raced with this call
        if cancel:
            task.cancel()
        return task

    @overload
    def map(self, fn: Callable[..., Coroutine[Any, Any, T]], *iterables: Iterable[Any],
            timeout: float | None = None, chunksize: int = 1, buffersize: int | None = None,
            priority: int | None = None, tt: int | None = None) -> Iterator[T]: ...

    @overload
    def map(self, fn: Callable[..., T], *iterables: Iterable[Any], timeout: float | None = None,
            chunksize: int = 1, buffersize: int | None = None, priority: int | None = None,
            tt: int | None = None) -> Iterator[T]: ...

    def map(self, fn: Callable[..., object], *iterables: Iterable[object],
            timeout: float | None = None, chunksize: int = 1, buffersize: int | None = None,
            priority: int | None = None, tt: int | None = None) -> Iterator[object]:
        """Like the builtin ``map`` with the calls run as tasks; results in input order.

        Leaving the iterator early cancels the calls not started. The iterator
        blocks (cooperatively in a greenlet) while it waits.

        Args:
            fn: What to run.
            *iterables: Its arguments.
            timeout: Seconds, from this call, for the whole iteration.
            chunksize: Accepted and ignored.
            buffersize: At most that many calls are queued or running at a
                time, and the inputs are read lazily (back-pressure for long or
                endless inputs); None queues every call here at once.
            priority: The priority of these calls; None keeps the executor's.
            tt: The task type of these calls; None keeps the executor's.

        Returns:
            Iterator: The results, in input order.

        Raises:
            TimeoutError: ``concurrent.futures.TimeoutError`` (the builtin one
                from Python 3.11 on), from ``next()``, when the next result is
                not ready within *timeout*.
        """
        if buffersize is not None and (isinstance(buffersize, bool)
                                       or not isinstance(buffersize, int) or buffersize < 1):
            raise ValueError(f'buffersize must be a positive int or None, got {buffersize!r}')
        if not callable(fn):
            raise TypeError(f'map() needs a callable, got {fn!r}')
        seconds = check_timeout(timeout)
        deadline = None if seconds is None else time.monotonic() + seconds
        executor = self if priority is None and tt is None else self.options(priority=priority,
                                                                               tt=tt)
        inputs = zip(*iterables, strict=False)  # the shortest input ends it, as in map()
        pending: deque[concurrent.futures.Future[Any]] = deque()
        for args in inputs:
            pending.append(executor.submit(fn, *args))
            if buffersize is not None and len(pending) >= buffersize:
                break
        return _results(executor, fn, inputs, pending, deadline, buffersize is not None)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse new calls.

        Never stops the supervisor. May be called more than once. Blocks
        (cooperatively in a greenlet) only with *wait*.

        Args:
            wait: Return once every call ended.
            cancel_futures: Cancel the calls not started.
        """
        shared = self._shared
        with shared.lock:
            shared.shut_down = True
            if cancel_futures:
                shared.cancel = True
            tasks = [task for task in shared.tasks if not task.done()]
        if cancel_futures:
            for task in tasks:
                task.cancel()
        if wait:
            for task in tasks:
                task.wait()


class _View(Executor):
    """What `Executor.options()` returns: the executor with its own priority and
    task type, sharing its supervisor, pending calls and shut-down state."""

    def __init__(self, supervisor: TaskSupervisor | None, priority: int, tt: int | None,
                 shared: _Shared) -> None:  # checked by options()
        self._supervisor = supervisor
        self._priority = priority
        self._tt = tt
        self._shared = shared


def _results(executor: Executor, fn: Callable[..., T], inputs: Iterator[tuple[Any, ...]],
             pending: deque[concurrent.futures.Future[T]], deadline: float | None,
             refill: bool) -> Iterator[T]:
    try:
        while pending:
            future = pending.popleft()
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                result = future.result(timeout)
            except BaseException:
                future.cancel()  # as the stdlib does: a timed-out call is not left queued
                raise
            if refill:
                args = next(inputs, None)
                if args is not None:
                    pending.append(executor.submit(fn, *args))
            yield result
    finally:
        for future in pending:
            future.cancel()
