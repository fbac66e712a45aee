"""The Task object and :func:`wait_completed`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextvars import Context, ContextVar
from typing import TYPE_CHECKING, Any

from zope.interface import implementer

from ._bridge import Latch, state_lock
from ._constants import (
    TASK_STATUS_CANCELED,
    TASK_STATUS_COMPLETED,
    TASK_STATUS_DELAYED,
    TASK_STATUS_QUEUED,
    TASK_STATUS_STARTED,
)
from ._errors import TaskCancelled
from ._interfaces import ITask

if TYPE_CHECKING:
    from ._supervisor import _SupervisorCore

_STATUS_NAMES = {
    TASK_STATUS_QUEUED: 'queued',
    TASK_STATUS_DELAYED: 'delayed',
    TASK_STATUS_STARTED: 'started',
    TASK_STATUS_COMPLETED: 'completed',
    TASK_STATUS_CANCELED: 'canceled',
}


@implementer(ITask)
class Task:
    """One unit of work queued on a supervisor.

    A task is created by :meth:`TaskSupervisor.put_task` or by calling a
    :func:`background_task`; it is never constructed directly. Its fields
    may be read from any thread. It ends COMPLETED (with ``result`` or
    ``exception``) or CANCELED, exactly once.
    """

    __slots__ = (
        '__weakref__',
        '_callbacks',
        '_done',
        '_handle',
        '_run',
        '_supervisor',
        'args',
        'callback',
        'delay',
        'exception',
        'id',
        'kwargs',
        'loop',
        'name',
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
        supervisor: _SupervisorCore,
        task_id: Any,
        tt: int,
        target: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        callback: Callable[[Any], Any] | None,
        priority: int,
        delay: float | None,
        worker: Any,
        name: str | None,
        loop: Any = None,
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
        self.status = TASK_STATUS_DELAYED if delay else TASK_STATUS_QUEUED
        self.result: Any = None
        self.exception: BaseException | None = None
        self.time_queued = time.time()
        self.time_started: float | None = None
        self.time_completed: float | None = None
        self._supervisor = supervisor
        self._run: Any = None  # the supervisor run the task was queued in
        self._done = Latch()
        #: The tier's handle while delayed or running (a timer, a future ...).
        self._handle: Any = None
        self._callbacks: list[Callable[[Task], Any]] | None = None

    def __repr__(self) -> str:
        name = self.name or getattr(self.target, '__qualname__', repr(self.target))
        return (f'<Task {self.id!r} {name} priority={self.priority} '
                f'{_STATUS_NAMES.get(self.status, self.status)}>')

    # -- state, readable from anywhere ------------------------------------

    def is_started(self) -> bool:
        """True once the task began running (also after it completed)."""
        return self.status in (TASK_STATUS_STARTED, TASK_STATUS_COMPLETED)

    def is_completed(self) -> bool:
        """True once the target returned or raised."""
        return self.status == TASK_STATUS_COMPLETED

    def is_canceled(self) -> bool:
        """True if the task was canceled before it started."""
        return self.status == TASK_STATUS_CANCELED

    def done(self) -> bool:
        """True once the task is COMPLETED or CANCELED."""
        return self._done.is_set()

    # -- waiting -----------------------------------------------------------

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the task is completed or canceled; return whether it is.

        Blocks: cooperatively in a greenlet, or the calling OS thread.
        """
        return self._done.wait(timeout)

    def get(self, timeout: float | None = None) -> Any:
        """Wait for the task and return its result, or raise its exception.

        Raises the builtin TimeoutError if it is not done within *timeout*
        seconds, and TaskCancelled if it was canceled. Blocks like :meth:`wait`.
        """
        if not self._done.wait(timeout):
            raise TimeoutError(f'{self!r} did not complete within {timeout} s')
        if self.status == TASK_STATUS_CANCELED:
            raise TaskCancelled(f'{self!r} was canceled')
        if self.exception is not None:
            raise self.exception
        return self.result

    def cancel(self) -> bool:
        """Cancel the task if it has not started; return True if it is canceled.

        A started or completed task cannot be canceled (returns False). May
        be called from any thread or greenlet; never blocks.
        """
        with state_lock:
            if self.status == TASK_STATUS_CANCELED:
                return True
            if self.status not in (TASK_STATUS_QUEUED, TASK_STATUS_DELAYED):
                return False
            self.status = TASK_STATUS_CANCELED
        self._supervisor._task_canceled(self)
        return True

    # -- used by the supervisor ------------------------------------------

    def _mark_started(self) -> bool:
        """QUEUED -> STARTED; False if the task was canceled meanwhile."""
        with state_lock:
            if self.status != TASK_STATUS_QUEUED:
                return False
            self.status = TASK_STATUS_STARTED
        self.time_started = time.time()
        return True

    def _mark_queued(self) -> bool:
        """DELAYED -> QUEUED; False if the task was canceled meanwhile."""
        with state_lock:
            if self.status != TASK_STATUS_DELAYED:
                return False
            self.status = TASK_STATUS_QUEUED
        return True

    def _complete(self, ok: bool, value: Any) -> None:
        if ok:
            self.result = value
        else:
            self.exception = value
        self.time_completed = time.time()
        self.status = TASK_STATUS_COMPLETED
        self._handle = None
        self._done.set()
        self._run_callbacks()

    def _finish_canceled(self) -> None:
        # _handle (a delay timer) is closed by the supervisor's greenlet.
        self.status = TASK_STATUS_CANCELED
        self.time_completed = time.time()
        self._done.set()
        self._run_callbacks()

    def _add_done_callback(self, func: Callable[[Task], Any]) -> None:
        """Call ``func(task)`` once the task is done (at once if it is).

        *func* runs in whichever thread ends the task (the supervisor's hub,
        or a thread calling cancel()); it must not block. Internal: used to
        wake other event loops (aloops) without a waiting thread.
        """
        with state_lock:
            if not self._done.is_set():
                if self._callbacks is None:
                    self._callbacks = []
                self._callbacks.append(func)
                return
        func(self)

    def _run_callbacks(self) -> None:
        with state_lock:
            callbacks, self._callbacks = self._callbacks, None
        for func in callbacks or ():
            try:
                func(self)
            except Exception:
                from ._logging import logger
                logger.exception('task done-callback %r failed', func)


