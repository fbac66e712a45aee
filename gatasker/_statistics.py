"""Snapshot objects returned by ``TaskSupervisor.statistics()``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TierCounters:
    """Running totals of one tier, kept by the supervisor's greenlet."""

    completed: int = 0
    failed: int = 0
    cancelled: int = 0


@dataclass(frozen=True)
class TierStatistics:
    """One tier at the moment of the snapshot.

    ``completed`` counts every task that ended (``failed`` of them raised);
    ``cancelled`` counts tasks canceled before they started.
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


@dataclass(frozen=True)
class SupervisorStatistics:
    """A supervisor at the moment of the snapshot."""

    id: Any
    state: str
    mode: str | None
    tasks: int
    tiers: dict[str, TierStatistics] = field(default_factory=dict)
    actors: int = 0
    workers: int = 0
    aloops: int = 0
