"""One execution tier's capacity: its limits, admission queue, counters and statistics.

trio's ``CapacityLimiter`` is the model. ``limits`` is a property whose
setter checks the new limits before anything changes and then wakes the
waiters: it asks the supervisor to post the engine's resize to the running
hub, which resizes the tier and starts the queued tasks the new limits let
start. `TierLimiter.statistics` is a frozen snapshot.

The supervisor holds one `TierLimiter` per tier (TT_THREAD, TT_GREENLET,
TT_MP) for its whole life, across restarts: limits and counters survive a
stop; each run opens a new admission queue. Coroutine tasks (TT_COROUTINE)
have no limiter: they hold no slot of any tier (their aloop runs them), so
nothing limits or queues them; the engine counts their ends in counters of
its own that no statistics report.

Threads: ``limits`` may be read and set from any thread and never blocks;
the admission queue and the counters are changed only by the supervisor's
mailbox greenlet (no lock); `statistics` reads them from any thread and may
be off by what moves meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ._admission import Admission, Limits
from ._constants import TIER_NAMES
from ._sizes import merge_limits
from ._statistics import PriorityCounters, PriorityStatistics, TierStatistics, tier_counters
from ._task_run import TaskRun


class TierLimiter:
    """The limits, admission queue, counters and statistics of one tier.

    Args:
        tt: the tier (``TT_THREAD``, ``TT_GREENLET`` or ``TT_MP``).
        limits: its first limits (`ThreadLimits` for the thread tier).
        wake: ``wake(tt)`` after the limits changed: posts the engine's
            resize if the supervisor runs. Any thread; never blocks.
    """

    __slots__ = ('_limits', '_wake', 'admission', 'counters', 'name', 'tt')

    def __init__(self, tt: int, limits: Limits, wake: Callable[[int], None]) -> None:
        self.tt = tt
        self.name: str = TIER_NAMES[tt]
        self._limits = limits
        self._wake = wake
        #: The current (or latest) run's admission queue; None before the first run.
        self.admission: Admission[TaskRun] | None = None
        #: Per priority: what the engine counted (in the mailbox greenlet).
        self.counters: dict[int, PriorityCounters] = tier_counters()

    def __repr__(self) -> str:
        return f'<TierLimiter {self.name} {self._limits}>'

    @property
    def limits(self) -> Limits:
        """The tier's sizes; setting them takes effect at once when running.

        The setter takes limits of the tier's type (`ThreadLimits` for the
        thread tier, `Limits` otherwise), already checked when they were
        made; running tasks are never stopped, and queued tasks the new
        limits let start start. Any thread; never blocks.

        Raises:
            TypeError: limits of another type (nothing changes then).
        """
        return self._limits

    @limits.setter
    def limits(self, limits: Limits) -> None:
        if type(limits) is not type(self._limits):
            raise TypeError(f'the {self.name} tier takes {type(self._limits).__name__}, '
                            f'got {limits!r}')
        self._limits = limits
        self._wake(self.tt)

    def configure(self, sizes: Mapping[str, object], what: str) -> None:
        """``set_<tier>_pool(**sizes)``: change the sizes given, keep the others.

        Raises:
            TypeError: an unknown key (naming *what*) or a size that is not an int.
            ValueError: a bad size. Every check comes first: nothing changes then.

        Any thread; never blocks.
        """
        self.limits = merge_limits(self._limits, sizes, what)

    def open(self) -> Admission[TaskRun]:
        """A new, empty admission queue for a new run, under the current limits.

        In the new run's hub, before it takes tasks.
        """
        self.admission = Admission(self._limits)
        return self.admission

    def wake_if_stale(self) -> None:
        """Wake the tier if its limits changed after its run's admission opened.

        Setting the limits while the supervisor starts wakes nobody (no run
        takes the wake-up yet); the supervisor calls this once it runs, so
        such a change is not lost. An extra wake-up is harmless. Any thread.
        """
        admission = self.admission
        if admission is not None and admission.limits is not self._limits:
            self._wake(self.tt)

    def reset(self) -> None:
        """Forget the run and every count (in a child just forked)."""
        self.admission = None
        # In place: the engine holds this dict.
        self.counters.update(tier_counters())

    def statistics(self, live: bool = True) -> TierStatistics:
        """A snapshot of the tier. Any thread; never blocks.

        Args:
            live: False while the supervisor is stopped: then nothing of the
                tier runs or waits (``running`` 0, ``queued`` empty), whatever
                the last run's queue still holds.
        """
        limits = self._limits
        admission = self.admission if live else None
        queued = admission.queued() if admission is not None else {}
        priorities = {priority: PriorityStatistics.of(counters, queued.get(priority, 0))
                      for priority, counters in self.counters.items()}
        return TierStatistics(
            name=self.name,
            pool_size=limits.pool_size,
            reserve_normal=limits.reserve_normal,
            reserve_high=limits.reserve_high,
            running=admission.running if admission is not None else 0,
            queued=queued,
            completed=sum(p.completed for p in priorities.values()),
            failed=sum(p.failed for p in priorities.values()),
            cancelled=sum(p.cancelled for p in priorities.values()),
            priorities=priorities,
        )
