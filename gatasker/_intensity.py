"""Restart intensity and backoff for supervisors. Pure logic: no gevent, no threads.

:class:`RestartIntensity` is Erlang/OTP's ``intensity``/``period``: at most
``max_restarts`` restarts within any ``within`` seconds. :class:`Backoff`
spaces restarts exponentially, with jitter so that restarted siblings do not
come back in lock-step.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable


def _check_number(value: object, what: str, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise TypeError(f'{what} must be a number, got {value!r}')
    if value < 0 or (positive and value == 0):
        raise ValueError(f'{what} must be {"positive" if positive else ">= 0"}, got {value!r}')
    return float(value)


class RestartIntensity:
    """Counts restarts in a sliding window of ``within`` seconds."""

    __slots__ = ('_times', 'max_restarts', 'within')

    def __init__(self, max_restarts: int | None, within: float) -> None:
        if max_restarts is not None and (isinstance(max_restarts, bool)
                                         or not isinstance(max_restarts, int)
                                         or max_restarts < 0):
            raise ValueError(f'max_restarts must be an int >= 0 or None, got {max_restarts!r}')
        self.max_restarts = max_restarts
        self.within = _check_number(within, 'within', positive=True)
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
        self.initial = _check_number(initial, 'backoff initial', positive=False)
        self.maximum = _check_number(maximum, 'backoff maximum', positive=False)
        if self.maximum < self.initial:
            raise ValueError(f'backoff maximum {maximum!r} is below initial {initial!r}')
        self._random = rand

    def delay(self, restarts: int) -> float:
        """Seconds to wait before restart number *restarts* (1 for the first)."""
        if restarts < 1:
            return 0.0
        base = min(self.maximum, self.initial * 2.0 ** min(restarts - 1, 64))
        return base / 2 + self._random() * base / 2
