"""Task policies: run-time limits, retries with backoff, rate limits.

A `TaskPolicy` is what ``put_task(timeout=..., retries=...)``,
``background_task(rate=...)`` or a worker's ``timeout=`` asked for; it is
immutable and may be shared by many tasks (a decorated function's tasks share
its rate bucket). A `RunState` is what one task needs while it runs
under a policy or is asked to stop: the interruption asked for, the limit
timers. Tasks with neither carry ``None`` in both, and the supervisor's fast
path checks only that.

Pure logic here (parsing, the token bucket, backoff); the supervisor arms the
timers and asks the tiers to interrupt (see ``TaskSupervisor._limit_reached``).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Protocol, runtime_checkable

from greenlet import GreenletExit

from ._bridge import allocate_lock
from ._constants import check_count, check_seconds
from ._errors import TaskCancelled, WorkerProcessDied

#: The backoff of a retry when ``retry_backoff`` is not given: (initial, maximum) seconds.
DEFAULT_BACKOFF = (0.1, 10.0)

_RATE = re.compile(r'^\s*(\d+(?:\.\d*)?)\s*/\s*(\d*(?:\.\d*)?)\s*(s|sec|m|min|h|hour)\s*$')
_UNITS = {'s': 1.0, 'sec': 1.0, 'm': 60.0, 'min': 60.0, 'h': 3600.0, 'hour': 3600.0}


def parse_rate(rate: str) -> tuple[float, float]:
    """``'100/s'``, ``'10/m'``, ``'5/10s'``, ``'1/h'`` -> ``(tokens, per_seconds)``.

    Raises ValueError/TypeError for anything else.
    """
    if not isinstance(rate, str):
        raise TypeError(f"rate must be a string such as '100/s' or '10/m', got {rate!r}")
    match = _RATE.match(rate)
    if match is None:
        raise ValueError(f"rate must look like '100/s', '10/m' or '5/10s', got {rate!r}")
    tokens = float(match.group(1))
    period = float(match.group(2) or 1) * _UNITS[match.group(3)]
    if tokens <= 0 or period <= 0:
        raise ValueError(f'rate must allow at least some tasks, got {rate!r}')
    return tokens, period


class TokenBucket:
    """A token bucket that hands out *reservations*: a task takes its token now,
    or learns how long to wait for the one it reserved (tokens may go below
    zero), so waiting tasks start in order and never stampede.

    Holds *tokens* tokens at most (the burst), refilled at *tokens* per
    *period* seconds. Any thread (a lock guards it); never blocks.
    """

    def __init__(self, tokens: float, period: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = tokens
        self.per_second = tokens / period
        self._clock = clock
        self._tokens = tokens
        self._stamp = clock()
        self._lock = allocate_lock()

    def reserve(self) -> float:
        """Take one token; return 0.0 if it was there, else the seconds until it is."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity,
                               self._tokens + (now - self._stamp) * self.per_second)
            self._stamp = now
            self._tokens -= 1.0
            if self._tokens >= 0.0:
                return 0.0
            return -self._tokens / self.per_second


