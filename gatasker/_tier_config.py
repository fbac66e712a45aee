"""A supervisor's three tier limiters, and the tiers of a new run.

`TierConfig` holds one `TierLimiter` per tier (their limits, admission
queues, counters and statistics) and the process tier's `ProcessConfig`;
it makes the three tiers and opens their admissions when a run opens.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from ._admission import Limits
from ._constants import TT_GREENLET, TT_MP, TT_THREAD
from ._greenlet_tier import GreenletTier
from ._process_config import ProcessConfig
from ._process_tier import ProcessTier
from ._run import HubRun
from ._sizes import ThreadLimits, merge_limits
from ._task_run import TaskRun
from ._thread_tier import ThreadTier
from ._tier_limiter import TierLimiter

#: How a tier reports a task's end: ``done(task, ok, result_or_exception)``.
Done = Callable[[TaskRun, bool, Any], None]

#: The thread tier's sizes unless the constructor's keywords say otherwise.
THREAD_DEFAULTS: dict[str, int | str] = {'pool_size': 15, 'reserve_normal': 5, 'reserve_high': 5}


class TierConfig:
    """The limiters of the thread, greenlet and process tiers.

    Args:
        thread_sizes: the constructor's thread-tier keywords.
        wake: ``wake(tt)`` once tier *tt*'s limits changed (see `TierLimiter`).

    Raises:
        TypeError/ValueError: a bad key or size in *thread_sizes*.

    Any thread; never blocks.
    """

    def __init__(self, thread_sizes: Mapping[str, int | str],
                 wake: Callable[[int], None]) -> None:
        thread = merge_limits(ThreadLimits.of(Limits()), {**THREAD_DEFAULTS, **thread_sizes},
                              'TaskSupervisor')
        self.thread = TierLimiter(TT_THREAD, thread, wake)
        self.greenlet = TierLimiter(
            TT_GREENLET, Limits(pool_size=1000, reserve_normal=100, reserve_high=100), wake)
        self.mp = TierLimiter(TT_MP, Limits(pool_size=os.cpu_count() or 1), wake)
        #: The process tier's backend; it reads and sets the ``mp`` limits.
        self.processes = ProcessConfig(self.mp)
        #: The limiters by tier, in the order statistics() lists them.
        self.by_tt: dict[int, TierLimiter] = {
            TT_THREAD: self.thread, TT_MP: self.mp, TT_GREENLET: self.greenlet}

    def make_tier(self, tt: int, done: Done) -> ThreadTier | GreenletTier | ProcessTier:
        """A new tier *tt* reporting its tasks' ends to *done*. In the run's hub."""
        if tt == TT_THREAD:
            limits = self.thread.limits
            assert isinstance(limits, ThreadLimits)
            return ThreadTier(done, limits)
        if tt == TT_GREENLET:
            return GreenletTier(done, self.greenlet.limits)
        return self.processes.make_tier(done)

    def open_tiers(self, run: HubRun, done: Callable[[HubRun], Done]) -> None:
        """Start *run*'s three tiers and open their admissions. In the run's hub."""
        for tt in (TT_GREENLET, TT_THREAD, TT_MP):
            tier = self.make_tier(tt, done(run))
            tier.start()
            run.tiers[tt] = tier
            run.admissions[tt] = self.by_tt[tt].open()

    def started(self) -> None:
        """The supervisor runs now: apply limits set while it started. Any thread."""
        for limiter in self.by_tt.values():
            limiter.wake_if_stale()
