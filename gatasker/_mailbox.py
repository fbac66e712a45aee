"""Message ordering for actors. Pure logic: no gevent, no threads.

:class:`Mailbox` is FIFO within a priority and serves the most important
priority first (lower number first, the task priorities). :class:`HeapMailbox`
serves the smallest message first (FIFO among equal ones), for queue workers
built with a priority queue kind.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Iterator
from typing import Any

from ._constants import PRIORITIES, TASK_NORMAL


class Mailbox:
    """Priority-ordered, FIFO within a priority."""

    __slots__ = ('_normal', '_others', '_size')

    def __init__(self) -> None:
        self._normal: deque[Any] = deque()  # the common case needs no lookup
        self._others: dict[int, deque[Any]] | None = None
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def put(self, item: Any, priority: int = TASK_NORMAL) -> None:
        """Append *item* behind the items of the same priority."""
        if priority == TASK_NORMAL:
            self._normal.append(item)
        else:
            if self._others is None:
                self._others = {p: deque() for p in PRIORITIES if p != TASK_NORMAL}
            self._others[priority].append(item)
        self._size += 1

    def pop(self) -> Any:
        """Remove and return the next item; IndexError when empty."""
        others = self._others
        if others is not None:
            for priority in PRIORITIES:
                queue = self._normal if priority == TASK_NORMAL else others[priority]
                if queue:
                    self._size -= 1
                    return queue.popleft()
            raise IndexError('pop from an empty mailbox')
        item = self._normal.popleft()
        self._size -= 1
        return item

    def drain(self) -> Iterator[Any]:
        """Remove and yield every item in serving order."""
        while self._size:
            yield self.pop()


class HeapMailbox:
    """Smallest item first; FIFO among equal items."""

    __slots__ = ('_heap', '_seq')

    def __init__(self) -> None:
        self._heap: list[tuple[Any, int]] = []
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def put(self, item: Any, priority: int = TASK_NORMAL) -> None:
        """Add *item*; items must be comparable with each other (TypeError otherwise)."""
        entry = (item, next(self._seq))
        if self._heap:
            item < self._heap[0][0]  # noqa: B015 - fail here, not in the worker
        heapq.heappush(self._heap, entry)

    def pop(self) -> Any:
        """Remove and return the smallest item; IndexError when empty."""
        return heapq.heappop(self._heap)[0]

    def drain(self) -> Iterator[Any]:
        """Remove and yield every item, smallest first."""
        while self._heap:
            yield self.pop()
