"""Task life-cycle events, published with ``zope.event``.

Subscribe by appending a callable to ``zope.event.subscribers`` (zope.event
is a dependency of gevent, so it is always installed). Events are built only
while somebody subscribed. Subscribers run synchronously: ``TaskQueued`` in
the thread or greenlet that queued the task, the others in the supervisor's
greenlet — so they must be quick and must not block. An exception in a
subscriber is logged and otherwise ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import zope.event

from ._logging import logger


@dataclass(frozen=True)
class TaskEvent:
    """Base class of the task events; ``supervisor_id`` names the supervisor."""

    task: Any
    supervisor_id: Any


@dataclass(frozen=True)
class TaskQueued(TaskEvent):
    """A task was accepted by ``put_task`` (delayed tasks too)."""


@dataclass(frozen=True)
class TaskStarted(TaskEvent):
    """A task was handed to its tier to run."""


@dataclass(frozen=True)
class TaskCompleted(TaskEvent):
    """A task ended: COMPLETED (see ``task.exception``) or CANCELED (``task.status``)."""


@dataclass(frozen=True)
class TaskTimeout(TaskEvent):
    """A task waited longer than ``timeout_warning`` or ``timeout_critical``.

    ``level`` is ``'warning'`` or ``'critical'``.
    """

    level: str = 'warning'


def subscribed() -> bool:
    """True when anybody listens: the emitters skip building events otherwise."""
    return bool(zope.event.subscribers)


def publish(event: TaskEvent) -> None:
    """Call every subscriber with *event*, as ``zope.event.notify`` does, except
    that a failing subscriber is logged and the others still run. Never raises.
    """
    for subscriber in list(zope.event.subscribers):
        try:
            subscriber(event)
        except Exception:
            logger.exception('zope.event subscriber %r failed on %r', subscriber, event)
