"""Async jobs: light fixed-rate coroutine jobs on an aloop (no aiosched needed).

A job calls ``target(*args, **kwargs)`` (awaiting it if it returns an
awaitable) every ``interval`` seconds on a fixed grid, after an initial
``timer`` delay, ``number`` times (0: until canceled). Jobs keep no statistics
and do not check whether the previous run is still going: a run longer than
the interval makes the job skip to the next grid point.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Protocol

from ._constants import check_seconds
from ._logging import logger


class LoopOwner(Protocol):
    """What a scheduler needs of its aloop (an `ALoop`)."""

    @property
    def name(self) -> str:
        """The aloop's name."""

    def get_loop(self) -> asyncio.AbstractEventLoop | None:
        """The running asyncio loop; None while the aloop does not run."""


class AsyncJob:
    """One scheduled job; cancel it with ``cancel_async_job(job=...)``."""

    def __init__(self, target: Callable[..., object], args: tuple[object, ...],
                 kwargs: dict[str, object], interval: float, timer: float, number: int) -> None:
        self.target = target
        self.args = args
        self.kwargs = kwargs
        self.interval = interval
        self.timer = timer
        self.number = number
        self.runs = 0
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f'<AsyncJob {getattr(self.target, "__name__", self.target)} every {self.interval} s>'

    def begin(self, loop: asyncio.AbstractEventLoop, ended: Callable[[], object]) -> None:
        """Start the runs on *loop*; ``ended()`` is called when they end.

        Any thread; never blocks.
        """
        def start() -> None:  # in the aloop's thread
            self._task = loop.create_task(self._loop())
            self._task.add_done_callback(lambda _: ended())

        loop.call_soon_threadsafe(start)

    def cancel_on(self, loop: asyncio.AbstractEventLoop) -> None:
        """Stop further runs (on *loop*, where it runs). Any thread; never blocks."""
        loop.call_soon_threadsafe(lambda: self._task.cancel() if self._task else None)

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self.timer:
            await asyncio.sleep(self.timer)
        start = loop.time()
        while not self.number or self.runs < self.number:
            try:
                result = self.target(*self.args, **self.kwargs)
                if inspect.isawaitable(result):
                    await result
            except asyncio.CancelledError:
                raise
            except BaseException:  # SystemExit would end the aloop's run_forever
                logger.exception('async job %r failed', self)
            self.runs += 1
            if self.number and self.runs >= self.number:
                return
            ahead = start + self.runs * self.interval - loop.time()
            if ahead < 0:  # overran: wait for the next grid point
                ahead %= self.interval
            await asyncio.sleep(ahead)


class AsyncJobScheduler:
    """Runs `AsyncJob`s on one aloop."""

    def __init__(self, name: str, aloop: LoopOwner) -> None:
        self.name = name
        self.aloop = aloop
        self.jobs: set[AsyncJob] = set()

    def __repr__(self) -> str:
        return f'<AsyncJobScheduler {self.name!r} on {self.aloop.name!r}>'

    def create_job(self, target: Callable[..., object], args: tuple[object, ...] = (),
                   kwargs: dict[str, object] | None = None, interval: float | None = None,
                   timer: float = 0, number: int = 0) -> AsyncJob:
        """Schedule a job; raises TypeError/ValueError for bad arguments. Never blocks."""
        if not callable(target):
            raise TypeError(f'target must be callable, got {target!r}')
        every = check_seconds(interval, 'interval', positive=True, finite=True, optional=False)
        delay = check_seconds(timer, 'timer', finite=True, optional=False)
        assert every is not None and delay is not None  # optional=False
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise ValueError(f'number must be a non-negative int, got {number!r}')
        job = AsyncJob(target, tuple(args), dict(kwargs or {}), every, delay, number)
        self.jobs.add(job)
        loop = self.aloop.get_loop()
        if loop is None:
            raise RuntimeError(f'{self.aloop!r} is not running')
        job.begin(loop, lambda: self.jobs.discard(job))
        return job

    def cancel_job(self, job: AsyncJob) -> bool:
        """Stop further runs of *job*; False if it is not one of this scheduler's."""
        if job not in self.jobs:
            return False
        self.jobs.discard(job)
        loop = self.aloop.get_loop()
        if loop is not None:
            job.cancel_on(loop)
        return True

    def stop(self) -> None:
        """Cancel every job."""
        for job in list(self.jobs):
            self.cancel_job(job)
