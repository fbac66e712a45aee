"""The interval worker: runs of the executor on a timer, re-armed after each run."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, TypeVar

from ._event_worker import BackgroundEventWorker
from ._port import Closable
from ._schedule import Phases, Schedule, check_timing
from ._worker_types import TIMING_KWARGS, Executor

if TYPE_CHECKING:  # annotations only
    from typing_extensions import Unpack

    from ._worker_types import WorkerOptions

V = TypeVar('V')


def _one_of(name: str, value: V | None, alias: str, alias_value: V | None) -> V | None:
    """The value of a keyword that has an atasker alias; TypeError if both are given."""
    if alias_value is None:
        return value
    if value is not None:
        raise TypeError(f'{name}= and {alias}= are the same setting: give one of them')
    return alias_value


class BackgroundIntervalWorker(BackgroundEventWorker):
    """Runs the executor on a schedule: ``interval=`` (alias ``i=``; start to
    start, on a grid, no drift, no overlap), ``delay=`` (alias
    ``delay_after=``; end to start) and ``delay_before=`` (before each run).
    With neither ``interval`` nor ``delay`` it waits 1 s between runs
    (atasker's default). ``trigger()`` runs it now as well.
    """

    def __init__(self, name: str | None = None, func: Executor | None = None, *,
                 interval: float | None = None, delay: float | None = None,
                 delay_before: float | None = None, i: float | None = None,
                 delay_after: float | None = None, **kwargs: Unpack[WorkerOptions]) -> None:
        """Configure the worker; it runs after `start`.

        Args:
            name: The worker's name (default: the executor's ``__name__``).
            func: The executor.
            interval: Seconds from start to start, on a grid (alias *i*).
            delay: Seconds from the end of a run to the next start (alias *delay_after*).
            delay_before: Seconds to wait before each run.
            i: atasker's name for *interval*.
            delay_after: atasker's name for *delay*.
            **kwargs: The other arguments of `BackgroundWorker`.

        Raises:
            TypeError: A timing that is not a number, or both a name and its alias.
            ValueError: A negative or infinite timing, a zero interval, or both
                *interval* and *delay*.
        """
        interval = _one_of('interval', interval, 'i', i)
        delay = _one_of('delay', delay, 'delay_after', delay_after)
        if interval is None and delay is None:
            delay = DEFAULT_DELAY
        self.interval, self.delay, self.delay_before = check_timing(interval, delay, delay_before)
        super().__init__(name, func, **kwargs)
        self._schedule: Schedule | None = None
        self._timer: Closable | None = None

    def _apply_controls(self, controls: dict[str, object]) -> None:
        timing = {k: controls.pop(k) for k in TIMING_KWARGS if k in controls}
        if '_delay_after' in timing:
            timing['_delay'] = _one_of('_delay', timing.get('_delay'), '_delay_after',
                                       timing.pop('_delay_after'))
        if timing:
            interval = timing.get('_interval', self.interval)
            delay = timing.get('_delay', self.delay)
            if '_interval' in timing and '_delay' not in timing:
                delay = None
            if '_delay' in timing and '_interval' not in timing:
                interval = None
            checked = check_timing(interval, delay, timing.get('_delay_before', self.delay_before))
        self._apply_common_controls(controls)  # checks the rest before changing anything
        if timing:
            self.interval, self.delay, self.delay_before = checked

    def _on_actor_start(self) -> None:
        self._reset_triggers()
        self._schedule = self._make_schedule()
        self._actor.port.call(self._arm, self._schedule.first(time.monotonic()))

    def _make_schedule(self) -> Schedule:
        """Hook: what computes the start times (a cron worker's differs)."""
        return Schedule(self.interval, self.delay, self.delay_before, FIRST_RUNS)

    def _arm(self, when: float) -> None:
        # In the hub's thread: one timer per worker, re-armed after each run.
        self._disarm()
        if self._actor.stopping:
            return
        self._timer = self._actor.port.call_at(when, self._on_due)

    def _on_due(self) -> None:
        # The timer's callback, in the hub's greenlet: a parked worker is
        # resumed right here, as gevent's own timers resume a sleeping
        # greenlet, instead of through one more turn of the hub's callbacks.
        core = self._actor
        if core.sleeping and not core.wake_pending and not self._running:
            self._triggered = True
            core.resume()
        else:
            self._on_trigger(True)

    def _disarm(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.close()

    def _do_work(self) -> None:
        assert self._schedule is not None
        self._schedule.started(time.monotonic())
        self._run_triggered()
        if not self._actor.stopping:
            self._arm(self._schedule.next(time.monotonic()))

    def _on_actor_stop(self) -> None:
        port = self._actor.port
        if not port.finished:
            port.call(self._disarm)

    def _drop_leftovers(self) -> None:
        # The worker ended (stopped, failed or returned False): its timer goes.
        self._disarm()


#: Seconds between runs of an interval worker given neither interval nor delay.
DEFAULT_DELAY = 1

#: Seconds between the first runs of interval workers started in the same
#: instant: more than a run of a no-op executor costs, so that their grids
#: do not fire together on every point, each queued behind the others.
PHASE_SPACING = 0.0001

#: Where the first run of an interval worker's grid goes (the whole process).
FIRST_RUNS = Phases(PHASE_SPACING)
