"""What the supervisor and its engine call on an execution tier.

A tier runs the tasks the engine's admission let start: the greenlet tier
(``_greenlet_tier.py``), the thread tier (``_thread_tier.py``) and the
process tier (``_process_tier.py``). A run of the supervisor holds one of
each that is available, as ``HubRun.tiers: dict[int, Tier]``; the engine
picks the tier by the task's ``tt``. Every method is called only from the
supervisor's mailbox greenlet, in its hub; a tier reports a task's end by
calling its ``done`` callback, from whichever thread ran the task.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ._admission import Limits
from ._task_run import TaskRun

#: How a tier reports that a task's target ended: ``done(task, ok, value)``,
#: with the result (``ok``) or the exception. Thread-safe: any thread may call it.
Done = Callable[[TaskRun, bool, object], None]


@dataclass(frozen=True)
class TierUsage:
    """What a tier holds right now (a snapshot; any thread may read it).

    Attributes:
        workers: the workers the tier keeps now: OS threads of the thread
            tier's pool, worker greenlets of the greenlet tier (parked ones
            included), worker processes of the process tier's own pool (0
            with a user executor or dask, whose workers it does not see).
    """

    workers: int


class Tier(Protocol):
    """An execution tier, as the supervisor's engine drives it (its hub only)."""

    @property
    def name(self) -> str:
        """``'greenlet'``, ``'thread'`` or ``'mp'``."""

    def start(self) -> None:
        """Acquire the tier's resources (threads, processes) in the hub."""

    def execute(self, task: TaskRun) -> None:
        """Run *task*, admitted and marked started; its end comes back through
        the tier's ``done``. Never blocks the calling greenlet."""

    def interrupt(self, task: TaskRun, exc: BaseException, hard: bool) -> bool:
        """Stop the running *task* the way the tier can: raise *exc* in it,
        or with *hard* end it for good (a killed worker process). False if
        the tier cannot (a thread) or *task* does not run here."""

    def task_finished(self, task: TaskRun) -> None:
        """The end of a task this tier ran was handled: its slot is free."""

    def resize(self, limits: Limits) -> None:
        """Adapt to new limits (the tier's `TierLimiter` holds them: the thread
        tier takes `ThreadLimits`); running tasks are never stopped."""

    def usage(self) -> TierUsage:
        """What the tier holds now."""

    def stop(self, wait: bool) -> None:
        """Release the tier's resources; with *wait*, after running tasks end."""
