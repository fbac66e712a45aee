"""Where a tracer plugs into the core (``gatasker.contrib.opentelemetry`` is one).

The core reads `tracer` at five places: when a task is queued (in the
caller), around a task's target (in the thread or greenlet that runs it),
around a coroutine task (on its aloop), when a process task's target is
pickled, and when an actor message is told/asked and handled. While no
tracer is installed that is one global read each; no OTel import here.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ._task import Task
    from ._task_run import TaskRun


class MessageReceiver(Protocol):
    """What a tracer may read of the actor (or queue worker) handling a message."""

    @property
    def name(self) -> str:
        """The actor's name."""

    @property
    def supervisor(self) -> object:
        """The supervisor it runs under."""


class Tracer(Protocol):
    """The hooks; each must be quick and must not raise."""

    def task_queued(self, record: TaskRun, supervisor: object) -> object:
        """In the caller of ``put_task``, before the task can start, with the
        engine's record of the task and the supervisor it is queued on: return
        what the record carries (``record.trace``), or None to leave the task
        alone."""

    def task_running(self, task: Task[Any]) -> AbstractContextManager[object]:
        """Entered around the target, in the OS thread or greenlet that runs it."""

    def coroutine(self, task: Task[Any],
                  coro: Coroutine[Any, Any, Any]) -> Coroutine[Any, Any, Any]:
        """A coroutine task's coroutine, wrapped to run in the task's context."""

    def process_target(self, task: Task[Any],
                       target: Callable[..., Any]) -> Callable[..., Any]:
        """A picklable stand-in for *target* that enters the task's context
        in the worker process; *target* itself, unchanged, when the task
        carries no trace (the process worker relies on that)."""

    def message_sent(self) -> object:
        """In the caller of ``tell``/``ask``: the context to carry, or None."""

    def message_handling(self, actor: MessageReceiver,
                         carried: object) -> AbstractContextManager[object]:
        """Entered around ``on_receive`` (a queue worker's run) of a carried message."""


#: The installed tracer, or None.
tracer: Tracer | None = None
