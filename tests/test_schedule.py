"""Interval-worker schedules, on a fake clock."""

from __future__ import annotations

import pytest

from gatasker._schedule import Phases, Schedule, check_timing


def simulate(schedule: Schedule, run_lengths: list[float]) -> list[float]:
    starts = [schedule.first(0.0)]
    for length in run_lengths[:-1]:
        starts.append(schedule.next(starts[-1] + length))
    return [round(s, 6) for s in starts]


def test_interval_is_start_to_start_without_drift() -> None:
    starts = simulate(Schedule(interval=0.2), [0.05] * 6)
    assert starts == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]


def test_interval_with_jittery_runs_stays_on_the_grid() -> None:
    starts = simulate(Schedule(interval=0.1), [0.01, 0.09, 0.03, 0.0999, 0.05] * 20)
    assert starts == [round(i * 0.1, 6) for i in range(100)]


def test_a_run_longer_than_the_interval_delays_the_next_without_overlap() -> None:
    schedule = Schedule(interval=0.2)
    assert schedule.first(0.0) == 0.0
    assert schedule.next(0.25) == 0.25     # overran: the 0.2 run starts late, at once
    assert schedule.next(0.3) == pytest.approx(0.4)  # and the grid resumes
    assert schedule.next(0.95) == 0.95     # overran by several intervals: no burst
    assert schedule.next(0.96) == pytest.approx(1.0)


def test_delay_is_end_to_start() -> None:
    # delay 1.2 with a 0.5 s run: starts at 0, 1.7, 3.4 (atasker: 0, 1.2, 2.4)
    assert simulate(Schedule(delay=1.2), [0.5, 0.5, 0.5]) == [0.0, 1.7, 3.4]


def test_delay_before_each_run() -> None:
    assert simulate(Schedule(delay=1.0, delay_before=0.5), [0.1, 0.1]) == [0.5, 2.1]
    assert simulate(Schedule(delay_before=0.5), [0.1, 0.1]) == [0.5, 1.1]
    assert simulate(Schedule(interval=1.0, delay_before=0.5), [0.1] * 3) == [0.5, 1.5, 2.5]


def test_no_timing_runs_back_to_back() -> None:
    assert simulate(Schedule(), [0.1, 0.2, 0.3]) == [0.0, 0.1, 0.3]


def test_rebase_after_a_trigger() -> None:
    schedule = Schedule(interval=1.0)
    schedule.first(0.0)
    schedule.rebase(0.4)
    assert schedule.next(0.5) == pytest.approx(1.4)


@pytest.mark.parametrize('kwargs, error', [
    ({'interval': 1, 'delay': 1}, ValueError),
    ({'interval': -1}, ValueError),
    ({'delay': float('nan')}, ValueError),
    ({'delay_before': float('inf')}, ValueError),
    ({'interval': '1'}, TypeError),
    ({'delay': True}, TypeError),
])
def test_bad_timing(kwargs: dict[str, object], error: type) -> None:
    with pytest.raises(error):
        check_timing(kwargs.get('interval'), kwargs.get('delay'),  # type: ignore[arg-type]
                     kwargs.get('delay_before'))  # type: ignore[arg-type]
    with pytest.raises(error):
        Schedule(**kwargs)  # type: ignore[arg-type]


def test_a_late_first_run_anchors_the_grid_once() -> None:
    # workers started together run their first runs one after the other; each
    # keeps its own grid from its real first start instead of firing together again
    schedule = Schedule(interval=0.1)
    assert schedule.first(0.0) == 0.0
    schedule.started(0.004)
    assert schedule.next(0.005) == pytest.approx(0.104)
    schedule.started(0.107)  # later runs' lateness never moves the grid
    assert schedule.next(0.108) == pytest.approx(0.204)


def test_an_early_first_run_leaves_the_grid() -> None:
    schedule = Schedule(interval=1.0, delay_before=0.5)
    assert schedule.first(0.0) == 0.5
    schedule.started(0.2)  # triggered before its first grid point
    assert schedule.next(0.3) == pytest.approx(1.5)


def test_grids_started_in_the_same_instant_get_spread_first_starts() -> None:
    phases = Phases(0.001)
    schedules = [Schedule(interval=0.1, phases=phases) for _ in range(3)]
    assert [s.first(10.0) for s in schedules] == pytest.approx([10.0, 10.001, 10.002])
    for schedule, first in zip(schedules, [10.0, 10.001, 10.002], strict=True):
        schedule.started(first)
        assert schedule.next(first + 0.05) == pytest.approx(first + 0.1)  # each grid exact
    # one started later than the last point plus the spacing starts when asked
    assert Schedule(interval=0.1, phases=phases).first(10.5) == 10.5
    assert Schedule(interval=0.1, phases=phases).first(10.5) == pytest.approx(10.501)


def test_spread_first_starts_wrap_within_the_interval() -> None:
    phases = Phases(0.4)
    starts = [Schedule(interval=1.0, phases=phases).first(0.0) for _ in range(4)]
    assert starts == pytest.approx([0.0, 0.4, 0.8, 0.2])  # never an interval or more late


def test_only_grids_are_spread() -> None:
    phases = Phases(0.001)
    assert Schedule(interval=1.0, phases=phases).first(0.0) == 0.0
    assert Schedule(delay=1.0, phases=phases).first(0.0) == 0.0  # no grid: when asked
    assert Schedule(phases=phases).first(0.0) == 0.0
    assert Schedule(interval=1.0, phases=phases).first(0.0) == pytest.approx(0.001)
    assert Schedule(interval=1.0, delay_before=0.5, phases=phases).first(0.0) == 0.5
