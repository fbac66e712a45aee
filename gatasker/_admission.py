"""Reserve accounting and strict priority order for one execution tier.

Pure logic: no gevent, no threads, no clocks. The supervisor owns one
`Admission` per tier and touches it only from its own greenlet, so
nothing here needs a lock.

A tier has ``pool_size`` slots for LOW work, ``reserve_normal`` more slots
that NORMAL work may also use, and ``reserve_high`` more that HIGH work may
also use. CRITICAL work always starts. ``pool_size == 0`` means unlimited.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from ._constants import (
    PRIORITIES,
    TASK_CRITICAL,
    TASK_HIGH,
    TASK_LOW,
    TASK_NORMAL,
    check_count,
    check_priority,
)
from ._fifo import PriorityFifo

T = TypeVar('T')


@dataclass(frozen=True)
class Limits:
    """The sizes of one tier. Immutable: resizing swaps in a new object."""

    pool_size: int = 0
    reserve_normal: int = 0
    reserve_high: int = 0

    def __post_init__(self) -> None:
        check_count(self.pool_size, 'pool_size')
        check_count(self.reserve_normal, 'reserve_normal')
        check_count(self.reserve_high, 'reserve_high')

    @property
    def unlimited(self) -> bool:
        """True when ``pool_size`` is 0: every task may start at once."""
        return self.pool_size == 0

    @property
    def total(self) -> int:
        """Slots available to HIGH work: the size of the tier when it is full."""
        return self.pool_size + self.reserve_normal + self.reserve_high

    def limit(self, priority: int) -> int | None:
        """How many tasks may run before a task of *priority* must wait (None: no limit)."""
        if priority == TASK_CRITICAL or self.unlimited:
            return None
        if priority == TASK_LOW:
            return self.pool_size
        if priority == TASK_NORMAL:
            return self.pool_size + self.reserve_normal
        if priority == TASK_HIGH:
            return self.total
        check_priority(priority)
        raise AssertionError('unreachable')


class Admission(Generic[T]):
    """Decides which waiting item of a tier starts next.

    Items wait in a [PriorityFifo][gatasker._fifo.PriorityFifo].
    `pop_startable` returns the next item that may start: the oldest of the
    most important priority that has waiting items, if its limit allows;
    otherwise nothing, because every less important priority has a lower or
    equal limit. So a LOW item never overtakes a waiting NORMAL or HIGH one.
    """

    __slots__ = ('_ordered', '_waiting', 'limits', 'running')

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits if limits is not None else Limits()
        #: Items started and not yet finished (CRITICAL ones included).
        self.running = 0
        self._waiting: PriorityFifo[T] = PriorityFifo()
        self._ordered: tuple[tuple[int, deque[T]], ...] | None = None

    def can_start(self, priority: int) -> bool:
        """True if an item of *priority* may start now (ignoring waiting items)."""
        limit = self.limits.limit(priority)
        return limit is None or self.running < limit

    def may_start_now(self, priority: int) -> bool:
        """True if an item of *priority* would start at once: its limit allows it
        and no item of the same or a more important priority is waiting."""
        if not self.can_start(priority):
            return False
        first = self._waiting.first_priority()
        return first is None or first > priority

    def push(self, item: T, priority: int) -> None:
        """Queue *item*; it starts when `pop_startable` returns it."""
        self._waiting.push(item, priority)

    def pop_startable(self) -> T | None:
        """Remove and return the next item that may start, counting it as running."""
        # One pass over the FIFO's queues (its owner's fast path: see PriorityFifo),
        # not first_priority() and then pop(): this runs for every dispatch.
        ordered = self._ordered
        if ordered is None:
            waiting = self._waiting
            if waiting.others is None:  # only NORMAL items were ever queued
                queue = waiting.normal
                if not queue or not self.can_start(TASK_NORMAL):
                    return None
                self.running += 1
                return queue.popleft()
            ordered = self._ordered = self._queues_in_order()
        for priority, queue in ordered:
            if queue:
                if not self.can_start(priority):
                    return None
                self.running += 1
                return queue.popleft()
        return None

    def _queues_in_order(self) -> tuple[tuple[int, deque[T]], ...]:
        # The FIFO keeps its deques for good once it has them all, so this is made once.
        waiting = self._waiting
        others = waiting.others
        assert others is not None
        return tuple((priority, waiting.normal if priority == TASK_NORMAL else others[priority])
                     for priority in PRIORITIES)

    def start_now(self) -> None:
        """Count an item that starts without having been queued."""
        self.running += 1

    def finish(self) -> None:
        """Count one running item as finished."""
        if self.running <= 0:
            raise RuntimeError('finish() without a running item')
        self.running -= 1

    def remove(self, item: T, priority: int) -> bool:
        """Remove a waiting *item*; return False if it was not waiting."""
        return self._waiting.remove(item, priority)

    def queued(self) -> dict[int, int]:
        """The number of waiting items per priority."""
        return self._waiting.counts()

    def queued_total(self) -> int:
        """The number of waiting items of every priority."""
        return len(self._waiting)

    def drain(self) -> Iterator[T]:
        """Remove and yield every waiting item, most important first."""
        return self._waiting.drain()
