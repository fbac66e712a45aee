"""What runs the process tier's tasks: the `ProcessBackend` role, and a user's executor in it.

Three kinds of backend play the role:

* gatasker's own `ProcessPool` (`gatasker._process_pool`, the default);
* any ``concurrent.futures.Executor``, through `ExecutorBackend`: its futures
  are awaited through a done-callback, never with a blocking ``.result()``;
  an executor with a ``submit_task(fn, args, kwargs, priority=, name=)``
  method, such as ``gatasker.contrib.dask.DaskExecutor``, gets the task's
  priority and name too;
* a ``multiprocessing.pool.Pool`` (atasker's ``mp_pool``), through
  `ExecutorBackend` and ``apply_async`` callbacks.

The tier calls a backend only from the supervisor's greenlet; the *finish*
callback it gives the backend may be called from any thread.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Mapping
from typing import Protocol, runtime_checkable

from ._errors import TaskCancelled
from ._futures import future_outcome
from ._task import Task

#: Reports the end of a task: ``finish(task, ok, value)``, value being the
#: result (ok) or the exception. Thread-safe: any thread may call it.
Finish = Callable[[Task[object], bool, object], None]


class ProcessBackend(Protocol):
    """What the process tier calls on whatever runs its tasks.

    Every method is called from the supervisor's greenlet and must not block it.
    """

    def open(self, finish: Finish) -> None:
        """Start taking tasks; report each task's end through *finish*."""

    def submit(self, task: Task[object]) -> None:
        """Run *task*, which the tier's admission let through (or a CRITICAL one)."""

    def interrupt(self, task: Task[object], exc: BaseException, hard: bool) -> bool:
        """Stop *task*: *hard*, make it fail with *exc* now; soft, ask its code to
        raise a TimeoutError. True if done, False if the task is not here (or
        this backend cannot)."""

    def close(self, kill: bool = False, on_closed: Callable[[], None] | None = None) -> None:
        """Take no more tasks; with *kill*, stop the busy ones too. *on_closed()*
        once what ran has ended."""


class _Future(Protocol):
    """The part of a ``concurrent.futures.Future`` the backend uses."""

    def add_done_callback(self, fn: Callable[[concurrent.futures.Future[object]], object]
                          ) -> None: ...


@runtime_checkable
class _PrioritySubmitter(Protocol):
    """An executor that takes gatasker's priority and a name (``DaskExecutor``)."""

    def submit_task(self, fn: Callable[..., object], args: tuple[object, ...],
                    kwargs: Mapping[str, object], priority: int, name: str) -> _Future: ...


@runtime_checkable
class _Submitter(Protocol):
    """A ``concurrent.futures.Executor``."""

    def submit(self, fn: Callable[..., object], /, *args: object,
               **kwargs: object) -> _Future: ...


@runtime_checkable
class _AsyncApplier(Protocol):
    """A ``multiprocessing.pool.Pool``."""

    def apply_async(self, func: Callable[..., object], args: tuple[object, ...],
                    kwds: Mapping[str, object], callback: Callable[[object], object],
                    error_callback: Callable[[BaseException], object]) -> object: ...


def task_name(task: Task[object]) -> str:
    """A readable name for the task's call, for logs and remote keys."""
    return task.name or getattr(task.target, '__qualname__', None) or type(task.target).__name__


class ExecutorBackend:
    """A ``concurrent.futures.Executor`` (or a ``multiprocessing`` pool) as the backend.

    The executor belongs to the user: it is never shut down here.
    """

    def __init__(self, executor: object) -> None:
        self.executor = executor
        self._finish: Finish | None = None
        # The future of each task submitted and not done (interrupt() cancels it).
        self._futures: dict[Task[object], concurrent.futures.Future[object]] = {}
        # How tasks go in, decided once: the executor's kind does not change.
        self._apply_async: _AsyncApplier | None = None
        self._submit_task: _PrioritySubmitter | None = None
        self._submit: _Submitter | None = None
        if isinstance(executor, _AsyncApplier) and not isinstance(executor, _Submitter):
            self._apply_async = executor
        elif isinstance(executor, _PrioritySubmitter):
            self._submit_task = executor
        elif isinstance(executor, _Submitter):
            self._submit = executor
        else:
            raise TypeError(f'{executor!r} has neither submit() nor apply_async()')

    def open(self, finish: Finish) -> None:
        self._finish = finish

    def _report(self, task: Task[object], ok: bool, value: object) -> None:
        # Any thread. The finish of the run that is current when the task ends.
        assert self._finish is not None, 'a task ended before open()'
        self._finish(task, ok, value)

    def submit(self, task: Task[object]) -> None:
        try:
            if self._apply_async is not None:
                self._apply_async.apply_async(
                    task.target, task.args, task.kwargs,
                    callback=lambda value: self._report(task, True, value),
                    error_callback=lambda exc: self._report(task, False, exc))
                return
            if self._submit_task is not None:
                future = self._submit_task.submit_task(
                    task.target, task.args, task.kwargs, priority=task.priority,
                    name=task_name(task))
            else:
                assert self._submit is not None
                future = self._submit.submit(task.target, *task.args, **task.kwargs)
        except BaseException as exc:
            self._report(task, False, exc)
            return
        if isinstance(future, concurrent.futures.Future):
            self._futures[task] = future
        future.add_done_callback(lambda f: self._future_done(task, f))

    def _future_done(self, task: Task[object], future: concurrent.futures.Future[object]) -> None:
        # Any thread: the executor's. Only the thread-safe finish is touched.
        self._futures.pop(task, None)
        self._report(task, *future_outcome(
            future, lambda: TaskCancelled(f'{task!r}: the executor canceled it')))

    def interrupt(self, task: Task[object], exc: BaseException, hard: bool) -> bool:
        """Cancel the task's future; an executor cannot stop a call that began."""
        future = self._futures.get(task)
        return hard and future is not None and future.cancel()

    def close(self, kill: bool = False, on_closed: Callable[[], None] | None = None) -> None:
        # The executor belongs to the user: it is not shut down here.
        if on_closed is not None:
            on_closed()
