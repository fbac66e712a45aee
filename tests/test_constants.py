"""The argument validators in _constants: one per kind of argument."""

from __future__ import annotations

import pytest

from gatasker._constants import (
    TASK_HIGH,
    TT_MP,
    check_count,
    check_delay,
    check_on_error,
    check_priority,
    check_seconds,
    check_timeout,
    check_tt,
    check_wait,
)

INF = float('inf')
NAN = float('nan')


@pytest.mark.parametrize('value, kind, expected', [
    (0, {}, 0.0), (1, {}, 1.0), (0.5, {}, 0.5), (INF, {}, INF), (None, {}, None),
    (1, {'positive': True}, 1.0), (0.25, {'finite': True}, 0.25),
    (0, {'finite': True}, 0.0), (3, {'optional': False}, 3.0),
])
def test_check_seconds_accepts(value: object, kind: dict[str, bool],
                               expected: float | None) -> None:
    result = check_seconds(value, 'x', **kind)
    assert result == expected
    assert result is None or type(result) is float


@pytest.mark.parametrize('value, kind, error', [
    ('1', {}, TypeError), (True, {}, TypeError), ([], {}, TypeError),
    (None, {'optional': False}, TypeError),
    (-1, {}, ValueError), (-0.001, {}, ValueError), (NAN, {}, ValueError),
    (-INF, {}, ValueError),
    (0, {'positive': True}, ValueError), (0.0, {'positive': True}, ValueError),
    (INF, {'finite': True}, ValueError), (NAN, {'finite': True}, ValueError),
])
def test_check_seconds_rejects(value: object, kind: dict[str, bool],
                               error: type[Exception]) -> None:
    with pytest.raises(error, match=r'^seconds_arg '):
        check_seconds(value, 'seconds_arg', **kind)


def test_delay_and_timeout_are_seconds_kinds() -> None:
    assert check_delay(INF) == INF and check_delay(None) is None
    assert check_timeout(INF) is None  # no limit, as None
    assert check_timeout(2) == 2.0
    for check in (check_delay, check_timeout):
        with pytest.raises(ValueError, match=r'^my_name '):
            check(-1, 'my_name')
        with pytest.raises(TypeError):
            check('soon')


@pytest.mark.parametrize('wait, expected', [(True, None), (False, 0.0), (0, 0.0), (1.5, 1.5),
                                            (INF, None), (None, None)])
def test_check_wait(wait: object, expected: float | None) -> None:
    assert check_wait(wait) == expected


@pytest.mark.parametrize('wait, error', [(-1, ValueError), (NAN, ValueError),
                                         ('x', TypeError)])
def test_check_wait_rejects(wait: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=r'^wait '):
        check_wait(wait)


@pytest.mark.parametrize('value, error', [(-1, ValueError), (1.0, TypeError), (True, TypeError),
                                          (None, TypeError), ('2', TypeError)])
def test_check_count_rejects(value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=r'^size '):
        check_count(value, 'size')


def test_check_count_priority_and_tt_return_what_they_accept() -> None:
    assert check_count(0, 'n') == 0 and check_count(7, 'n') == 7
    assert check_priority(TASK_HIGH) == TASK_HIGH
    assert check_tt(TT_MP) == TT_MP
    with pytest.raises(ValueError):
        check_priority(1)
    with pytest.raises(ValueError):
        check_tt(TASK_HIGH)


@pytest.mark.parametrize('on_error, kwargs', [('not callable', None), (None, ['x']),
                                              (print, 'x'), (1, {})])
def test_check_on_error_rejects(on_error: object, kwargs: object) -> None:
    with pytest.raises(TypeError, match=r'^on_error'):
        check_on_error(on_error, kwargs)


def test_check_on_error_accepts_a_callable_and_a_dict_or_none() -> None:
    check_on_error(None, None)
    check_on_error(print, {'end': ''})
