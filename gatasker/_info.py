"""What a supervisor reports: `SupervisorStatistics`, and atasker's ``get_info()``.

`Introspection` only assembles: each tier's `TierStatistics` comes from its
`TierLimiter`, the rest from the supervisor's parts (lifecycle, task table,
actors, aloops, process pool, schedulers), read without stopping anything;
``get_info()`` is `statistics()` under atasker's names plus what atasker
listed (schedulers, actor and aloop names, the pool).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any, Protocol

from ._actor_registry import ActorRegistry, is_worker
from ._aloops import ALoops, Named
from ._constants import TT_THREAD
from ._lifecycle import RUNNING, Lifecycle
from ._schedulers import Schedulers
from ._sizes import ThreadLimits
from ._statistics import SupervisorStatistics
from ._tier_config import TierConfig


class Counted(Protocol):
    """The engine, as far as the statistics read it."""

    @property
    def tasks(self) -> Mapping[Any, object]:
        """Every queued, delayed or running task's record, by id."""


class Introspection:
    """Snapshots of one supervisor's parts. Any thread; never blocks."""

    def __init__(self, supervisor: Named, life: Lifecycle, engine: Counted, tiers: TierConfig,
                 actors: ActorRegistry, aloops: ALoops, schedulers: Schedulers) -> None:
        self._supervisor = supervisor
        self._life = life
        self._engine = engine
        self._tiers = tiers
        self._actors = actors
        self._aloops = aloops
        self._processes = tiers.processes
        self._schedulers = schedulers

    def statistics(self) -> SupervisorStatistics:
        """See `TaskSupervisor.statistics`."""
        state = self._life.state
        run = self._life.live_run()
        # Coroutine tasks hold no tier slot: they have no limiter, no TierStatistics.
        tiers = {limiter.name: limiter.statistics(live=run is not None)
                 for limiter in self._tiers.by_tt.values()}
        actors = self._actors.actors()
        process_pool = self._processes.statistics()
        watchdog = self._life.run.watchdog if self._life.run is not None else None
        return SupervisorStatistics(
            id=self._supervisor.id,
            state=state,
            mode=run.mode if run is not None else None,
            tasks=len(self._engine.tasks),
            tiers=tiers,
            actors=len(actors),
            workers=sum(1 for actor in actors if is_worker(actor)),
            aloops=len(self._aloops.running_names()),
            actor_statistics=self._actors.statistics(),
            process_pool=process_pool,
            hub=watchdog.statistics() if watchdog is not None else None,
        )

    def info(self, default_tt: int, poll_delay: float) -> SimpleNamespace:
        """See `TaskSupervisor.get_info`."""
        stats = self.statistics()
        info = SimpleNamespace(
            id=self._supervisor.id,
            active=stats.state == RUNNING,
            started=stats.state == RUNNING,
            mode=stats.mode,
            default_tt=default_tt,
            poll_delay=poll_delay,
            tasks_count=stats.tasks,
            schedulers=self._schedulers.all(),  # sync ones included, as in atasker
            sync_schedulers=self._schedulers.sync(),
        )
        for name in ('thread', 'greenlet', 'mp'):
            sizes = stats.tiers[name]
            setattr(info, f'{name}_pool_size', sizes.pool_size)
            setattr(info, f'{name}_reserve_normal', sizes.reserve_normal)
            setattr(info, f'{name}_reserve_high', sizes.reserve_high)
            setattr(info, f'{name}_tasks_count', sizes.running)
            setattr(info, f'{name}_queued', sizes.queued)
        thread_limits = self._tiers.thread.limits
        assert isinstance(thread_limits, ThreadLimits)
        info.thread_min_size = thread_limits.min_size
        info.thread_max_size = thread_limits.max_size
        run = self._life.live_run()
        tier = run.tiers.get(TT_THREAD) if run is not None else None
        info.thread_threads = tier.usage().workers if tier is not None else 0
        actors = self._actors.actors()
        info.actors = [actor.name for actor in actors]
        info.workers = [actor.name for actor in actors if is_worker(actor)]
        info.aloops = self._aloops.running_names()
        default_aloop = self._aloops.default
        info.default_aloop = default_aloop.name if default_aloop else None
        info.async_job_schedulers = self._aloops.job_scheduler_names()
        info.mp_pool = self._processes.pool
        info.mp_processes = self._processes.processes
        return info