def _outcome(task: Task, return_exceptions: bool) -> Any:
    if task.status == TASK_STATUS_CANCELED:
        exc: BaseException = TaskCancelled(f'{task!r} was canceled')
    elif task.exception is not None:
        exc = task.exception
    else:
        return task.result
    if return_exceptions:
        return exc
    raise exc


def wait_completed(
    tasks: Task | Iterable[Task],
    timeout: float | None = None,
    return_exceptions: bool = False,
) -> Any:
    """Wait for tasks and return their results.

    A single :class:`Task` gives its result; any iterable of tasks (a
    generator too) gives the list of results in input order. A failed task
    re-raises its exception, unless *return_exceptions* puts the exception
    object in its place. *timeout* bounds the whole wait; when it runs out
    the builtin TimeoutError is raised.

    Blocks: cooperatively in a greenlet, or the calling OS thread.
    """
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise TypeError(f'timeout must be a number of seconds or None, got {timeout!r}')
        if timeout < 0:
            raise ValueError(f'timeout must not be negative, got {timeout!r}')
    task_list: list[Task]
    single = isinstance(tasks, Task)
    if isinstance(tasks, Task):
        task_list = [tasks]
    else:
        try:
            task_list = list(tasks)
        except TypeError:
            raise TypeError(f'wait_completed() takes a Task or an iterable of Tasks, '
                            f'got {tasks!r}') from None
        for task in task_list:
            if not isinstance(task, Task):
                raise TypeError(f'wait_completed() got {task!r}, which is not a Task')
    deadline = None if timeout is None else time.monotonic() + timeout
    for task in task_list:
        if task._done.is_set():
            continue
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not task._done.wait(remaining):
            raise TimeoutError(f'{task!r} did not complete within {timeout} s')
    results = [_outcome(task, return_exceptions) for task in task_list]
    return results[0] if single else results


#: The task the current greenlet or thread is running (set by the tiers).
current_task: ContextVar[Task | None] = ContextVar('gatasker_current_task', default=None)


def run_target(task: Task) -> tuple[bool, Any]:
    """Call the task's target here and now; return ``(ok, result_or_exception)``.

    The target runs in a fresh ``contextvars`` context, so a task never sees
    the context variables (``g`` included) of the task that ran before it on
    the same worker greenlet or thread. Catches BaseException too:
    ``sys.exit()`` in a task ends that task, not the thread or greenlet that
    ran it.
    """
    return Context().run(_run_in_context, task)


def _run_in_context(task: Task) -> tuple[bool, Any]:
    current_task.set(task)
    try:
        return True, task.target(*task.args, **task.kwargs)
    except BaseException as exc:  # reported as the task's outcome
        return False, exc
