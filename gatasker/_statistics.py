"""Snapshot objects returned by ``TaskSupervisor.statistics()``, and the
counters behind them.

The counters are plain objects changed only by the supervisor's greenlet
(tiers) or an actor's greenlet (actors), so they need no lock; a snapshot
reads them from any thread and may be off by what moves meanwhile.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

from ._constants import PRIORITIES

#: Upper bounds (seconds) of the latency histograms' buckets; one more
#: bucket counts what is above the last bound.
LATENCY_BOUNDS: tuple[float, ...] = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    30.0, 60.0)


@dataclass(frozen=True)
class HistogramSnapshot:
    """Observed durations in buckets.

    ``counts[i]`` counts the values ``<= bounds[i]`` and above the previous
    bound; the last entry of ``counts`` (one more than ``bounds``) counts the
    values above the last bound. Not cumulative.
    """

    bounds: tuple[float, ...]
    counts: tuple[int, ...]
    sum: float

    @property
    def count(self) -> int:
        """How many values were observed."""
        return sum(self.counts)

    def quantile(self, q: float) -> float | None:
        """The bucket bound below which a fraction *q* of the values lies.

        Args:
            q: A fraction, from 0 to 1.

        Returns:
            float | None: None when nothing was observed; ``inf`` when the
                quantile is above the last bound.
        """
        if not 0.0 <= q <= 1.0:
            raise ValueError(f'q must be between 0 and 1, got {q!r}')
        total = self.count
        if not total:
            return None
        seen = 0
        for bound, count in zip(self.bounds, self.counts, strict=False):
            seen += count
            if seen >= q * total:
                return bound
        return float('inf')


class Histogram:
    """Durations counted into `LATENCY_BOUNDS` buckets; one writer."""

    __slots__ = ('counts', 'sum')

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BOUNDS) + 1)
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        """Count one duration."""
        self.counts[bisect_left(LATENCY_BOUNDS, seconds)] += 1
        self.sum += seconds

    def snapshot(self) -> HistogramSnapshot:
        """A frozen copy (any thread)."""
        return HistogramSnapshot(LATENCY_BOUNDS, tuple(self.counts), self.sum)


class PriorityCounters:
    """Running totals of one priority of one tier."""

    __slots__ = ('cancelled', 'completed', 'failed', 'queue_wait', 'run_time', 'running',
                 'timed_out')

    def __init__(self) -> None:
        self.running = 0
        self.completed = 0
        self.failed = 0
        self.cancelled = 0
        self.timed_out = 0
        self.queue_wait = Histogram()
        self.run_time = Histogram()


def tier_counters() -> dict[int, PriorityCounters]:
    """Fresh counters for one tier, one per priority."""
    return {priority: PriorityCounters() for priority in PRIORITIES}


@dataclass(frozen=True)
class PriorityStatistics:
    """One priority of one tier at the moment of the snapshot.

    ``completed`` counts tasks that ended (``failed`` of them raised),
    ``cancelled`` tasks canceled before they started, ``timed_out`` how
    often a waiting task passed ``timeout_warning`` or ``timeout_critical``.
    ``queue_wait`` is the time from queued (after any delay) to started;
    ``run_time`` from started to ended.
    """

    running: int
    queued: int
    completed: int
    failed: int
    cancelled: int
    timed_out: int
    queue_wait: HistogramSnapshot
    run_time: HistogramSnapshot

    @classmethod
    def of(cls, counters: PriorityCounters, queued: int) -> PriorityStatistics:
        """A snapshot of *counters* (any thread)."""
        return cls(running=counters.running, queued=queued, completed=counters.completed,
                   failed=counters.failed, cancelled=counters.cancelled,
                   timed_out=counters.timed_out, queue_wait=counters.queue_wait.snapshot(),
                   run_time=counters.run_time.snapshot())


@dataclass(frozen=True)
class TierStatistics:
    """One tier at the moment of the snapshot (frozen; made by the tier's
    limiter, any thread, never blocks).

    Attributes:
        name: the tier: ``'thread'``, ``'greenlet'`` or ``'mp'``.
        pool_size: slots for LOW tasks (0: unlimited).
        reserve_normal: more slots NORMAL tasks may also use.
        reserve_high: more slots HIGH tasks may also use (CRITICAL tasks
            always start).
        running: tasks started and not yet ended, CRITICAL ones included
            (0 before the first start).
        queued: per priority, tasks waiting for a slot (not delayed ones).
        completed: tasks that ended, since the supervisor was made.
        failed: of the completed, those whose target raised.
        cancelled: tasks canceled before they started.
        priorities: the same per priority, with the time limits passed and
            latency histograms.
    """

    name: str
    pool_size: int
    reserve_normal: int
    reserve_high: int
    running: int
    queued: dict[int, int]
    completed: int
    failed: int
    cancelled: int
    priorities: dict[int, PriorityStatistics] = field(default_factory=dict)


@dataclass(frozen=True)
class ActorStatistics:
    """One running actor or worker.

    ``mailbox`` is the number of messages (or queued items) waiting;
    ``handled`` counts messages handled (executor runs for a worker),
    ``failed`` those whose handler (executor) raised, ``restarts`` how often
    an ``ActorSupervisor`` restarted it.
    """

    name: str
    kind: str
    mailbox: int
    handled: int
    failed: int
    restarts: int = 0


@dataclass(frozen=True)
class ProcessPoolStatistics:
    """The built-in process pool: configured ``processes``, ``alive`` worker
    processes, and how many were ``replaced`` after they died."""

    processes: int
    alive: int
    replaced: int


@dataclass(frozen=True)
class HubStatistics:
    """The hub watchdog's view of the supervisor's hub (see ``watch_hub``).

    ``lag_p99`` is the 99th percentile of the recent lags (seconds a
    callback waited for the hub); ``incidents`` counts the times the hub
    was blocked longer than ``threshold``; ``last_stack`` is the stack the
    hub's thread ran at the latest incident.
    """

    threshold: float
    lag_p99: float | None
    lag_max: float | None
    incidents: int
    samples: int
    last_stack: str | None = None


@dataclass(frozen=True)
class SupervisorStatistics:
    """A supervisor at the moment of the snapshot."""

    id: object
    state: str
    mode: str | None
    tasks: int
    tiers: dict[str, TierStatistics] = field(default_factory=dict)
    actors: int = 0
    workers: int = 0
    aloops: int = 0
    actor_statistics: tuple[ActorStatistics, ...] = ()
    process_pool: ProcessPoolStatistics | None = None
    hub: HubStatistics | None = None
