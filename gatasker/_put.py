"""The checks of ``put_task``'s arguments, in the caller, before anything is queued."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ._constants import check_delay, check_priority, check_tt
from ._interfaces import IWorker
from ._policies import TaskPolicy, eta_delay


def check_put(target: object, args: Iterable[object], kwargs: object, callback: object,
              worker: object, priority: int, tt: int, delay: float | None,
              eta: datetime | None) -> tuple[tuple[Any, ...], float | None]:
    """Check ``put_task``'s arguments; return its arguments as a tuple and its delay.

    Raises:
        TypeError: a target or callback that is not callable, kwargs that are
            not a dict of str keys, args that are not a tuple or list, a
            worker that is none; ValueError/TypeError: a bad priority, tier,
            delay or eta.

    Any thread; never blocks.
    """
    if not callable(target):
        raise TypeError(f'target must be callable, got {target!r}')
    if callback is not None and not callable(callback):
        raise TypeError(f'callback must be callable or None, got {callback!r}')
    if kwargs is not None:
        if not isinstance(kwargs, dict):
            raise TypeError(f'kwargs must be a dict or None, got {kwargs!r}')
        if not all(isinstance(key, str) for key in kwargs):
            raise TypeError(f'kwargs keys must be str, got {list(kwargs)!r}')
    if not isinstance(args, (tuple, list)):
        # A str, dict or set would be spread into arguments one element at a time.
        raise TypeError(f'args must be a tuple or a list, got {args!r}')
    if worker is not None and not IWorker.providedBy(worker):
        raise TypeError(f'worker must be a gatasker worker or None, got {worker!r}')
    check_priority(priority)
    check_tt(tt)
    delay = check_delay(delay)
    if eta is not None:
        delay = eta_delay(eta, delay)
    return tuple(args), delay


def policy_of(policy: TaskPolicy | None, timeout: float | None, soft_timeout: float | None,
              retries: int, retry_backoff: tuple[float, float] | None,
              retry_on: tuple[type[BaseException], ...] | None) -> TaskPolicy | None:
    """*policy*, else one made of the limit and retry arguments if any is given.

    Raises ValueError/TypeError for a bad one. Any thread; never blocks.
    """
    if (policy is None and (timeout is not None or soft_timeout is not None or retries
                            or retry_backoff is not None or retry_on is not None)):
        policy = TaskPolicy(timeout, soft_timeout, retries, retry_backoff, retry_on)
    return policy

