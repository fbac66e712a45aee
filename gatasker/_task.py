"""The Task object.

A task also speaks the future protocols that do not clash with its atasker
fields (``result`` and ``exception`` stay attributes): ``done()``, ``cancelled()``,
``running()``, ``add_done_callback()``, gevent's ``rawlink``/``unlink`` and
``await``; `Task.future()` serves ``concurrent.futures`` (``_futures.py``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

from zope.interface import implementer

from ._bridge import HubCallback, state_lock
from ._constants import (
    TASK_STATUS_CANCELED,
    TASK_STATUS_COMPLETED,
    TASK_STATUS_DELAYED,
    TASK_STATUS_QUEUED,
    TASK_STATUS_STARTED,
    TT_THREAD,
    check_timeout,
)
from ._errors import TaskCancelled
from ._futures import TaskFuture
from ._interfaces import ITask
from ._logging import logger
from ._policies import TaskPolicy
from ._task_core import TaskCore

if TYPE_CHECKING:
    import asyncio
    import concurrent.futures

T = TypeVar('T')
#: What a task's target returns.
T_co = TypeVar('T_co', covariant=True)

_STATUS_NAMES = {TASK_STATUS_QUEUED: 'queued', TASK_STATUS_DELAYED: 'delayed',
                 TASK_STATUS_STARTED: 'started', TASK_STATUS_COMPLETED: 'completed',
                 TASK_STATUS_CANCELED: 'canceled'}


class TaskOwner(Protocol):
    """What a task asks of the engine that queued it in *run* (its
    ``HubRun``), from any thread; never blocks."""

    def canceled(self, run: object, task: Task[Any]) -> None:
        """*task* was canceled before it started (and is done): post its bookkeeping."""

    def interrupt(self, run: object, task: Task[Any]) -> None:
        """*task* was asked to stop while it runs: post the stop to its tier."""

    def call_in_hub(self, run: object, task: Task[Any],
                    func: Callable[[Task[Any]], object]) -> None:
        """Run ``func(task)`` in a new greenlet of the hub of *run* (in the
        caller once that hub is gone)."""


@implementer(ITask)
class Task(Generic[T_co]):
    """One unit of work queued on a supervisor.

    A task is created by `TaskSupervisor.put_task()` or by calling a
    `background_task()`; it is never constructed directly. Its fields may be
    read from any thread. It ends COMPLETED (with ``result`` or
    ``exception``) or CANCELED, exactly once.

    ``Task[T]`` is generic in what its target returns. Besides `wait()` and
    `get()` it works with ``gevent.wait``/``joinall``/``iwait`` (from any
    greenlet of any hub), ``await task`` (on any asyncio loop), and, through
    `future()`, with ``concurrent.futures`` and ``asyncio.wrap_future``.

    Attributes:
        id: The task id, unique among the running tasks of its supervisor.
        tt: Its tier: ``TT_THREAD``, ``TT_GREENLET``, ``TT_MP`` or
            ``TT_COROUTINE``.
        priority: ``TASK_CRITICAL``, ``TASK_HIGH``, ``TASK_NORMAL`` or
            ``TASK_LOW``.
        status: One of the ``TASK_STATUS_*`` codes.
        result: What the target returned (None until then).
        exception: What the target raised, or None.
        name: The name given to `put_task()`, or None.
        target: The function it runs.
        args: Its positional arguments.
        kwargs: Its keyword arguments.
        callback: Called with the result on success, or None.
        delay: The *delay* given to `put_task()` (seconds), or None.
        worker: The worker it runs for, or None.
        loop: The aloop of a coroutine task, or None.
        policy: The limits, retries and rate it runs under, or None.
        attempts: How many times the target was started (retries count).
        time_queued: When it was queued (``time.time()``).
        time_started: When it started, or None.
        time_completed: When it ended, or None.
    """

    __slots__ = (
        '__weakref__',
        '_core',
        '_owner',
        'args',
        'attempts',
        'callback',
        'delay',
        'exception',
        'id',
        'kwargs',
        'loop',
        'name',
        'policy',
        'priority',
        'result',
        'status',
        'target',
        'time_completed',
        'time_queued',
        'time_started',
        'tt',
        'worker',
    )

    def __init__(
        self,
        owner: TaskOwner,
        core: TaskCore,
        task_id: Any,
        tt: int,
        target: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        callback: Callable[[Any], Any] | None,
        priority: int,
        delay: float | None,
        worker: object,
        name: str | None,
        loop: object = None,
        policy: TaskPolicy | None = None,
    ) -> None:
        self.id = task_id
        self.tt = tt
        self.target = target
        self.args = args
        self.kwargs = kwargs
        self.callback = callback
        self.priority = priority
        self.delay = delay
        self.worker = worker
        self.name = name
        self.loop = loop
        #: The limits, retries and rate the task runs under (None: none).
        self.policy = policy
        #: How many times the target was started (retries count).
        self.attempts = 0
        self.status = TASK_STATUS_DELAYED if delay else TASK_STATUS_QUEUED
        self.result: T_co | None = None
        self.exception: BaseException | None = None
        self.time_queued = time.time()
        self.time_started: float | None = None
        self.time_completed: float | None = None
        self._owner = owner
        #: The done flag, callbacks and run state this handle shares with the
        #: engine's record of the task (``_task_run.TaskRun``).
        self._core = core

    def __repr__(self) -> str:
        name = self.name or getattr(self.target, '__qualname__', repr(self.target))
        return (f'<Task {self.id!r} {name} priority={self.priority} '
                f'{_STATUS_NAMES.get(self.status, self.status)}>')

    # -- state, readable from anywhere ------------------------------------

    def is_started(self) -> bool:
        """True once the task began running (also after it ended). Any thread; never blocks."""
        return self.status in (TASK_STATUS_STARTED, TASK_STATUS_COMPLETED)

    def is_completed(self) -> bool:
        """True once the target returned or raised. Any thread; never blocks."""
        return self.status == TASK_STATUS_COMPLETED

    def is_canceled(self) -> bool:
        """True if the task was canceled (before it started, or while it ran). Never blocks."""
        return self.status == TASK_STATUS_CANCELED

    def done(self) -> bool:
        """True once the task is COMPLETED or CANCELED. Any thread; never blocks."""
        return self._core.is_set()

    def cancelled(self) -> bool:
        """The same as `is_canceled()` (``concurrent.futures``' spelling). Never blocks."""
        return self.status == TASK_STATUS_CANCELED

    def running(self) -> bool:
        """True while the target runs. Any thread; never blocks."""
        return self.status == TASK_STATUS_STARTED

    def successful(self) -> bool:
        """True once the target returned without raising (gevent's spelling). Never blocks."""
        return self.status == TASK_STATUS_COMPLETED and self.exception is None

    # -- waiting -----------------------------------------------------------

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the task is completed or canceled.

        Blocks: cooperatively in a greenlet, or the calling OS thread.

        Args:
            timeout: Seconds to wait at most; None waits as long as it takes.

        Returns:
            bool: True if the task is done, False if *timeout* ran out first.
        """
        return self._core.wait(check_timeout(timeout))

    def get(self, timeout: float | None = None) -> T_co:
        """Wait for the task and return its result, or raise its exception.

        Blocks like `wait()`.

        Args:
            timeout: Seconds to wait at most; None waits as long as it takes.

        Returns:
            T_co: What the target returned.

        Raises:
            TimeoutError: The builtin one: the task is not done within
                *timeout* seconds.
            TaskCancelled: The task was canceled.
            BaseException: Whatever the target raised.
        """
        if not self._core.wait(check_timeout(timeout)):
            raise TimeoutError(f'{self!r} did not complete within {timeout} s')
        if self.status == TASK_STATUS_CANCELED:
            raise TaskCancelled(f'{self!r} was canceled')
        if self.exception is not None:
            raise self.exception
        return cast('T_co', self.result)  # None only before completion

    def cancel(self) -> bool:
        """Cancel the task.

        A task that has not started is canceled at once. A running greenlet,
        process or coroutine task is stopped the way its tier allows
        (``TaskCancelled`` raised in its greenlet, its worker process killed,
        its asyncio task cancelled) and ends CANCELED; a running thread task
        only if its code calls `gatasker.checkpoint()` (it ends at the next
        one). Any thread or greenlet; never blocks.

        Returns:
            bool: True if the task is (or will end) canceled; False for a
                completed task and for a running thread task that does not
                call ``checkpoint()``.
        """
        with state_lock:
            status = self.status
            if status == TASK_STATUS_CANCELED:
                return True
            if status in (TASK_STATUS_QUEUED, TASK_STATUS_DELAYED):
                self.status = TASK_STATUS_CANCELED
        if status == TASK_STATUS_STARTED:
            return self._cancel_running()
        if status != TASK_STATUS_CANCELED and self.status == TASK_STATUS_CANCELED:
            self.time_completed = time.time()
            self._core.finish(self)
            self._owner.canceled(self._core.run, self)  # the engine's bookkeeping, in its hub
            return True
        return False

    def _cancel_running(self) -> bool:
        core = self._core
        if self.tt == TT_THREAD and not (core.state is not None and core.state.cooperative):
            return False  # a thread cannot be stopped from outside
        if not core.ask_to_stop(self, TaskCancelled(f'{self!r} was canceled while it ran')):
            return False
        self._owner.interrupt(core.run, self)
        return True

    # -- future protocols --------------------------------------------------

    def add_done_callback(self, fn: Callable[[Task[T_co]], object]) -> None:
        """Call ``fn(task)`` once the task is completed or canceled.

        *fn* runs in a new greenlet of the supervisor's hub, so it may wait
        cooperatively but should not block its OS thread; when the task is
        already done, it runs at once in the caller. What *fn* raises is
        logged, never propagated. Any thread or greenlet; never blocks.

        Args:
            fn: Called with the task.
        """
        if not callable(fn):
            raise TypeError(f'add_done_callback() needs a callable, got {fn!r}')
        if self._core.is_set():
            _call_done_callback(fn, self)
            return
        core = self._core
        owner = self._owner
        call = functools.partial(_call_done_callback, fn)
        core.add_callback(self, lambda task: owner.call_in_hub(core.run, task, call))

    def rawlink(self, callback: Callable[[Task[T_co]], object]) -> None:
        """Call ``callback(task)`` in the caller's hub once done (gevent's protocol).

        This is what lets ``gevent.wait``, ``gevent.joinall`` and
        ``gevent.iwait`` wait for tasks, from any greenlet of any hub (a plain
        thread gets a hub). Call it from the thread whose hub should run
        *callback*; never blocks.

        Args:
            callback: Called with the task in a callback of that hub; must not
                block.
        """
        if not callable(callback):
            raise TypeError(f'rawlink() needs a callable, got {callback!r}')
        link = HubCallback(callback)
        if not self._core.add_link(link):
            link.fire(self)  # done: still through the hub, as gevent's own objects do

    def unlink(self, callback: Callable[[Task[T_co]], object]) -> None:
        """Undo `rawlink()` for *callback* (no-op if it is not linked).

        Call it from the thread that linked it; never blocks.

        Args:
            callback: What was given to `rawlink()`.
        """
        for link in self._core.remove_links(callback):
            link.cancel()

    def __await__(self) -> Generator[Any, None, T_co]:
        """``await task`` in a coroutine on any asyncio loop: waits without
        blocking the loop, then returns the result or raises the exception
        (TaskCancelled if the task was canceled). Cancelling the awaiting
        coroutine cancels the task if it has not started.
        """
        return self._wait_async().__await__()

    async def _wait_async(self) -> T_co:
        if not self._core.is_set():
            import asyncio
            loop = asyncio.get_running_loop()
            waiter: asyncio.Future[None] = loop.create_future()

            def wake(_: Task[Any]) -> None:
                loop.call_soon_threadsafe(_settle, waiter)

            self._core.add_callback(self, wake)
            try:
                await waiter
            except asyncio.CancelledError:
                self.cancel()
                raise
            finally:
                # A waiter that gave up must not be woken later, maybe on a closed loop.
                self._core.remove_callback(wake)
        return self.get(0)

    def future(self) -> concurrent.futures.Future[T_co]:
        """A ``concurrent.futures.Future`` that follows this task.

        It is done when the task is: with the task's result or exception, or
        cancelled. Cancelling it cancels the task (and fails, returning False,
        once the task has started). Use it for ``result(timeout)``,
        ``exception(timeout)``, ``concurrent.futures.wait``/``as_completed``
        and ``asyncio.wrap_future``. Any thread or greenlet; never blocks.

        Returns:
            concurrent.futures.Future: The same future on every call.
        """
        future = self._core.future
        if future is None:
            new = TaskFuture(self)
            future, done = self._core.keep_future(new)
            if done and future is new:  # else the core's finish() settles it
                new.follow(self)
        return future


def _settle(waiter: asyncio.Future[None]) -> None:
    # In the awaiting coroutine's loop.
    if not waiter.done():
        waiter.set_result(None)


def _call_done_callback(fn: Callable[[Any], object], task: Task[Any]) -> None:
    try:
        fn(task)
    except BaseException:  # a user callback never ends the greenlet or thread running it
        logger.exception('done-callback %r of %r failed', fn, task)


def core_of(task: Task[Any]) -> TaskCore:
    """The done-state of *task*, whose callbacks run in the thread that ends it."""
    return task._core
