"""Message ordering for actors. Pure logic: no gevent, no threads.

`Mailbox` is FIFO within a priority and serves the most important
priority first (lower number first, the task priorities). `HeapMailbox`
serves the smallest message first (FIFO among equal ones), for queue workers
built with a priority queue kind.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from typing import Protocol, cast

from ._constants import TASK_NORMAL
from ._fifo import PriorityFifo

#: Priority-ordered, FIFO within a priority: the one priority FIFO (see ``_fifo``).
Mailbox = PriorityFifo


class _Ordered(Protocol):
    def __lt__(self, other: object, /) -> object: ...


class HeapMailbox:
    """Smallest item first; FIFO among equal items."""

    __slots__ = ('_heap', '_seq')

    def __init__(self) -> None:
        self._heap: list[tuple[_Ordered, int]] = []
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, item: object, priority: int = TASK_NORMAL) -> None:
        """Add *item*; items must be comparable with each other (TypeError otherwise)."""
        ordered = cast(_Ordered, item)
        if self._heap:
            ordered < self._heap[0][0]  # noqa: B015 - fail here, not in the worker
        heapq.heappush(self._heap, (ordered, next(self._seq)))

    def pop(self) -> object:
        """Remove and return the smallest item; IndexError when empty."""
        return heapq.heappop(self._heap)[0]

    def drain(self) -> Iterator[object]:
        """Remove and yield every item, smallest first."""
        while self._heap:
            yield self.pop()
