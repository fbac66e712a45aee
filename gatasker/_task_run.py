"""The engine's record of a task, and running a task's target.

A `TaskRun` is what the engine, the tiers, the policies and the coroutine
glue hold for each task: the user's `Task` (``task``), the `TaskCore` both
share (``core``), the tier's handle and the tracer's trace, and the
transitions of the task's status. The user only ever sees the `Task`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from contextvars import Context, ContextVar
from typing import Any, Protocol, cast

from ._bridge import state_lock
from ._constants import (
    TASK_STATUS_CANCELED,
    TASK_STATUS_COMPLETED,
    TASK_STATUS_DELAYED,
    TASK_STATUS_QUEUED,
    TASK_STATUS_STARTED,
)
from ._policies import RunState, TaskPolicy
from ._task import Task, TaskOwner
from ._task_core import DoneCallback, TaskCore


class RunTracer(Protocol):
    """The part of a tracer (``_tracing.Tracer``) that `run_target` uses."""

    def task_running(self, task: Task[Any]) -> AbstractContextManager[object]:
        """Entered around the target, in the OS thread or greenlet that runs it."""


class TaskRun:
    """The engine's record of one task (see the module docstring).

    Made with its `Task` by the supervisor. The engine's handlers change it
    in the supervisor's hub; the transitions take ``state_lock`` where
    another thread (a ``cancel()`` caller) may race them.

    Attributes:
        task: The user's handle.
        core: The done flag, callbacks and run state the `Task` shares.
        handle: The tier's handle while delayed or running (a timer, a
            greenlet, a coroutine's handle ...), else None.
        trace: What a tracer keeps with the task (a span), or None.
    """

    __slots__ = ('core', 'handle', 'task', 'trace')

    def __init__(self, owner: TaskOwner, task_id: object, tt: int, target: Callable[..., Any],
                 args: tuple[Any, ...], kwargs: dict[str, Any],
                 callback: Callable[[Any], Any] | None, priority: int, delay: float | None,
                 worker: object, name: str | None, loop: object = None,
                 policy: TaskPolicy | None = None) -> None:
        self.core = core = TaskCore(RunState() if policy is not None else None)
        self.task: Task[Any] = Task(owner, core, task_id, tt, target, args, kwargs, callback,
                                    priority, delay, worker, name, loop, policy)
        self.handle: object = None
        self.trace: object = None

    def __repr__(self) -> str:
        return f'<TaskRun of {self.task!r}>'

    def mark_started(self) -> bool:
        """QUEUED -> STARTED; False if the task was canceled meanwhile."""
        task = self.task
        with state_lock:
            if task.status != TASK_STATUS_QUEUED:
                return False
            task.status = TASK_STATUS_STARTED
        task.attempts += 1
        task.time_started = time.time()
        return True

    def requeue(self) -> bool:
        """STARTED or QUEUED -> DELAYED, to wait outside the pool (a retry's
        backoff, a rate limit); False if the task was canceled meanwhile."""
        task = self.task
        with state_lock:
            if task.status not in (TASK_STATUS_STARTED, TASK_STATUS_QUEUED):
                return False
            task.status = TASK_STATUS_DELAYED
        return True

    def mark_queued(self) -> bool:
        """DELAYED -> QUEUED; False if the task was canceled meanwhile."""
        task = self.task
        with state_lock:
            if task.status != TASK_STATUS_DELAYED:
                return False
            task.status = TASK_STATUS_QUEUED
        return True

    def complete(self, ok: bool, value: object) -> None:
        """The task ends COMPLETED with its result (*ok*) or exception."""
        task = self.task
        if ok:
            task.result = value
        else:
            task.exception = cast(BaseException, value)
        task.time_completed = time.time()
        task.status = TASK_STATUS_COMPLETED
        self.handle = None
        self.core.finish(task)

    def cancel_ran(self) -> None:
        """STARTED -> CANCELED: the run of a task cancelled while it ran ended."""
        with state_lock:
            self.task.status = TASK_STATUS_CANCELED

    def finish_canceled(self) -> None:
        """A CANCELED task is done: its waiters and callbacks learn it.
        (``handle``, a delay timer, is closed by the supervisor's greenlet.)"""
        task = self.task
        task.status = TASK_STATUS_CANCELED
        task.time_completed = time.time()
        self.core.finish(task)

    def drop_after_fork(self) -> None:
        """In a forked child: the task is the parent's, so here it ends CANCELED."""
        with state_lock:
            if self.core.is_set():
                return
            self.task.status = TASK_STATUS_CANCELED
        self.finish_canceled()

    def add_done_callback(self, func: DoneCallback) -> None:
        """Call ``func(task)`` once the task is done (at once if it is), in
        whichever thread ends it; *func* must not block."""
        self.core.add_callback(self.task, func)


#: The record of the task the current greenlet or thread runs (set by `run_target`).
current_run: ContextVar[TaskRun | None] = ContextVar('gatasker_current_task', default=None)


def current_task() -> Task[object] | None:
    """The task whose code calls this. Any thread; never blocks.

    Returns:
        Task | None: The calling greenlet or thread task, else None.
    """
    run = current_run.get()
    return None if run is None else run.task


def checkpoint() -> None:
    """Raise here if the calling task was asked to stop.

    For code of greenlet and thread tasks that wants to stop early: a thread
    cannot be interrupted from outside, so a thread task that calls
    ``checkpoint()`` now and then ends at its soft limit and can be
    cancelled while it runs (``task.cancel()`` returns True for it once it
    called ``checkpoint()``). Outside a task it does nothing. Any thread;
    never blocks.

    Raises:
        TaskTimeout: The task passed a time limit.
        TaskCancelled: The task was cancelled.
    """
    run = current_run.get()
    if run is None:
        return
    state = run.core.run_state()
    state.cooperative = True
    pending = state.pending
    if pending is not None:
        raise pending


def run_target(run: TaskRun, tracer: RunTracer | None) -> tuple[bool, Any]:
    """Call the task's target here and now; return ``(ok, result_or_exception)``.

    The target runs in a fresh ``contextvars`` context, so a task never sees
    the context variables (``g`` included) of the task that ran before it on
    the same worker greenlet or thread. Catches BaseException too:
    ``sys.exit()`` in a task ends that task, not the thread or greenlet that
    ran it.
    """
    return Context().run(_run_in_context, run, tracer)


def _run_in_context(run: TaskRun, tracer: RunTracer | None) -> tuple[bool, Any]:
    current_run.set(run)
    task = run.task
    state = run.core.state
    if state is not None and state.pending is not None:
        return False, state.pending  # canceled between its start and its run
    try:
        if run.trace is not None and tracer is not None:
            with tracer.task_running(task):
                return True, task.target(*task.args, **task.kwargs)
        return True, task.target(*task.args, **task.kwargs)
    except BaseException as exc:  # reported as the task's outcome
        return False, exc
