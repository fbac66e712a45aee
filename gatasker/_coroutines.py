"""TT_COROUTINE tasks: a task's coroutine handed to its aloop.

A coroutine task holds no tier slot: the supervisor's greenlet hands its
coroutine to the aloop (`start_on_aloop`), and the aloop's thread reports its
end through the *done* callback, which is thread-safe.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine
from typing import Any, Generic, Protocol, TypeVar

from . import _tracing
from ._constants import TASK_STATUS_STARTED
from ._futures import future_outcome
from ._task_run import TaskRun

T = TypeVar('T')

class Submits(Protocol):
    """An aloop, as a coroutine task uses it (`ALoop.submit`)."""

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]: ...


#: How a tier reports a task's end: ``done(task, ok, result_or_exception)``.
Done = Callable[[TaskRun, bool, object], None]


class CoroutineRun:
    """A coroutine task's handle: cancels its asyncio task from any thread.

    Cancelling the asyncio task itself (not the concurrent future) lets a
    coroutine that handles the CancelledError still return its result.
    """

    __slots__ = ('atask', 'future', 'loop')

    def __init__(self) -> None:
        self.future: concurrent.futures.Future[tuple[bool, object]] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.atask: asyncio.Task[Any] | None = None

    def cancel(self) -> bool:
        """Cancel the coroutine's asyncio task (or its future, if it has not started)."""
        loop, atask = self.loop, self.atask
        if loop is None or atask is None:  # not started on its loop yet
            return self.future is not None and self.future.cancel()
        loop.call_soon_threadsafe(atask.cancel)
        return True


async def contained(coro: Coroutine[Any, Any, object], handle: CoroutineRun | None = None
                    ) -> tuple[bool, object]:
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


class CoroutineObject(Generic[T]):
    """A coroutine object carried as a task's target (``aloop.background_task``)."""

    __slots__ = ('__name__', 'coro')

    def __init__(self, coro: Coroutine[Any, Any, T]) -> None:
        self.coro = coro
        self.__name__ = getattr(coro, '__qualname__', 'coroutine')

    def __call__(self) -> Coroutine[Any, Any, T]:
        return self.coro


def start_on_aloop(record: TaskRun, pick_aloop: Callable[[], Submits], done: Done,
                   arm_limits: Callable[[], None]) -> None:
    """Start the coroutine of *record*'s task on the aloop *pick_aloop()* gives; *done*
    reports its end (from the aloop's thread), *arm_limits* starts its time
    limits once it runs.

    In the supervisor's greenlet; never blocks. A failure to start (no aloop
    included) completes the task with it.
    """
    task = record.task
    try:
        aloop = pick_aloop()
        if not record.mark_started():
            return  # canceled meanwhile
        target = task.target
        coro = target.coro if isinstance(target, CoroutineObject) else \
            target(*task.args, **task.kwargs)
        if record.trace is not None and _tracing.tracer is not None:
            coro = _tracing.tracer.coroutine(task, coro)
        handle = CoroutineRun()
        future = aloop.submit(contained(coro, handle))
        handle.future = future
        record.handle = handle  # cancelled to stop the task (Task.cancel, a time limit)
        if task.policy is not None:
            arm_limits()
    except BaseException as exc:
        if task.status != TASK_STATUS_STARTED:  # start it, so that it can complete
            record.mark_started()
        done(record, False, exc)
        return

    def finished(fut: concurrent.futures.Future[tuple[bool, object]]) -> None:
        # In the aloop's thread; done is thread-safe.
        outcome = future_outcome(fut, asyncio.CancelledError)
        if isinstance(outcome[1], tuple):  # it ran: contained() gave the coroutine's (ok, value)
            done(record, *outcome[1])
        else:
            done(record, *outcome)

    future.add_done_callback(finished)
