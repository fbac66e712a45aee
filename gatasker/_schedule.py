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
* `Phases` spreads the first starts of grids that would begin in the same
  instant (workers started in a loop), so that they do not fire together,
  one queued behind the other in the hub, on every point of their grids.
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


class Phases:
    """Places the first starts of grids at least *spacing* seconds apart.

    A grid whose first start comes *spacing* or more after the one placed
    before starts when asked; one that would come sooner (workers started in
    the same instant) waits for the next free point, within one *interval*
    of when it was asked for (past that the points wrap around the interval).
    Once placed, each grid stays exact. Any thread: two threads placing at
    once may get the same point, which costs precision, not correctness.

    Args:
        spacing: Seconds between the first starts of grids started together.
    """

    __slots__ = ('_last', 'spacing')

    def __init__(self, spacing: float) -> None:
        self.spacing = spacing
        self._last = -math.inf  # the latest point placed

    def place(self, start: float, interval: float) -> float:
        """The first start of a grid of *interval* asked to start at *start*."""
        point = self._last + self.spacing
        if point <= start:
            point = start
        elif point - start >= interval:
            point = start + (point - start) % interval
        self._last = point
        return point


class Schedule:
    """Computes start times; the worker feeds it the clock and its runs.

    Args:
        interval: Seconds from start to start, on a grid.
        delay: Seconds from the end of a run to the next start.
        delay_before: Seconds before each run.
        phases: Where a grid's first start goes (None: when asked).
    """

    __slots__ = ('_anchored', '_grid', '_phases', 'delay', 'delay_before', 'interval')

    def __init__(self, interval: float | None = None, delay: float | None = None,
                 delay_before: float | None = None, phases: Phases | None = None) -> None:
        check_timing(interval, delay, delay_before)
        self.interval = interval or None
        self.delay = delay or None
        self.delay_before = delay_before or 0.0
        self._phases = phases
        self._grid: float | None = None  # the grid point of the latest start
        self._anchored = False

    def first(self, now: float) -> float:
        """When the first run starts, for a worker started at *now*."""
        start = now + self.delay_before
        if self.interval is not None and self._phases is not None:
            start = self._phases.place(start, self.interval)
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
