"""The process tier (TT_MP): tasks in other processes.

What runs them, the *backend*, is one of:

* gatasker's own `ProcessPool` (the default);
* any ``concurrent.futures.Executor`` — its futures are awaited through a
  done-callback that posts to the supervisor's inbox (thread-safe), never
  with a blocking ``.result()``; an executor with a
  ``submit_task(fn, args, kwargs, priority, name)`` method (such as
  `gatasker.contrib.dask.DaskExecutor`) gets the task's priority too;
* a ``multiprocessing.pool.Pool`` (atasker's ``mp_pool``), through
  ``apply_async`` callbacks.

Swapping the backend while running lets the old one finish what it runs.
Called only from the supervisor's greenlet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zope.interface import implementer

from ._admission import Limits
from ._interfaces import ITier
from ._logging import logger
from ._process_backend import ProcessBackend
from ._process_pool import ProcessPool
from ._task import Task
from ._task_run import TaskRun
from ._tier import Done, TierUsage


@implementer(ITier)
class ProcessTier:
    """Hands TT_MP tasks to the current backend and reports their ends.

    A backend sees only the user's `Task`; the tier keeps the engine's record
    of each task it handed over until the backend reports its end (from any
    thread: a dict's single operations are atomic).
    """

    name = 'mp'

    def __init__(self, done: Done, backend: ProcessBackend) -> None:
        self._done = done
        self.backend = backend
        self._records: dict[Task[Any], TaskRun] = {}  # handed over, end not reported

    def start(self) -> None:
        self.backend.open(self._finished)

    def _finished(self, task: Task[Any], ok: bool, value: object) -> None:
        # Any thread: a backend's finish.
        self._done(self._records.pop(task), ok, value)

    def execute(self, task: TaskRun) -> None:
        self._records[task.task] = task
        self.backend.submit(task.task)

    def interrupt(self, task: TaskRun, exc: BaseException, hard: bool) -> bool:
        """Stop *task* where it runs: with *hard*, kill its worker process (a
        new one replaces it); else raise a TimeoutError in it. True if done."""
        return bool(self.backend.interrupt(task.task, exc, hard))

    def task_finished(self, task: TaskRun) -> None:
        """Nothing to do: the backend freed its worker when the task ended."""

    def usage(self) -> TierUsage:
        """The worker processes of gatasker's own pool (0 for another backend)."""
        backend = self.backend
        return TierUsage(workers=len(backend.pids) if isinstance(backend, ProcessPool) else 0)

    def resize(self, limits: Limits) -> None:
        """Size gatasker's own pool by the new `Limits`, if it follows them."""
        if isinstance(self.backend, ProcessPool) and self.backend.follows_limits:
            self.backend.resize(max(1, limits.total) if not limits.unlimited
                                else self.backend.processes)

    def set_backend(self, backend: ProcessBackend) -> None:
        """Use *backend* for new tasks; the old one finishes what it runs, then closes."""
        old, self.backend = self.backend, backend
        if old is backend:
            return
        backend.open(self._finished)
        old.close()

    def close(self, kill: bool, on_closed: Callable[[], None]) -> None:
        """Close the backend (with *kill*, kill busy worker processes: their
        tasks fail); *on_closed()* once its processes are gone."""
        self.backend.close(kill, on_closed)

    def stop(self, wait: bool) -> None:
        try:
            self.backend.close()
        except Exception:
            logger.exception('closing the process tier failed')
