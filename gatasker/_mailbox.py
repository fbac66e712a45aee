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
    """Priority-ordered, FIFO within a priority.

    ``normal`` is the FIFO of NORMAL items and ``others`` those of the other
    priorities, None until one was used: while it is None, ``normal`` is the
    whole mailbox, and its owner may append to and pop from it directly
    (the actor's fast paths do, to save a call per message).
    """

    __slots__ = ('normal', 'others')

    def __init__(self) -> None:
        self.normal: deque[Any] = deque()
        self.others: dict[int, deque[Any]] | None = None

    def __len__(self) -> int:
        if self.others is None:
            return len(self.normal)
        return len(self.normal) + sum(len(queue) for queue in self.others.values())

    def __bool__(self) -> bool:
        return bool(self.normal) or (self.others is not None and any(self.others.values()))

    def put(self, item: Any, priority: int = TASK_NORMAL) -> None:
        """Append *item* behind the items of the same priority."""
        if priority == TASK_NORMAL:
            self.normal.append(item)
        else:
            if self.others is None:
                self.others = {p: deque() for p in PRIORITIES if p != TASK_NORMAL}
            self.others[priority].append(item)

    def pop(self) -> Any:
        """Remove and return the next item; IndexError when empty."""
        others = self.others
        if others is not None:
            for priority in PRIORITIES:
                queue = self.normal if priority == TASK_NORMAL else others[priority]
                if queue:
                    return queue.popleft()
            raise IndexError('pop from an empty mailbox')
        return self.normal.popleft()

    def drain(self) -> Iterator[Any]:
        """Remove and yield every item in serving order."""
        while self:
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
