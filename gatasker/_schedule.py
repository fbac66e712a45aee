"""When an interval worker runs next. Pure arithmetic on clock readings.

* ``interval``: start to start on a fixed grid anchored at the first start
  (when the first run really began, so that workers started in the same
  instant keep the spread their first runs had instead of firing together
  every time), so there is no drift. A run longer than the interval delays the next start
  until it ends (runs never overlap); the grid then resumes at its next point
  in the future, so a late worker does not burst to catch up.
* ``delay``: end to start, for a run of any length.
* ``delay_before``: a pause before every run; with ``interval`` it shifts the
  whole grid once.
"""

from __future__ import annotations

import math

from ._constants import check_seconds

#: An interval worker's timing: (interval, delay, delay_before), each seconds or None.
Timing = tuple[float | None, float | None, float | None]


def check_timing(interval: object, delay: object, delay_before: object) -> Timing:
    """The timing of an interval worker, checked. Any thread; never blocks.

    Returns:
        *interval*, *delay* and *delay_before* as floats (None stays None).

    Raises:
        TypeError: A value that is not a number (a bool is not one here).
        ValueError: A negative, NaN or infinite value, an *interval* of 0, or
            both *interval* and *delay*.
    """
    checked = (check_seconds(interval, 'interval', finite=True),
               check_seconds(delay, 'delay', finite=True),
               check_seconds(delay_before, 'delay_before', finite=True))
    if checked[0] == 0:  # would run back to back, tens of thousands of times a second
        raise ValueError('interval must be positive, got 0 (omit it to run back to back)')
    if checked[0] is not None and checked[1] is not None:
        raise ValueError('interval and delay cannot be used together')
    return checked


class Schedule:
    """Computes start times; the worker feeds it the clock and its runs."""

    __slots__ = ('_anchored', '_grid', 'delay', 'delay_before', 'interval')

    def __init__(self, interval: float | None = None, delay: float | None = None,
                 delay_before: float | None = None) -> None:
        check_timing(interval, delay, delay_before)
        self.interval = interval or None
        self.delay = delay or None
        self.delay_before = delay_before or 0.0
        self._grid: float | None = None  # the grid point of the latest start
        self._anchored = False

    def first(self, now: float) -> float:
        """When the first run starts, for a worker started at *now*."""
        start = now + self.delay_before
        self._grid = start
        self._anchored = False
        return start

    def started(self, at: float) -> None:
        """A run started at *at*. The first one, if it was not early (a trigger),
        anchors the grid there: its lateness shifts the grid once, and never again."""
        if not self._anchored:
            self._anchored = True
            if self._grid is not None and at > self._grid:
                self._grid = at

    def next(self, ended: float) -> float:
        """When the next run starts, for a run that ended at *ended*."""
        if self.interval is not None:
            assert self._grid is not None
            following = self._grid + self.interval
            if following < ended:
                # The run overran: start at once, standing for the latest grid
                # point that passed, so the grid (not the lateness) sets the next.
                self._grid += math.floor((ended - self._grid) / self.interval) * self.interval
                return ended
            self._grid = following
            return following
        return ended + (self.delay or 0.0) + self.delay_before

    def rebase(self, started: float) -> None:
        """A run was triggered out of schedule at *started*: anchor the grid there."""
        self._grid = started
