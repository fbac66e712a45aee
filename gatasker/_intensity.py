"""Restart intensity and backoff for supervisors. Pure logic: no gevent, no threads.

`RestartIntensity` is Erlang/OTP's ``intensity``/``period``: at most
``max_restarts`` restarts within any ``within`` seconds. `Backoff`
spaces restarts exponentially, with jitter so that restarted siblings do not
come back in lock-step.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable

from ._constants import check_count, check_seconds


class RestartIntensity:
    """Counts restarts in a sliding window of ``within`` seconds."""

    __slots__ = ('_times', 'max_restarts', 'within')

    def __init__(self, max_restarts: int | None, within: float) -> None:
        self.max_restarts = None if max_restarts is None else check_count(max_restarts,
                                                                          'max_restarts')
        self.within = check_seconds(within, 'within', positive=True, optional=False)
        self._times: deque[float] = deque()

    def in_window(self, now: float) -> int:
        """How many restarts happened in the window ending at *now*."""
        times = self._times
        while times and times[0] <= now - self.within:
            times.popleft()
        return len(times)

    def record(self, now: float) -> bool:
        """Count one more restart at *now*; False when that is one too many."""
        count = self.in_window(now) + 1
        self._times.append(now)
        return self.max_restarts is None or count <= self.max_restarts

    def reset(self) -> None:
        """Forget every restart."""
        self._times.clear()


class Backoff:
    """Delay before the n-th restart in the window: ``initial * 2**(n-1)``,
    capped at ``maximum``, then drawn uniformly from its upper half (jitter)."""

    __slots__ = ('_random', 'initial', 'maximum')

    def __init__(self, initial: float, maximum: float,
                 rand: Callable[[], float] = random.random) -> None:
        self.initial = check_seconds(initial, 'backoff initial', optional=False)
        self.maximum = check_seconds(maximum, 'backoff maximum', optional=False)
        if self.maximum < self.initial:
            raise ValueError(f'backoff maximum {maximum!r} is below initial {initial!r}')
        self._random = rand

    def delay(self, restarts: int) -> float:
        """Seconds to wait before restart number *restarts* (1 for the first)."""
        if restarts < 1:
            return 0.0
        base = min(self.maximum, self.initial * 2.0 ** min(restarts - 1, 64))
        return base / 2 + self._random() * base / 2
