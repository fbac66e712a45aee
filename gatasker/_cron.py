"""Cron schedules for workers: ``@background_worker(cron='*/5 * * * *')``.

The expression is parsed by ``croniter`` (the optional extra ``cron``:
``pip install gatasker[cron]``), a small, well-kept parser, rather than one
written here; the core keeps its three run-time dependencies.

`CronSchedule` is pure logic with an injected wall clock: ticks are
computed from the expression in wall time (never by adding intervals, so
there is no drift), and a run that overran one or more ticks is followed by
one run at once, not one per missed tick. `BackgroundCronWorker`
plugs it into the interval worker's timer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone, tzinfo
from typing import TYPE_CHECKING, Protocol

from ._interval_worker import BackgroundIntervalWorker
from ._schedule import Schedule
from ._worker_types import Executor

if TYPE_CHECKING:  # annotations only
    from typing_extensions import Unpack

    from ._worker_types import WorkerOptions


class CronIterator(Protocol):
    """A ``croniter`` object: the ticks of an expression after a start time."""

    def get_next(self, ret_type: type[datetime]) -> datetime: ...


class CronParser(Protocol):
    """The ``croniter`` class, as far as schedules use it."""

    def __call__(self, expression: str, start: datetime) -> CronIterator: ...

    def is_valid(self, expression: str) -> bool: ...


def _croniter() -> CronParser:
    try:
        from croniter import croniter
    except ImportError:
        raise ImportError("cron schedules need croniter: pip install 'gatasker[cron]'") from None
    parser: CronParser = croniter  # croniter ships no types: say what is used of it
    return parser


def check_cron(expression: str) -> None:
    """ValueError/TypeError unless *expression* is a valid cron expression."""
    if not isinstance(expression, str):
        raise TypeError(f"cron must be a string such as '*/5 * * * *', got {expression!r}")
    if not _croniter().is_valid(expression):
        raise ValueError(f'not a valid cron expression: {expression!r}')


def _zone(tz: str | tzinfo) -> tzinfo | None:
    if tz == 'utc':
        return timezone.utc
    if tz == 'local':
        return None  # naive local time, as the supervisor's host keeps it
    if isinstance(tz, tzinfo):
        return tz
    raise ValueError(f"cron_tz must be 'utc', 'local' or a tzinfo, got {tz!r}")


class CronSchedule(Schedule):
    """When a cron worker runs, as seconds on the monotonic clock.

    The interval worker's ``Schedule`` interface: ``first(now)`` and
    ``next(now)`` take and return ``time.monotonic()`` values; *wall*
    (``wall(zone) -> datetime``, the wall time now) lets a test drive it with
    a fake clock.
    """

    def __init__(self, expression: str, tz: str | tzinfo = 'utc',
                 wall: Callable[[tzinfo | None], datetime] | None = None) -> None:
        check_cron(expression)
        super().__init__(interval=60)  # the grid of Schedule is not used
        self.expression = expression
        self.zone = _zone(tz)
        self._wall = wall or _now
        self._iter = _croniter()
        #: The tick the next run belongs to (wall time).
        self.tick: datetime | None = None

    def _next_tick(self, after: datetime) -> datetime:
        return self._iter(self.expression, after).get_next(datetime)

    def _at(self, tick: datetime, now: float) -> float:
        """*tick* as a monotonic time, with *now* the monotonic time of the wall clock's now."""
        return now + max(0.0, (tick - self._wall(self.zone)).total_seconds())

    def started(self, at: float) -> None:
        """Ticks come from the expression: a late start shifts nothing."""

    def first(self, now: float) -> float:
        self.tick = self._next_tick(self._wall(self.zone))
        return self._at(self.tick, now)

    def next(self, now: float) -> float:
        """After a run: the next tick after the one that ran. If the run
        overran later ticks, they are folded into one run now."""
        assert self.tick is not None
        wall_now = self._wall(self.zone)
        following = self._next_tick(self.tick)
        if following <= wall_now:  # missed one or more ticks while busy
            latest = following
            while True:  # the last tick that passed: the next one is after now
                after = self._next_tick(latest)
                if after > wall_now:
                    break
                latest = after
            self.tick = latest
            return now
        self.tick = following
        return self._at(following, now)


def _now(zone: tzinfo | None) -> datetime:
    return datetime.now(zone)


class BackgroundCronWorker(BackgroundIntervalWorker):
    """Runs the executor on a cron schedule: ``cron='*/5 * * * *'``.

    ``cron_tz`` is ``'utc'`` (default), ``'local'`` (the host's local time,
    where the supervisor runs) or a ``tzinfo``. Ticks follow the wall clock
    without drift; a run that overran ticks is followed by one run at once
    (not one per missed tick). ``trigger()`` runs it now as well. Needs the
    ``cron`` extra (croniter); a bad expression raises ValueError here.
    """

    def __init__(self, name: str | None = None, func: Executor | None = None, *, cron: str,
                 cron_tz: str | tzinfo = 'utc', **kwargs: Unpack[WorkerOptions]) -> None:
        """Configure the worker; it runs after `start`.

        Args:
            name: The worker's name (default: the executor's ``__name__``).
            func: The executor.
            cron: A cron expression, e.g. ``'*/5 * * * *'``.
            cron_tz: ``'utc'``, ``'local'`` or a ``tzinfo``.
            **kwargs: The other arguments of `BackgroundWorker`.

        Raises:
            ImportError: croniter is not installed.
            TypeError: *cron* is not a string.
            ValueError: *cron* is not a valid expression, or a bad *cron_tz*.
        """
        check_cron(cron)
        _zone(cron_tz)
        super().__init__(name, func, interval=60, **kwargs)  # the interval is never used
        self.cron = cron
        self.cron_tz = cron_tz

    def _make_schedule(self) -> Schedule:
        return CronSchedule(self.cron, self.cron_tz)

