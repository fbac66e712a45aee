"""Locker: a lock with a timeout that shouts when it is exceeded.

It works across greenlets and OS threads at once: waiting parks a greenlet
cooperatively (the hub keeps running) and blocks an OS thread that runs no
hub, through `gatasker._bridge.Latch`.
"""

from __future__ import annotations

import functools
import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar, cast

from greenlet import getcurrent
from greenlet import greenlet as RawGreenlet

from ._bridge import Latch, allocate_lock
from ._constants import check_timeout
from ._logging import logger

F = TypeVar('F', bound=Callable[..., object])


class Locker:
    """A decorator and a ``with`` lock that reports a lock held too long.

    When *timeout* seconds pass without the lock, a CRITICAL line is logged
    and `critical()` is called; the decorated function then returns None
    without running, and ``with`` raises the builtin TimeoutError.

    Args:
        mod: A name for the log lines.
        timeout: Seconds to wait for the lock.
        relative: True lets the owner take it again (reentrant); with False
            a second take by the owner waits like anybody else.
    """

    def __init__(self, mod: str = 'main', timeout: float = 5, relative: bool = True) -> None:
        if timeout is None:  # None would mean "no limit"; say so with inf
            raise ValueError('timeout must be a non-negative number of seconds (inf: no limit)')
        try:
            check_timeout(timeout)
        except TypeError as exc:
            raise ValueError(str(exc)) from None  # atasker raised ValueError here
        self.mod = mod
        self.timeout = timeout
        self.relative = relative
        self._guard = allocate_lock()
        self._owner: RawGreenlet | None = None  # greenlets of all threads are distinct
        self._depth = 0
        self._waiters: deque[Latch] = deque()

    def critical(self) -> None:
        """Called once per timeout; replace it (``lock.critical = f``) or override it."""

    @property
    def lock(self) -> _Lock:
        """The underlying lock, with ``threading.Lock``'s ``acquire(blocking=True,
        timeout=-1)`` and ``release()`` (atasker's ``Locker.lock``).

        Taking it directly never logs and never calls `critical()`.
        """
        return _Lock(self._acquire, self.release)

    def acquire(self, timeout: float | None = None) -> bool:
        """Take the lock.

        Blocks: cooperatively in a greenlet, or the calling OS thread.

        Args:
            timeout: Seconds to wait at most; None for the Locker's *timeout*.

        Returns:
            bool: True if taken, False after *timeout* seconds.
        """
        return self._acquire(check_timeout(self.timeout if timeout is None else timeout))

    def _acquire(self, limit: float | None) -> bool:
        # limit None: wait as long as it takes
        me = getcurrent()
        deadline = None if limit is None else time.monotonic() + limit
        while True:
            with self._guard:
                if self._owner is None:
                    self._owner, self._depth = me, 1
                    return True
                if self._owner is me and self.relative:
                    self._depth += 1
                    return True
                turn = Latch()
                self._waiters.append(turn)
            if not turn.wait(None if deadline is None else max(0.0, deadline - time.monotonic())):
                with self._guard:
                    if turn in self._waiters:
                        self._waiters.remove(turn)
                        return False
                # released to us just as the wait ran out: take it below

    def release(self) -> None:
        """Release the lock (the owner only). Never blocks."""
        with self._guard:
            if self._owner is not getcurrent():
                raise RuntimeError('release() of a Locker held by another greenlet or thread')
            self._depth -= 1
            if self._depth:
                return
            self._owner = None
            if self._waiters:
                self._waiters.popleft().set()

    def _timed_out(self, what: str) -> None:
        logger.critical('%s locking broken: %s did not get the lock within %s s',
                        self.mod, what, self.timeout)
        try:
            self.critical()
        except Exception:
            logger.exception('%s: critical() failed', self.mod)

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def locked(*args: object, **kwargs: object) -> object:
            if not self.acquire():
                self._timed_out(getattr(func, '__name__', repr(func)))
                return None
            try:
                return func(*args, **kwargs)
            finally:
                self.release()

        # F's signature, as functools.wraps shows it; it returns None when timed out.
        return cast(F, locked)

    def __enter__(self) -> Locker:
        if not self.acquire():
            self._timed_out('a with block')
            raise TimeoutError(f'{self.mod}: lock not acquired within {self.timeout} s')
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class _Lock:
    """``Locker.lock``: the same lock, taken the way ``threading.Lock`` is."""

    __slots__ = ('_release', '_take')

    def __init__(self, take: Callable[[float | None], bool], release: Callable[[], None]) -> None:
        self._take = take  # take(seconds or None: as long as it takes) -> taken
        self._release = release

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Take the lock, as ``threading.Lock.acquire`` does.

        Blocks: cooperatively in a greenlet, or the calling OS thread (unless
        not *blocking*).

        Args:
            blocking: False to return at once when the lock is taken.
            timeout: Seconds to wait; -1 waits as long as it takes.

        Returns:
            True if the lock was taken.
        """
        if not blocking:
            return self._take(0.0)
        if timeout is not None and not isinstance(timeout, bool) \
                and isinstance(timeout, (int, float)) and timeout < 0:
            return self._take(None)  # threading's -1: as long as it takes
        return self._take(check_timeout(timeout))

    def release(self) -> None:
        """Release it (the owner only). Never blocks."""
        self._release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()
