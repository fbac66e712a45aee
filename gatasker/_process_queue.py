"""The built-in process pool's queue: tasks waiting for a free worker process."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from ._constants import TASK_CRITICAL
from ._task import Task


class WaitingTasks:
    """Tasks waiting for a free process of the pool.

    Not a second priority order: the tier's admission already decided which
    task goes next, and the pool keeps that order. Only CRITICAL tasks, which
    admission lets through beyond the tier's limits, go ahead of the rest.
    """

    __slots__ = ('_admitted', '_critical')

    def __init__(self) -> None:
        self._critical: deque[Task[object]] = deque()
        self._admitted: deque[Task[object]] = deque()

    def __len__(self) -> int:
        return len(self._critical) + len(self._admitted)

    def _queue(self, task: Task[object]) -> deque[Task[object]]:
        return self._critical if task.priority == TASK_CRITICAL else self._admitted

    def push(self, task: Task[object]) -> None:
        """Queue *task* behind those of its kind."""
        self._queue(task).append(task)

    def push_first(self, task: Task[object]) -> None:
        """Queue *task* ahead of those of its kind (it was taken, and never ran)."""
        self._queue(task).appendleft(task)

    def pop(self) -> Task[object]:
        """The next task to run (IndexError when none waits)."""
        return self._critical.popleft() if self._critical else self._admitted.popleft()

    def contains(self, task: Task[object]) -> bool:
        """True if *task* is waiting."""
        return task in self._queue(task)

    def remove(self, task: Task[object]) -> bool:
        """Take *task* out; False if it was not waiting."""
        queue = self._queue(task)
        try:
            queue.remove(task)
        except ValueError:
            return False
        return True

    def drain(self) -> Iterator[Task[object]]:
        """Take out and yield every waiting task, CRITICAL ones first."""
        for queue in (self._critical, self._admitted):
            while queue:
                yield queue.popleft()
