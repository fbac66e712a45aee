"""A task's ``concurrent.futures.Future`` (what `Task.future()` returns), and
the one translation between a ``concurrent.futures.Future`` and an outcome
``(ok, result_or_exception)`` in either direction."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Protocol, TypeVar

from ._bridge import wait_future
from ._constants import TASK_STATUS_CANCELED, check_timeout

T = TypeVar('T')
T_co = TypeVar('T_co', covariant=True)


class FollowedTask(Protocol[T_co]):
    """What a `TaskFuture` reads of its task (a `Task`)."""

    @property
    def status(self) -> int:
        """One of the TASK_STATUS_* codes."""

    @property
    def exception(self) -> BaseException | None:
        """What the target raised, or None."""

    def get(self, timeout: float | None = None) -> T_co:
        """The result (or raise the exception) once done."""

    def cancel(self) -> bool:
        """Cancel the task if it has not started."""

    def running(self) -> bool:
        """True while the target runs."""


def future_outcome(future: concurrent.futures.Future[T],
                   canceled: Callable[[], BaseException]) -> tuple[bool, T | BaseException]:
    """The outcome of a done *future*: ``(True, result)`` or ``(False, exception)``.

    A canceled future gives ``(False, canceled())``. Any thread; never blocks
    (the future must be done).
    """
    if future.cancelled():
        return False, canceled()
    exc = future.exception(0)
    if exc is not None:
        return False, exc
    return True, future.result(0)


def settle_future(future: concurrent.futures.Future[object], ok: bool, value: object) -> bool:
    """Give *future* the outcome ``(ok, value)``: its result *value* if *ok*, else
    the exception *value*. Any thread; never blocks.

    Returns False, changing nothing, if the future was already done (its
    owner canceled it meanwhile). Raises TypeError for a failed outcome
    whose *value* is not an exception.
    """
    if not ok and not isinstance(value, BaseException):
        raise TypeError(f'a failed outcome needs an exception, got {value!r}')
    try:
        if isinstance(value, BaseException) and not ok:
            future.set_exception(value)
        else:
            future.set_result(value)
    except concurrent.futures.InvalidStateError:
        return False
    return True


class TaskFuture(concurrent.futures.Future[T]):
    """The ``concurrent.futures.Future`` of a task: returned by `Task.future()`.

    It is done when its task is. `cancel()` cancels the task;
    `result()` and `exception()` wait cooperatively in a greenlet
    (the stdlib's condition would block the whole OS thread in a process
    that is not monkey-patched) and block a plain thread.
    """

    def __init__(self, task: FollowedTask[T]) -> None:
        super().__init__()
        self._task = task

    @property
    def task(self) -> FollowedTask[T]:
        """The task this future follows."""
        return self._task

    def follow(self, task: FollowedTask[object]) -> None:
        """Settle this future as *task* ended (called by the task). Any thread."""
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

        Blocks up to *timeout* seconds like `result()`.
        """
        wait_future(self, check_timeout(timeout))
        return super().exception(0)
