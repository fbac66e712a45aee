"""The exceptions gatasker raises: one base class and a few specific ones."""

from __future__ import annotations

import concurrent.futures


class GataskerError(Exception):
    """Base class of every exception defined by gatasker."""


class SupervisorNotRunning(GataskerError, RuntimeError):
    """Raised when work is queued on a supervisor that is stopped or stopping."""


class TaskCancelled(GataskerError, concurrent.futures.CancelledError):
    """Raised by `Task.get()` and `wait_completed()` for a task that was canceled."""


class MailboxFull(GataskerError, OverflowError):
    """Raised by ``Actor.tell(..., block=False)`` when a bounded mailbox is full."""


class ActorNotRunning(GataskerError, RuntimeError):
    """Raised when a message is sent to an actor that is not running."""


class WorkerProcessDied(GataskerError, RuntimeError):
    """The process running a task exited before it returned a result."""


class TaskTimeout(GataskerError, TimeoutError):
    """A task's run-time limit passed: raised in the task's code where its tier
    can (greenlet, process, at a ``checkpoint()``) and kept as the task's
    ``exception``. Not raised for a wait in the queue (that is ``timeout_warning``)."""
