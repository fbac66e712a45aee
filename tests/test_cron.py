"""Cron workers: the schedule with a fake clock, the worker for real, bad input."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

import pytest

import gatasker
from gatasker._bridge import Latch, allocate_lock
from gatasker._cron import BackgroundCronWorker, CronSchedule, check_cron

pytest.importorskip('croniter')

START = datetime(2026, 12, 3, 14, 2, 30, tzinfo=timezone.utc)


class FakeWall:
    """A wall clock the test moves, with the matching monotonic time."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self, zone: tzinfo | None) -> datetime:
        return self.now.astimezone(zone) if zone is not None else self.now.replace(tzinfo=None)

    @property
    def mono(self) -> float:
        return (self.now - START).total_seconds() + 1000.0

    def at(self, mono: float) -> datetime:
        return START + timedelta(seconds=mono - 1000.0)


def test_ticks_follow_the_expression_without_drift() -> None:
    wall = FakeWall()
    schedule = CronSchedule('*/5 * * * *', 'utc', wall=wall)
    first = schedule.first(wall.mono)
    assert wall.at(first) == START.replace(minute=5, second=0)
    for minute in (10, 15, 20):
        # each run ends a little late; the next tick stays on the grid
        wall.now = wall.at(first) + timedelta(seconds=7)
        first = schedule.next(wall.mono)
        assert wall.at(first) == START.replace(minute=minute, second=0)


def test_missed_ticks_run_once_then_back_on_the_grid() -> None:
    wall = FakeWall()
    schedule = CronSchedule('*/5 * * * *', 'utc', wall=wall)
    schedule.first(wall.mono)
    wall.now = START.replace(minute=23, second=10)  # the 14:05 run overran 14:10..14:20
    assert schedule.next(wall.mono) == wall.mono  # one run now, not three
    nxt = schedule.next(wall.mono)  # that run ended at once
    assert wall.at(nxt) == START.replace(minute=25, second=0)


def test_local_and_explicit_zones() -> None:
    wall = FakeWall()
    plus2 = timezone(timedelta(hours=2))
    schedule = CronSchedule('0 17 * * *', plus2, wall=wall)  # 17:00 at +02:00 is 15:00 UTC
    assert wall.at(schedule.first(wall.mono)) == START.replace(hour=15, minute=0, second=0)
    local = CronSchedule('0 * * * *', 'local', wall=wall)
    assert wall.at(local.first(wall.mono)) == START.replace(hour=15, minute=0, second=0)


@pytest.mark.parametrize('expression, error', [
    ('every minute', ValueError), ('61 * * * *', ValueError), (5, TypeError)])
def test_bad_expressions_raise_at_once(expression: object, error: type) -> None:
    with pytest.raises(error):
        check_cron(expression)  # type: ignore[arg-type]
    with pytest.raises(error):
        gatasker.background_worker(cron=expression)(lambda **_: None)


def test_bad_zone_raises() -> None:
    with pytest.raises(ValueError):
        BackgroundCronWorker(func=lambda **_: None, cron='* * * * *', cron_tz='mars')


def test_a_cron_worker_runs_on_its_ticks(supervisor: gatasker.TaskSupervisor) -> None:
    lock = allocate_lock()
    runs: list[datetime] = []
    twice = Latch()

    @gatasker.background_worker(cron='* * * * * *', supervisor=supervisor)  # every second
    def tick(**_: object) -> None:
        with lock:
            runs.append(datetime.now(timezone.utc))
            if len(runs) == 2:
                twice.set()

    assert isinstance(tick, BackgroundCronWorker)
    tick.start()
    try:
        assert twice.wait(30)
    finally:
        tick.stop()
    assert runs[0] < runs[1]
