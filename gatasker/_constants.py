"""Priorities, task types and task status codes (the names atasker used), and
the one validator for each kind of argument (seconds, counts, priorities,
task types, ``wait``): call these instead of writing another check."""

from __future__ import annotations

from typing import Final, Literal, overload

TASK_CRITICAL: Final = 0
TASK_HIGH: Final = 50
TASK_NORMAL: Final = 100
TASK_LOW: Final = 200

#: Most important first: the order in which waiting tasks are considered.
PRIORITIES: Final = (TASK_CRITICAL, TASK_HIGH, TASK_NORMAL, TASK_LOW)

TT_COROUTINE: Final = 0
TT_THREAD: Final = 1
TT_MP: Final = 2
TT_GREENLET: Final = 3

TASK_TYPES: Final = (TT_COROUTINE, TT_THREAD, TT_MP, TT_GREENLET)
TIER_NAMES: Final = {
    TT_COROUTINE: 'coroutine',
    TT_THREAD: 'thread',
    TT_MP: 'mp',
    TT_GREENLET: 'greenlet',
}

TASK_STATUS_QUEUED: Final = 0
TASK_STATUS_DELAYED: Final = 2
TASK_STATUS_STARTED: Final = 100
TASK_STATUS_COMPLETED: Final = 200
TASK_STATUS_CANCELED: Final = -1


def check_priority(priority: object) -> int:
    """Return *priority* if it is one of the four task priorities, else raise ValueError."""
    if type(priority) is not int or priority not in PRIORITIES:
        raise ValueError(
            f'priority must be one of TASK_CRITICAL, TASK_HIGH, TASK_NORMAL, '
            f'TASK_LOW ({PRIORITIES}), got {priority!r}')
    return priority


def check_tt(tt: object) -> int:
    """Return *tt* if it is a known task type, else raise ValueError."""
    if type(tt) is not int or tt not in TASK_TYPES:
        raise ValueError(
            f'tt must be one of TT_COROUTINE, TT_THREAD, TT_MP, TT_GREENLET, got {tt!r}')
    return tt


@overload
def check_seconds(value: object, name: str, *, positive: bool = ..., finite: bool = ...,
                  optional: Literal[False]) -> float: ...
@overload
def check_seconds(value: object, name: str, *, positive: bool = ..., finite: bool = ...,
                  optional: bool = ...) -> float | None: ...


def check_seconds(value: object, name: str, *, positive: bool = False, finite: bool = False,
                  optional: bool = True) -> float | None:
    """Return *value*, a number of seconds, as a float (None stays None).

    The one check for every argument in seconds; the keywords say which kind:
    *positive* rejects 0, *finite* rejects ``inf``, ``optional=False``
    rejects None. Any thread; never blocks.

    Raises:
        TypeError: *value* is not an int or float (a bool is not a number
            here), or is None when not *optional*.
        ValueError: *value* is negative or NaN, or is 0 when *positive*, or
            ``inf`` when *finite*.
    """
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        none = ' or None' if optional else ''
        raise TypeError(f'{name} must be a number of seconds{none}, got {value!r}')
    if not value >= 0:  # also rejects NaN
        raise ValueError(f'{name} must not be negative, got {value!r}')
    if positive and value == 0:
        raise ValueError(f'{name} must be positive, got {value!r}')
    if finite and value == float('inf'):
        raise ValueError(f'{name} must be finite, got {value!r}')
    return float(value)


def check_delay(delay: object, name: str = 'delay') -> float | None:
    """Return *delay* (seconds >= 0, ``inf`` allowed) as a float, or None.

    Raises TypeError for a non-number and ValueError for a negative or NaN one.
    """
    return check_seconds(delay, name)


def check_timeout(timeout: object, name: str = 'timeout') -> float | None:
    """Return a wait bound in seconds, None meaning no limit (``inf`` too).

    Raises TypeError for a non-number and ValueError for a negative or NaN one.
    """
    seconds = check_seconds(timeout, name)
    # inf: no limit, as None (an OS lock's acquire(timeout=inf) raises OverflowError)
    return None if seconds == float('inf') else seconds


def check_wait(wait: object, name: str = 'wait') -> float | None:
    """Return how long a ``stop(wait=...)`` waits: None for ever, else seconds.

    ``True`` waits for ever, ``False`` does not wait (0.0), a number is a
    bound as for `check_timeout`.

    Raises:
        TypeError: *wait* is neither a bool nor a number.
        ValueError: *wait* is a negative or NaN number.
    """
    if wait is True:
        return None
    if wait is False:
        return 0.0
    return check_timeout(wait, name)


def check_count(value: object, name: str) -> int:
    """Return *value* if it is an int >= 0 (not a bool).

    Raises:
        TypeError: *value* is not an int.
        ValueError: *value* is negative.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f'{name} must be an int, got {value!r}')
    if value < 0:
        raise ValueError(f'{name} must not be negative, got {value!r}')
    return value


def check_on_error(on_error: object, on_error_kwargs: object) -> None:
    """Check a worker's or collection's ``on_error`` hook and its keywords.

    Raises:
        TypeError: *on_error* is neither callable nor None, or
            *on_error_kwargs* is neither a dict nor None.
    """
    if on_error is not None and not callable(on_error):
        raise TypeError(f'on_error must be callable, got {on_error!r}')
    if on_error_kwargs is not None and not isinstance(on_error_kwargs, dict):
        raise TypeError(f'on_error_kwargs must be a dict, got {on_error_kwargs!r}')
