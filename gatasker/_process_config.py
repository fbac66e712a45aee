"""The process tier's configuration: its sizes and the backend that runs its tasks.

The supervisor holds one `ProcessConfig`; `TaskSupervisor.set_mp_pool`,
`create_mp_pool` and `mp_pool` change it from any thread, and the supervisor
then posts the change to the running tier. The tier itself is
`gatasker._process_tier`, the built-in pool `gatasker._process_pool`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from ._admission import Limits
from ._constants import TT_MP
from ._process_backend import ExecutorBackend
from ._process_pool import ProcessPool, dump_call
from ._process_tier import ProcessTier
from ._sizes import merge_limits
from ._statistics import ProcessPoolStatistics
from ._task import Task
from ._task_run import TaskRun
from ._tier_limiter import TierLimiter

#: What runs TT_MP tasks: the built-in pool or a user's executor.
Backend = ProcessPool | ExecutorBackend

_POOL_OPTIONS = frozenset({'initializer', 'initargs', 'maxtasksperchild', 'start_method',
                           'preload'})


def backend_for(pool: object) -> Backend:
    """*pool* as a backend: a `ProcessPool` as is, an executor (or a
    ``multiprocessing`` pool) wrapped; TypeError for anything else."""
    if isinstance(pool, ProcessPool):
        return pool
    if callable(getattr(pool, 'submit', None)) or callable(getattr(pool, 'apply_async', None)):
        return ExecutorBackend(pool)
    raise TypeError(f'mp_pool must be a gatasker ProcessPool, a concurrent.futures.Executor or '
                    f'a multiprocessing pool, got {pool!r}')


class ProcessConfig:
    """The process tier's backend (made when first needed), sized by *limiter*'s limits.

    Any thread; never blocks. The supervisor posts what changed to its
    running tier itself.
    """

    def __init__(self, limiter: TierLimiter) -> None:
        self._limiter = limiter
        self._limits_set = False  # set_mp_pool() gave sizes: create_mp_pool() keeps them
        self._backend: Backend | None = None

    @property
    def backend(self) -> Backend:
        """The backend; a built-in pool of the tier's size unless one was set."""
        if self._backend is None:
            self._backend = self._default_pool(self._limiter.limits)
        return self._backend

    @property
    def pickles_targets(self) -> bool:
        """True when tasks go to the built-in pool, which pickles their target."""
        return self._backend is None or isinstance(self._backend, ProcessPool)

    def configure(self, executor: object, sizes: Mapping[str, object], running: bool
                  ) -> tuple[Limits, Backend | None]:
        """``set_mp_pool()``: new sizes and maybe an *executor*; *running* tells
        whether the supervisor runs. Returns the new limits, for the caller to
        set once it posted the new backend (if there is one) to the tier.

        Raises TypeError/ValueError (nothing changes then).
        """
        limits = merge_limits(self._limiter.limits, sizes, 'set_mp_pool')
        backend = backend_for(executor) if executor is not None else None
        self._limits_set = True
        if backend is not None:
            self._backend = backend
            return limits, backend
        if self._backend is None:
            pool = self._default_pool(limits)
            pool.prestart = True
            self._backend = pool
            return limits, pool
        if isinstance(self._backend, ProcessPool) and self._backend.follows_limits:
            self._backend.prestart = True  # filled by the resize when running
            if not running:
                self._backend.processes = _default_processes(limits)
        return limits, None

    def create_pool(self, processes: int | None, options: Mapping[str, Any]
                    ) -> tuple[ProcessPool, Limits]:
        """``create_mp_pool()``: a built-in pool of *processes*, made the backend,
        and the tier's limits (its size unless ``set_mp_pool`` gave sizes), for
        the caller to set once it posted the pool to the tier.

        Raises TypeError/ValueError (nothing changes then).
        """
        unknown = set(options) - _POOL_OPTIONS
        if unknown:
            raise TypeError(f'create_mp_pool() got unexpected keyword arguments: {sorted(unknown)}')
        pool = ProcessPool(processes, **options)
        pool.prestart = True
        self._backend = pool
        return pool, (self._limiter.limits if self._limits_set
                      else Limits(pool_size=pool.processes))

    def replace(self, pool: object) -> Backend:
        """``mp_pool = pool``: *pool* (None: a new built-in pool) is the backend."""
        self._backend = self._default_pool(self._limiter.limits) if pool is None \
            else backend_for(pool)
        return self._backend

    @property
    def pool(self) -> object:
        """What ``mp_pool`` shows: the built-in pool or the user's executor."""
        backend = self.backend
        return backend.executor if isinstance(backend, ExecutorBackend) else backend

    def make_tier(self, done: Callable[[TaskRun, bool, Any], None]) -> ProcessTier:
        """The process tier of a new run, on the current backend. Hub thread."""
        return ProcessTier(done, self.backend)

    def check_task(self, task: Task[Any]) -> None:
        """Raise TypeError at ``put_task`` for a TT_MP target that cannot travel
        (a lambda, a local function) to the built-in pool. Its arguments are
        pickled when a process takes it; one that cannot travel is the task's
        TypeError."""
        if task.tt == TT_MP and self.pickles_targets:
            dump_call(task.target, (), {})

    def after_fork_in_child(self) -> None:
        """In a forked child: the parent's pool processes are not ours."""
        if isinstance(self._backend, ProcessPool):
            self._backend.forget_parent()

    @property
    def processes(self) -> int | None:
        """The built-in pool's process count, None for an executor."""
        return self._backend.processes if isinstance(self._backend, ProcessPool) else None

    def statistics(self) -> ProcessPoolStatistics | None:
        """A snapshot of the built-in pool (made if no backend was set yet), None
        for an executor. Never blocks."""
        backend = self.backend
        if not isinstance(backend, ProcessPool):
            return None
        return ProcessPoolStatistics(processes=backend.processes, alive=len(backend.pids),
                                     replaced=backend.replaced)

    @staticmethod
    def _default_pool(limits: Limits) -> ProcessPool:
        pool = ProcessPool(_default_processes(limits))
        pool.follows_limits = True
        return pool


def _default_processes(limits: Limits) -> int:
    return limits.total if not limits.unlimited else (os.cpu_count() or 1)
