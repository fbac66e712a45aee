"""Priorities, task types and task status codes (the names atasker used)."""

from __future__ import annotations

from typing import Final

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


def check_timeout(timeout: object, name: str = 'timeout') -> float | None:
    """Return a wait bound in seconds, None meaning no limit (``inf`` too).

    Raises TypeError for a non-number and ValueError for a negative or NaN one.
    """
    seconds = check_delay(timeout, name)
    # inf: no limit, as None (an OS lock's acquire(timeout=inf) raises OverflowError)
    return None if seconds == float('inf') else seconds


def check_delay(delay: object, name: str = 'delay') -> float | None:
    """Return *delay* as a float (or None); raise TypeError/ValueError for bad values."""
    if delay is None:
        return None
    if isinstance(delay, bool) or not isinstance(delay, (int, float)):
        raise TypeError(f'{name} must be a number of seconds or None, got {delay!r}')
    if not delay >= 0:  # also rejects NaN
        raise ValueError(f'{name} must not be negative, got {delay!r}')
    return float(delay)