class TaskPolicy:
    """What a task asked for beyond running once: limits, retries, a rate.

    Made by ``put_task``/``background_task``/workers from their keywords,
    which it validates (ValueError/TypeError at the call). Immutable.
    """

    __slots__ = ('bucket', 'rate', 'retries', 'retry_backoff', 'retry_on', 'soft_timeout',
                 'timeout')

    def __init__(self, timeout: float | None = None, soft_timeout: float | None = None,
                 retries: int = 0, retry_backoff: tuple[float, float] | None = None,
                 retry_on: tuple[type[BaseException], ...] | None = None,
                 rate: str | None = None) -> None:
        self.timeout = check_seconds(timeout, 'timeout', positive=True, finite=True)
        self.soft_timeout = check_seconds(soft_timeout, 'soft_timeout', positive=True,
                                          finite=True)
        self.retries = check_count(retries, 'retries')
        if retry_backoff is None:
            retry_backoff = DEFAULT_BACKOFF
        if not isinstance(retry_backoff, tuple) or len(retry_backoff) != 2:
            raise TypeError(f'retry_backoff must be a tuple (initial, maximum), '
                            f'got {retry_backoff!r}')
        initial, maximum = retry_backoff
        for value in retry_backoff:
            check_seconds(value, 'retry_backoff', finite=True, optional=False)
        if maximum < initial:
            raise ValueError(f'retry_backoff maximum must not be below its initial value, '
                             f'got {retry_backoff!r}')
        self.retry_backoff = (float(initial), float(maximum))
        if retry_on is None:
            retry_on = (Exception,)
        elif isinstance(retry_on, type):
            retry_on = (retry_on,)
        if not isinstance(retry_on, tuple) or not all(
                isinstance(exc, type) and issubclass(exc, BaseException) for exc in retry_on):
            raise TypeError(f'retry_on must be a tuple of exception classes, got {retry_on!r}')
        self.retry_on = retry_on
        self.rate = rate
        self.bucket = TokenBucket(*parse_rate(rate)) if rate is not None else None

    def __repr__(self) -> str:
        return (f'<TaskPolicy timeout={self.timeout} soft_timeout={self.soft_timeout} '
                f'retries={self.retries} rate={self.rate!r}>')

    def backoff(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before run *attempt* + 1 (attempt counts from 1):
        ``initial * 2 ** (attempt - 1)`` capped at the maximum, then "full
        jitter" between half and all of it, so a storm of failures spreads out."""
        initial, maximum = self.retry_backoff
        base = min(maximum, initial * 2.0 ** min(attempt - 1, 60))
        return base * (0.5 + 0.5 * rand())

    def should_retry(self, attempts: int, exc: BaseException) -> bool:
        """True if a run that failed with *exc* after *attempts* runs goes again."""
        return attempts <= self.retries and isinstance(exc, self.retry_on)


def make_policy(timeout: float | None = None, soft_timeout: float | None = None,
                retries: int = 0, retry_backoff: tuple[float, float] | None = None,
                retry_on: tuple[type[BaseException], ...] | None = None,
                rate: str | None = None) -> TaskPolicy | None:
    """A TaskPolicy for these keywords, or None when none asks for anything."""
    if (timeout is None and soft_timeout is None and not retries and retry_backoff is None
            and retry_on is None and rate is None):
        return None
    return TaskPolicy(timeout, soft_timeout, retries, retry_backoff, retry_on, rate)


@runtime_checkable
class Closable(Protocol):
    """A gevent timer watcher, as far as a RunState (or a delayed task) uses it."""

    def close(self) -> None: ...


def close_handle(handle: object) -> None:
    """Close *handle* if it has a ``close()`` (a delay timer); else leave it.

    The same test as ``isinstance(handle, Closable)``, without the runtime
    Protocol check's 3-6 us, paid for every delayed or canceled task.
    """
    close = getattr(handle, 'close', None)
    if close is not None:
        close()


class RunState:
    """What a running task carries while a limit or a stop request applies to it.

    ``pending`` is the interruption asked for (a TaskTimeout or a
    TaskCancelled): the tiers raise it where they can, `checkpoint()`
    raises it in cooperating code, and the task's end is reported as it.
    ``cooperative`` is set once the task's code called `checkpoint()`.
    ``timers`` are the limit timers of the current run (hub thread only).
    """

    __slots__ = ('cooperative', 'pending', 'run_number', 'timers')

    def __init__(self) -> None:
        self.pending: BaseException | None = None
        self.cooperative = False
        self.run_number = 0
        self.timers: list[Closable] = []


def interrupted_outcome(pending: BaseException, ok: bool,
                        value: object) -> tuple[bool, object]:
    """The outcome of a run that was asked to stop with *pending*.

    A run that still returned keeps its result (a soft limit it survived).
    One that failed the way its tier stops code (the exception itself, a
    builtin TimeoutError from a worker process, asyncio's CancelledError,
    GreenletExit, a killed worker process) failed because of *pending*.
    """
    if ok or value is pending:
        return ok, value
    if isinstance(value, (TimeoutError, asyncio.CancelledError, GreenletExit,
                          WorkerProcessDied, TaskCancelled)):
        if pending.__cause__ is None:
            pending.__cause__ = value
        return False, pending
    return ok, value


def eta_delay(eta: datetime, delay: float | None) -> float:
    """Seconds from now until *eta* (0 if it passed): the delay of ``put_task(eta=)``.

    A naive *eta* is local time. TypeError/ValueError for a bad one, or with *delay* too.
    """
    if not isinstance(eta, datetime):
        raise TypeError(f'eta must be a datetime, got {eta!r}')
    if delay:
        raise ValueError('give delay or eta, not both')
    now = datetime.now(eta.tzinfo) if eta.tzinfo is not None else datetime.now()
    return max(0.0, (eta - now).total_seconds())
