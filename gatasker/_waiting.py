"""Waiting for many tasks: `wait_completed()` and `as_completed()`."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, Literal, TypeVar, overload

from ._bridge import Latch, allocate_lock
from ._constants import TASK_STATUS_CANCELED, check_timeout
from ._errors import TaskCancelled
from ._task import Task, core_of

T = TypeVar('T')


def task_list(tasks: Iterable[Task[T]], what: str) -> list[Task[T]]:
    """*tasks* as a list, checked: TypeError at the call if anything is not a Task."""
    if isinstance(tasks, Task):
        raise TypeError(f'{what}() takes an iterable of Tasks, got the single task {tasks!r}')
    try:
        result = list(tasks)
    except TypeError:
        raise TypeError(f'{what}() takes an iterable of Tasks, got {tasks!r}') from None
    for task in result:
        if not isinstance(task, Task):
            raise TypeError(f'{what}() got {task!r}, which is not a Task')
    return result


def as_completed(tasks: Iterable[Task[T]], timeout: float | None = None) -> Iterator[Task[T]]:
    """Yield the tasks as they complete or are canceled (those already done first).

    Like ``concurrent.futures.as_completed`` for tasks: a task given twice is
    yielded once. Waiting blocks cooperatively in a greenlet, or the calling
    OS thread; any thread or greenlet may iterate.

    Args:
        tasks: Any iterable of tasks.
        timeout: Seconds, counted from this call; None waits as long as it
            takes.

    Yields:
        Task: Each task once, when it is done.

    Raises:
        TypeError: *tasks* is not an iterable of tasks (raised here, before
            iteration).
        ValueError: A bad *timeout* (raised here, before iteration).
        TimeoutError: The builtin one, from ``next()``, when *timeout* runs
            out before every task is done.
    """
    checked = list(dict.fromkeys(task_list(tasks, 'as_completed')))
    seconds = check_timeout(timeout)
    deadline = None if seconds is None else time.monotonic() + seconds
    return _as_completed(checked, deadline, timeout)


def _as_completed(tasks: list[Task[T]], deadline: float | None,
                  timeout: float | None) -> Iterator[Task[T]]:
    finished: deque[Task[T]] = deque()
    lock = allocate_lock()
    wake = [Latch()]

    def on_done(task: Task[Any]) -> None:
        # In whichever thread ended the task.
        with lock:
            finished.append(task)
            latch = wake[0]
        latch.set()

    # A Task has no public hook that runs in the thread ending it (its
    # add_done_callback runs fn in a hub greenlet): its core has one.
    for task in tasks:
        core_of(task).add_callback(task, on_done)
    pending = len(tasks)
    try:
        while pending:
            with lock:
                latch = None
                if not finished:
                    latch = wake[0] = Latch()
            if latch is not None:
                remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
                if not latch.wait(remaining):
                    raise TimeoutError(f'{pending} (of {len(tasks)}) tasks did not complete '
                                       f'within {timeout} s')
                continue
            with lock:
                task = finished.popleft()
            pending -= 1
            yield task
    finally:
        for task in tasks:
            core_of(task).remove_callback(on_done)


def _outcome(task: Task[T], return_exceptions: bool) -> T | BaseException:
    if task.status == TASK_STATUS_CANCELED:
        exc: BaseException = TaskCancelled(f'{task!r} was canceled')
    elif task.exception is not None:
        exc = task.exception
    else:
        return task.get(0)  # done: its result, at once
    if return_exceptions:
        return exc
    raise exc


@overload
def wait_completed(tasks: Task[T], timeout: float | None = None,
                   return_exceptions: Literal[False] = False) -> T: ...
@overload
def wait_completed(tasks: Task[T], timeout: float | None,
                   return_exceptions: bool) -> T | BaseException: ...
@overload
def wait_completed(tasks: Task[T], timeout: float | None = None, *,
                   return_exceptions: bool) -> T | BaseException: ...
@overload
def wait_completed(tasks: Iterable[Task[T]], timeout: float | None = None,
                   return_exceptions: Literal[False] = False) -> list[T]: ...
@overload
def wait_completed(tasks: Iterable[Task[T]], timeout: float | None,
                   return_exceptions: bool) -> list[T | BaseException]: ...
@overload
def wait_completed(tasks: Iterable[Task[T]], timeout: float | None = None, *,
                   return_exceptions: bool) -> list[T | BaseException]: ...


def wait_completed(
    tasks: Task[Any] | Iterable[Task[Any]],
    timeout: float | None = None,
    return_exceptions: bool = False,
) -> object:
    """Wait for tasks and return their results.

    Typed: a ``Task[T]`` gives ``T``, an iterable of them ``list[T]``.
    Blocks: cooperatively in a greenlet, or the calling OS thread.

    Args:
        tasks: One `Task`, or any iterable of tasks (a generator too).
        timeout: Seconds the whole wait may take; None waits as long as it
            takes.
        return_exceptions: Put a failed task's exception in its place
            instead of raising it.

    Returns:
        object: The result of a single task, or the list of results in
            input order.

    Raises:
        TimeoutError: The builtin one: *timeout* ran out.
        TypeError: *tasks* is not a task or an iterable of tasks.
        ValueError: A bad *timeout*.
        BaseException: A failed task's exception (without
            *return_exceptions*); ``TaskCancelled`` for a canceled one.
    """
    limit = check_timeout(timeout)
    single = isinstance(tasks, Task)
    checked = [tasks] if isinstance(tasks, Task) else task_list(tasks, 'wait_completed')
    deadline = None if limit is None else time.monotonic() + limit
    # Last first: tasks tend to end in the order they were put, so the one wake-up
    # for the last usually finds the rest done. In order, a plain thread waiting for
    # 10,000 thread-tier tasks blocked 0.06-0.09 times per task; last first, 0.001-0.003
    # (python scripts/handoff_probe.py --only batch).
    for task in reversed(checked):
        if task.done():
            continue
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not task.wait(remaining):
            raise TimeoutError(f'{task!r} did not complete within {timeout} s')
    results = [_outcome(task, return_exceptions) for task in checked]
    return results[0] if single else results
