"""The one priority-FIFO of gatasker. Pure logic: no gevent, no threads.

Serves the most important priority first (lower number first: CRITICAL,
HIGH, NORMAL, LOW) and, within a priority, the oldest item first. Actors'
mailboxes and the tiers' admission queues are both one of these.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Generic, TypeVar

from ._constants import PRIORITIES, TASK_NORMAL

T = TypeVar('T')

#: The priorities other than NORMAL, most important first.
_OTHERS = tuple(p for p in PRIORITIES if p != TASK_NORMAL)


class PriorityFifo(Generic[T]):
    """Items by priority, FIFO within a priority. Not thread-safe: one owner.

    ``normal`` is the FIFO of NORMAL items and ``others`` those of the other
    priorities, None until one was used: while it is None, ``normal`` is the
    whole queue, and its owner may append to and pop from it directly (an
    actor's fast paths do, to save a call per message).
    """

    __slots__ = ('normal', 'others')

    def __init__(self) -> None:
        self.normal: deque[T] = deque()
        self.others: dict[int, deque[T]] | None = None

    def __len__(self) -> int:
        if self.others is None:
            return len(self.normal)
        return len(self.normal) + sum(len(queue) for queue in self.others.values())

    def __bool__(self) -> bool:
        return bool(self.normal) or (self.others is not None and any(self.others.values()))

    def _queue(self, priority: int) -> deque[T]:
        if priority == TASK_NORMAL:
            return self.normal
        others = self.others
        if others is None:
            others = self.others = {p: deque() for p in _OTHERS}
        return others[priority]

    def push(self, item: T, priority: int = TASK_NORMAL) -> None:
        """Append *item* behind the items of the same priority.

        KeyError if *priority* is not one of the four priorities (callers
        validate it first).
        """
        if priority == TASK_NORMAL:
            self.normal.append(item)
        else:
            self._queue(priority).append(item)

    def first_priority(self) -> int | None:
        """The priority of the item `pop` would return; None when empty."""
        others = self.others
        if others is None:
            return TASK_NORMAL if self.normal else None
        for priority in PRIORITIES:
            if self.normal if priority == TASK_NORMAL else others[priority]:
                return priority
        return None

    def pop(self) -> T:
        """Remove and return the next item; IndexError when empty."""
        others = self.others
        if others is not None:
            for priority in PRIORITIES:
                queue = self.normal if priority == TASK_NORMAL else others[priority]
                if queue:
                    return queue.popleft()
            raise IndexError('pop from an empty priority FIFO')
        return self.normal.popleft()

    def remove(self, item: T, priority: int) -> bool:
        """Remove *item* queued at *priority*; False if it is not there."""
        try:
            self._queue(priority).remove(item)
        except ValueError:
            return False
        return True

    def counts(self) -> dict[int, int]:
        """The number of items per priority (every priority, most important first)."""
        others = self.others
        return {p: len(self.normal) if p == TASK_NORMAL else
                (len(others[p]) if others is not None else 0) for p in PRIORITIES}

    def drain(self) -> Iterator[T]:
        """Remove and yield every item in serving order."""
        while self:
            yield self.pop()
