"""The sizes a supervisor's tiers are configured with, and the tiers of a new run.

`TierConfig` keeps the thread tier's `ThreadSizes`, the greenlet tier's
`Limits` and (through `ProcessConfig`) the process tier's; it makes the
three tiers and their admissions when a run opens. ``set_thread_pool()`` and
``set_greenlet_pool()`` change it from any thread; the supervisor then posts
the resize to the running engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ._admission import Admission, Limits
from ._constants import TT_GREENLET, TT_MP, TT_THREAD
from ._greenlet_tier import GreenletTier
from ._process_config import ProcessConfig
from ._process_tier import ProcessTier
from ._run import HubRun
from ._sizes import merge_limits, merge_thread_sizes
from ._task import Task
from ._thread_tier import ThreadSizes, ThreadTier

#: How a tier reports a task's end: ``done(task, ok, result_or_exception)``.
Done = Callable[[Task[Any], bool, Any], None]

#: The thread tier's sizes unless the constructor's keywords say otherwise.
THREAD_DEFAULTS: dict[str, int | str] = {'pool_size': 15, 'reserve_normal': 5, 'reserve_high': 5}


class TierConfig:
    """The three tiers' sizes (the process tier's in *processes*).

    Args:
        thread_sizes: the constructor's thread-tier keywords.
        processes: the process tier's configuration.

    Raises:
        TypeError/ValueError: a bad key or size in *thread_sizes*.

    Any thread; never blocks.
    """

    def __init__(self, thread_sizes: Mapping[str, int | str], processes: ProcessConfig) -> None:
        self.thread = merge_thread_sizes(ThreadSizes(Limits()),
                                         {**THREAD_DEFAULTS, **thread_sizes}, 'TaskSupervisor')
        self.greenlet = Limits(pool_size=1000, reserve_normal=100, reserve_high=100)
        self._processes = processes

    def set_thread(self, sizes: Mapping[str, int | str]) -> None:
        """``set_thread_pool()``: see `TaskSupervisor.set_thread_pool`."""
        self.thread = merge_thread_sizes(self.thread, sizes, 'set_thread_pool')

    def set_greenlet(self, sizes: Mapping[str, int]) -> None:
        """``set_greenlet_pool()``: see `TaskSupervisor.set_greenlet_pool`."""
        self.greenlet = merge_limits(self.greenlet, sizes, 'set_greenlet_pool')

    def limits(self, tt: int) -> Limits:
        """Tier *tt*'s admission limits."""
        if tt == TT_THREAD:
            return self.thread.limits
        if tt == TT_GREENLET:
            return self.greenlet
        return self._processes.limits

    def resize_args(self, tt: int) -> tuple[Limits, object]:
        """Tier *tt*'s admission limits and what its ``resize`` takes."""
        limits = self.limits(tt)
        return limits, self.thread if tt == TT_THREAD else limits

    def make_tier(self, tt: int, done: Done) -> ThreadTier | GreenletTier | ProcessTier:
        """A new tier *tt* reporting its tasks' ends to *done*. In the run's hub."""
        if tt == TT_THREAD:
            return ThreadTier(done, self.thread)
        if tt == TT_GREENLET:
            return GreenletTier(done, self.greenlet)
        return self._processes.make_tier(done)

    def open_tiers(self, run: HubRun, done: Callable[[HubRun], Done]) -> None:
        """Start *run*'s three tiers and their admissions. In the run's hub."""
        for tt in (TT_GREENLET, TT_THREAD, TT_MP):
            tier = self.make_tier(tt, done(run))
            tier.start()
            run.tiers[tt] = tier
            run.admissions[tt] = Admission(self.limits(tt))

