"""The supervisor's side of the process tier (TT_MP): sizes, pool, executor.

A mixin of TaskSupervisor; each hook calls ``super()`` so the other mixins
keep working. The tier itself is :mod:`gatasker._process_tier`, the
built-in pool :mod:`gatasker._process_pool`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from ._admission import Limits
from ._bridge import Latch
from ._constants import TT_MP
from ._process_backend import ExecutorBackend
from ._process_pool import EXIT_TIMEOUT, ProcessPool, dump_call
from ._process_tier import ProcessTier
from ._statistics import ProcessPoolStatistics
from ._task import Task

_POOL_KEYS = frozenset({'pool_size', 'reserve_normal', 'reserve_high'})


def _backend_for(pool: Any) -> Any:
    if isinstance(pool, ProcessPool):
        return pool
    if callable(getattr(pool, 'submit', None)) or callable(getattr(pool, 'apply_async', None)):
        return ExecutorBackend(pool)
    raise TypeError(f'mp_pool must be a gatasker ProcessPool, a concurrent.futures.Executor or '
                    f'a multiprocessing pool, got {pool!r}')


class ProcessSupport:
    """Mixin: the process tier's sizes, pool and executor."""

    def _init_extensions(self) -> None:
        super()._init_extensions()  # type: ignore[misc]
        cpus = os.cpu_count() or 1
        self._mp_limits = Limits(pool_size=cpus)
        self._mp_limits_set = False
        self._mp_backend: Any = None  # made when first needed: a ProcessPool of cpus

    # -- configuration ------------------------------------------------------------------

    def set_mp_pool(self, *, executor: Any = None, **kwargs: Any) -> None:
        """Set the process tier's ``pool_size``, ``reserve_normal`` and
        ``reserve_high`` (keys not given keep their value), and optionally the
        *executor* that runs its tasks (any ``concurrent.futures.Executor``).

        Without an executor and without :meth:`create_mp_pool`, the built-in
        pool runs ``pool_size + reserve_normal + reserve_high`` processes,
        started in the background once the supervisor runs (as atasker's
        pool was created here). Before or after :meth:`start`; never blocks.
        """
        from ._supervisor import _merge_limits
        limits = _merge_limits(self._mp_limits, kwargs, _POOL_KEYS, 'set_mp_pool')
        backend = _backend_for(executor) if executor is not None else None
        self._mp_limits = limits
        self._mp_limits_set = True
        if backend is not None:
            self._set_mp_backend(backend)
        elif self._mp_backend is None:
            pool = self._default_pool()
            pool.prestart = True
            self._set_mp_backend(pool)
        elif isinstance(self._mp_backend, ProcessPool) and self._mp_backend.follows_limits:
            self._mp_backend.prestart = True  # filled by the resize below when running
            if self.mode is None:  # type: ignore[attr-defined]
                self._mp_backend.processes = self._default_processes()
        self._post_if_running(self._engine.on_resize, TT_MP)  # type: ignore[attr-defined]

    def create_mp_pool(self, processes: int | None = None, **kwargs: Any) -> ProcessPool:
        """Make gatasker's built-in process pool the process tier's backend and return it.

        *processes* defaults to the CPU count; further keywords:
        ``initializer``, ``initargs``, ``maxtasksperchild``, ``start_method``
        (``'fork'``, the default, or ``'spawn'``; see :class:`ProcessPool`).
        Unless :meth:`set_mp_pool` set sizes, the tier's ``pool_size`` becomes
        *processes*. The processes start in the background once the
        supervisor runs, so the first task does not wait for one. Before or
        after :meth:`start`; never blocks.
        """
        unknown = set(kwargs) - {'initializer', 'initargs', 'maxtasksperchild', 'start_method'}
        if unknown:
            raise TypeError(f'create_mp_pool() got unexpected keyword arguments: {sorted(unknown)}')
        pool = ProcessPool(processes, **kwargs)
        pool.prestart = True
        if not self._mp_limits_set:
            self._mp_limits = Limits(pool_size=pool.processes)
        self._set_mp_backend(pool)
        self._post_if_running(self._engine.on_resize, TT_MP)  # type: ignore[attr-defined]
        return pool

    @property
    def mp_pool(self) -> Any:
        """What runs TT_MP tasks: the built-in :class:`ProcessPool` or the executor set.

        Assign any ``concurrent.futures.Executor`` (or a ``multiprocessing``
        pool, as in atasker) to run them there; None restores a built-in pool.
        The supervisor never shuts down an executor it was given.
        """
        backend = self._mp_backend
        if backend is None:
            backend = self._mp_backend = self._default_pool()
        return backend.executor if isinstance(backend, ExecutorBackend) else backend

    @mp_pool.setter
    def mp_pool(self, pool: Any) -> None:
        self._set_mp_backend(self._default_pool() if pool is None else _backend_for(pool))

    def _default_processes(self) -> int:
        limits = self._mp_limits
        return limits.total if not limits.unlimited else (os.cpu_count() or 1)

    def _default_pool(self) -> ProcessPool:
        pool = ProcessPool(self._default_processes())
        pool.follows_limits = True
        return pool

    def _set_mp_backend(self, backend: Any) -> None:
        self._mp_backend = backend
        self._post_if_running(self._on_mp_backend, backend)  # type: ignore[attr-defined]

    def _on_mp_backend(self, run: Any, backend: Any) -> None:
        tier = run.tiers.get(TT_MP)
        if tier is not None:
            tier.set_backend(backend)

    # -- supervisor hooks ----------------------------------------------------------------

    def _extension_limits(self, tt: int) -> Any:
        if tt == TT_MP:
            return self._mp_limits
        return super()._extension_limits(tt)  # type: ignore[misc]

    def _make_extension_tier(self, tt: int, done: Callable[..., None]) -> Any:
        if tt == TT_MP:
            if self._mp_backend is None:
                self._mp_backend = self._default_pool()
            return ProcessTier(done, self._mp_backend)
        return super()._make_extension_tier(tt, done)  # type: ignore[misc]

    def _prepare_task(self, task: Task[Any]) -> None:
        super()._prepare_task(task)  # type: ignore[misc]
        if task.tt == TT_MP and (self._mp_backend is None
                                 or isinstance(self._mp_backend, ProcessPool)):
            # A target that cannot travel (a lambda, a local function) is a
            # TypeError at the call. The arguments are pickled when a process
            # takes the task; one that cannot travel is the task's TypeError.
            dump_call(task.target, (), {})

    def _stop_extensions(self, run: Any, deadline: float | None) -> None:
        super()._stop_extensions(run, deadline)  # type: ignore[misc]
        # In the stop sequence's greenlet, once the queued work is done (or
        # the wait ran out): close the pool here, so that stop() returns
        # after the worker processes are gone.
        admission = run.admissions.get(TT_MP)
        if admission is None:
            return
        kill = False
        if admission.running:
            if deadline is None or time.monotonic() < deadline:
                return  # tasks still run: the tier closes when they end
            kill = True  # the wait ran out: unlike threads, processes can be stopped
        closed = Latch()
        self._call_in_mailbox(run, self._close_mp, run, kill, closed)  # type: ignore[attr-defined]
        closed.wait(EXIT_TIMEOUT + 1.0)

    def _close_mp(self, run: Any, kill: bool, closed: Latch) -> None:
        tier = run.tiers.get(TT_MP)
        if tier is None:
            closed.set()
        else:
            tier.close(kill, closed.set)

    def _after_fork_extensions(self) -> None:
        if isinstance(self._mp_backend, ProcessPool):
            self._mp_backend.forget_parent()
        super()._after_fork_extensions()  # type: ignore[misc]

    def _extend_info(self, info: SimpleNamespace, run: Any) -> None:
        super()._extend_info(info, run)  # type: ignore[misc]
        backend = self._mp_backend
        info.mp_pool = self.mp_pool
        info.mp_processes = backend.processes if isinstance(backend, ProcessPool) else None

    def _process_pool_statistics(self) -> ProcessPoolStatistics | None:
        backend = self._mp_backend
        if not isinstance(backend, ProcessPool):
            return None
        return ProcessPoolStatistics(processes=backend.processes, alive=len(backend.pids),
                                     replaced=backend.replaced)

