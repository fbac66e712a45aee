"""The thread tier: blocking tasks on real OS threads of an owned gevent ThreadPool."""

from __future__ import annotations

import functools
import os
from typing import Any, Callable

from gevent.threadpool import ThreadPool
from zope.interface import implementer

from ._admission import Limits, check_size
from ._interfaces import ITier
from ._task import Task, run_target


class ThreadSizes:
    """The thread tier's limits plus how many OS threads to keep."""

    __slots__ = ('limits', 'min_size', 'max_size')

    def __init__(self, limits: Limits, min_size: int | str = 0, max_size: int | None = None) -> None:
        if max_size is None:
            max_size = limits.total if not limits.unlimited else (os.cpu_count() or 1) * 5
        check_size('max_size', max_size)
        if min_size == 'max':
            min_size = max_size
        check_size('min_size', min_size)
        assert isinstance(min_size, int)
        if min_size > max_size:
            raise ValueError(f'min_size ({min_size}) must not exceed max_size ({max_size})')
        self.limits = limits
        self.min_size = min_size
        self.max_size = max_size


@implementer(ITier)
class ThreadTier:
    """Runs tasks on the OS threads of a gevent ThreadPool owned by the supervisor.

    ``max_size`` caps the threads for non-critical tasks; a CRITICAL task
    that finds every thread busy grows the pool by one thread, and the pool
    shrinks back when those tasks end.
    """

    name = 'thread'

    def __init__(self, done: Callable[[Task, bool, Any], None], sizes: ThreadSizes) -> None:
        self._done = done
        self._sizes = sizes
        self._pool: ThreadPool | None = None
        #: Tasks handed to the pool whose result has not come back yet.
        self.active = 0

    def start(self) -> None:
        self._pool = ThreadPool(self._sizes.max_size)
        if self._sizes.min_size:
            self._pool.size = self._sizes.min_size

    def execute(self, task: Task) -> None:
        pool = self._pool
        assert pool is not None
        if self.active >= pool.maxsize:
            pool.maxsize = self.active + 1  # CRITICAL work grows past max_size
        self.active += 1
        pool.spawn(run_target, task).rawlink(functools.partial(self._returned, task))

    def _returned(self, task: Task, result: Any) -> None:
        self.active -= 1
        pool = self._pool
        if pool is not None and pool.maxsize > self._sizes.max_size:
            pool.maxsize = max(self._sizes.max_size, self.active)
        if result.successful():
            ok, value = result.value
        else:  # run_target never raises; this is gevent failing to run it
            ok, value = False, result.exception
        self._done(task, ok, value)

    def resize(self, sizes: ThreadSizes) -> None:
        self._sizes = sizes
        pool = self._pool
        if pool is None:
            return
        pool.maxsize = max(sizes.max_size, self.active)
        if sizes.min_size > pool.size:
            pool.size = sizes.min_size

    @property
    def threads(self) -> int:
        """The OS threads the pool has now."""
        return self._pool.size if self._pool is not None else 0

    def stop(self, wait: bool) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            # Running tasks keep their threads; idle threads exit now, the
            # others as soon as their task returns.
            pool.maxsize = 0
