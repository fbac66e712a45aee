"""Restart intensity and backoff: pure logic, checked without sleeping."""

from __future__ import annotations

import pytest

from gatasker._intensity import Backoff, RestartIntensity


def test_at_most_max_restarts_within_the_window() -> None:
    limit = RestartIntensity(2, within=10)
    assert limit.record(0.0) and limit.record(1.0)
    assert not limit.record(2.0)  # the third within 10 s
    assert limit.in_window(10.5) == 2  # the one at 0.0 left the window
    assert limit.in_window(12.0) == 0
    assert limit.record(12.0)


def test_no_limit_and_zero() -> None:
    unlimited = RestartIntensity(None, within=1)
    assert all(unlimited.record(0.0) for _ in range(1000))
    never = RestartIntensity(0, within=1)
    assert not never.record(0.0)


def test_backoff_doubles_up_to_the_maximum_with_jitter_in_the_upper_half() -> None:
    low = Backoff(0.5, 3.0, rand=lambda: 0.0)
    high = Backoff(0.5, 3.0, rand=lambda: 1.0)
    assert [low.delay(n) for n in range(0, 6)] == [0.0, 0.25, 0.5, 1.0, 1.5, 1.5]
    assert [high.delay(n) for n in range(0, 6)] == [0.0, 0.5, 1.0, 2.0, 3.0, 3.0]
    assert high.delay(10_000) == 3.0  # no overflow


@pytest.mark.parametrize('args', [(-1, 1), (2, 1), (float('nan'), 1)])
def test_bad_backoff(args: tuple[float, float]) -> None:
    with pytest.raises((ValueError, TypeError)):
        Backoff(*args)


@pytest.mark.parametrize('max_restarts, within', [(-1, 1), (1.5, 1), (True, 1), (1, 0),
                                                  (1, -1), (1, 'x')])
def test_bad_intensity(max_restarts: object, within: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        RestartIntensity(max_restarts, within)  # type: ignore[arg-type]
