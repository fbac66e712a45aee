"""What a supervisor reports: `SupervisorStatistics`, and atasker's ``get_info()``.

`Introspection` reads the supervisor's parts (lifecycle, task table and
counters, sizes, actors, aloops, process pool, schedulers) without stopping
anything; ``get_info()`` is `statistics()` under atasker's names plus what
atasker listed (schedulers, actor and aloop names, the pool).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any, Protocol

from ._actor_registry import ActorRegistry, is_worker
from ._admission import Limits
from ._aloops import ALoops, Named
from ._constants import TIER_NAMES, TT_COROUTINE, TT_THREAD
from ._lifecycle import RUNNING, Lifecycle
from ._process_config import ProcessConfig
from ._schedulers import Schedulers
from ._statistics import (
    PriorityCounters,
    PriorityStatistics,
    SupervisorStatistics,
    TierStatistics,
)
from ._task import Task
from ._thread_tier import ThreadSizes


class Counted(Protocol):
    """The engine, as far as the statistics read it."""

    @property
    def tasks(self) -> Mapping[Any, Task[Any]]:
        """Every queued, delayed or running task by id."""

    @property
    def counters(self) -> Mapping[int, Mapping[int, PriorityCounters]]:
        """Per tier and priority, the counters of the tasks that ran."""


class Introspection:
    """Snapshots of one supervisor's parts. Any thread; never blocks."""

    def __init__(self, supervisor: Named, life: Lifecycle, engine: Counted,
                 limits: Callable[[int], Limits], thread_sizes: Callable[[], ThreadSizes],
                 actors: ActorRegistry, aloops: ALoops, processes: ProcessConfig,
                 schedulers: Schedulers) -> None:
        self._supervisor = supervisor
        self._life = life
        self._engine = engine
        self._limits = limits
        self._thread_sizes = thread_sizes
        self._actors = actors
        self._aloops = aloops
        self._processes = processes
        self._schedulers = schedulers

    def statistics(self) -> SupervisorStatistics:
        """See `TaskSupervisor.statistics`."""
        state = self._life.state
        run = self._life.live_run()
        tiers = {}
        for tt, name in TIER_NAMES.items():
            if tt == TT_COROUTINE:  # holds no slot: not a tier with sizes
                continue
            limits = self._limits(tt)
            admission = run.admissions.get(tt) if run is not None else None
            queued = admission.queued() if admission else {}
            priorities = {priority: PriorityStatistics.of(counters, queued.get(priority, 0))
                          for priority, counters in self._engine.counters[tt].items()}
            tiers[name] = TierStatistics(
                name=name,
                pool_size=limits.pool_size,
                reserve_normal=limits.reserve_normal,
                reserve_high=limits.reserve_high,
                running=admission.running if admission else 0,
                queued=queued,
                completed=sum(p.completed for p in priorities.values()),
                failed=sum(p.failed for p in priorities.values()),
                cancelled=sum(p.cancelled for p in priorities.values()),
                priorities=priorities,
            )
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
        thread_sizes = self._thread_sizes()
        info.thread_min_size = thread_sizes.min_size
        info.thread_max_size = thread_sizes.max_size
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
