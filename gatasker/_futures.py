"""Tasks as ``concurrent.futures`` futures, and :func:`as_completed`."""

from __future__ import annotations

import concurrent.futures
import time
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from ._bridge import Latch, allocate_lock, wait_future
from ._constants import TASK_STATUS_CANCELED, check_timeout
from ._task import Task

T = TypeVar('T')


class TaskFuture(concurrent.futures.Future[T]):
    """The ``concurrent.futures.Future`` of a task: returned by :meth:`Task.future`.

    It is done when its task is. :meth:`cancel` cancels the task;
    :meth:`result` and :meth:`exception` wait cooperatively in a greenlet
    (the stdlib's condition would block the whole OS thread in a process
    that is not monkey-patched) and block a plain thread.
    """

    def __init__(self, task: Task[T]) -> None:
        super().__init__()
        self._task = task

    @property
    def task(self) -> Task[T]:
        """The task this future follows."""
        return self._task

    def _follow(self, task: Task[Any]) -> None:
        # In whichever thread ended the task, or in future()'s caller when the task had
        # already ended; both may run for a task that ended while future() was called.
        try:
            if task.status == TASK_STATUS_CANCELED:
                super().cancel()
            elif task.exception is not None:
                self.set_exception(task.exception)
            else:
                self.set_result(self._task.get(0))
        except concurrent.futures.InvalidStateError:
            pass  # the other one settled it

    def cancel(self) -> bool:
        """Cancel the task (and so this future) if it has not started.

        Returns False once the task has started. Any thread; never blocks.
        """
        return self._task.cancel() and self.cancelled()

    def running(self) -> bool:
        """True while the task's target runs. Never blocks."""
        return self._task.running()

    def result(self, timeout: float | None = None) -> T:
        """The task's result: see ``concurrent.futures.Future.result``.

        Blocks up to *timeout* seconds: cooperatively in a greenlet, or the
        calling OS thread.
        """
        wait_future(self, check_timeout(timeout))
        return super().result(0)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """The task's exception: see ``concurrent.futures.Future.exception``.

        Blocks up to *timeout* seconds like :meth:`result`.
        """
        wait_future(self, check_timeout(timeout))
        return super().exception(0)


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

    Like ``concurrent.futures.as_completed`` for tasks: a task given twice
    is yielded once. *timeout* counts from this call; when it runs out
    before every task is done, the next ``next()`` raises the builtin
    TimeoutError. Bad arguments raise TypeError/ValueError here, before
    iteration. Waiting blocks cooperatively in a greenlet, or the calling OS
    thread; any thread or greenlet may iterate.
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

    for task in tasks:
        task._add_done_callback(on_done)
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
            task._remove_done_callback(on_done)
