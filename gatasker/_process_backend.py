"""What runs the process tier's tasks besides the built-in pool: a user's executor.

``ExecutorBackend`` hands TT_MP tasks to any ``concurrent.futures.Executor``
(its futures are awaited through a done-callback that posts to the
supervisor's inbox, thread-safe, never with a blocking ``.result()``; an
executor with a ``submit_task(fn, args, kwargs, priority, name)`` method, such
as ``gatasker.contrib.dask.DaskExecutor``, gets the task's priority too) or to
a ``multiprocessing.pool.Pool`` (atasker's ``mp_pool``), through
``apply_async`` callbacks. Called only from the supervisor's greenlet, except
where a method says otherwise.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

from ._errors import TaskCancelled
from ._futures import future_outcome
from ._task import Task


def task_name(task: Task[Any]) -> str:
    """A readable name for the task's call, for logs and remote keys."""
    return task.name or getattr(task.target, '__qualname__', None) or type(task.target).__name__


class ExecutorBackend:
    """A ``concurrent.futures.Executor`` (or a ``multiprocessing`` pool) as backend."""

    def __init__(self, executor: Any) -> None:
        self.executor = executor

    def open(self, finish: Callable[[Task[Any], bool, Any], None]) -> None:
        self._finish = finish

    def submit(self, task: Task[Any]) -> None:
        executor = self.executor
        try:
            if hasattr(executor, 'apply_async') and not hasattr(executor, 'submit'):
                executor.apply_async(
                    task.target, task.args, task.kwargs,
                    callback=lambda value: self._finish(task, True, value),
                    error_callback=lambda exc: self._finish(task, False, exc))
                return
            submit_task = getattr(executor, 'submit_task', None)
            if submit_task is not None:
                future = submit_task(task.target, task.args, task.kwargs,
                                     priority=task.priority, name=task_name(task))
            else:
                future = executor.submit(task.target, *task.args, **task.kwargs)
        except BaseException as exc:
            self._finish(task, False, exc)
            return
        task._handle = future
        future.add_done_callback(lambda f: self._future_done(task, f))

    def _future_done(self, task: Task[Any], future: concurrent.futures.Future[Any]) -> None:
        # Any thread: the executor's. Only the thread-safe finish is touched.
        self._finish(task, *future_outcome(
            future, lambda: TaskCancelled(f'{task!r}: the executor canceled it')))

    def interrupt(self, task: Task[Any], exc: BaseException, hard: bool) -> bool:
        """Cancel the task's future; an executor cannot stop a call that began."""
        future = task._handle
        return hard and isinstance(future, concurrent.futures.Future) and future.cancel()

    def close(self, kill: bool = False, on_closed: Callable[[], None] | None = None) -> None:
        # The executor belongs to the user: it is not shut down here.
        if on_closed is not None:
            on_closed()
