"""The thread tier: blocking tasks on real OS threads hosted by an owned gevent ThreadPool.

Each thread of the pool runs one long-lived worker loop that takes tasks from
an unpatched C queue and reports each end through the supervisor's inbox
(thread-safe, one coalesced wake-up of the hub per batch). That costs far
less per task than ``ThreadPool.spawn``, which builds an async watcher and an
AsyncResult for every call.
"""

from __future__ import annotations

from gevent.threadpool import ThreadPool
from zope.interface import implementer

from . import _tracing
from ._admission import Limits
from ._bridge import ThreadQueue
from ._constants import TASK_CRITICAL
from ._interfaces import ITier
from ._sizes import ThreadLimits
from ._task_run import TaskRun, run_target
from ._tier import Done, TierUsage

_STOP = None  # tells one worker loop to end


@implementer(ITier)
class ThreadTier:
    """Runs tasks on OS threads of a gevent ThreadPool owned by the supervisor.

    ``max_size`` caps the threads for non-critical tasks; a CRITICAL task
    that finds every thread busy gets a thread of its own beyond that cap,
    and the extra threads retire when the load drops. Called only from the
    supervisor's greenlet; the worker loops call ``done`` from their threads.
    """

    name = 'thread'

    def __init__(self, done: Done, sizes: ThreadLimits) -> None:
        self._done = done
        self._sizes = sizes
        self._pool: ThreadPool | None = None
        self._queue: ThreadQueue[TaskRun | None] = ThreadQueue()
        #: Worker loops running (or asked to start) and not asked to stop.
        self.loops = 0
        #: Tasks handed to the loops whose end has not been reported back.
        self.active = 0

    def start(self) -> None:
        self._pool = ThreadPool(max(1, self._sizes.max_size))
        self._grow_to(self._sizes.min_size)

    def _grow_to(self, loops: int) -> None:
        pool = self._pool
        assert pool is not None
        pool.maxsize = max(pool.maxsize, loops)
        while self.loops < loops:
            self.loops += 1
            pool.spawn(self._loop, self._queue, self._done)

    @staticmethod
    def _loop(queue: ThreadQueue[TaskRun | None], done: Done) -> None:
        # Runs in a pool thread until it takes _STOP.
        get = queue.get
        while True:
            task = get()
            if task is None:  # _STOP
                return
            ok, value = run_target(task, _tracing.tracer)
            done(task, ok, value)
            task = value = None

    def execute(self, task: TaskRun) -> None:
        active = self.active = self.active + 1
        if active > self.loops:
            if task.task.priority == TASK_CRITICAL:
                self._grow_to(self.active)
            elif self.loops < self._sizes.max_size:
                self._grow_to(min(self.active, self._sizes.max_size))
        self._queue.put(task)

    def interrupt(self, task: TaskRun, exc: BaseException, hard: bool) -> bool:
        """A thread cannot be stopped from outside: its code sees *exc* at its
        next ``checkpoint()``, so this reports False."""
        return False

    def task_finished(self, task: TaskRun) -> None:
        """The end of a task this tier ran was handled (supervisor greenlet)."""
        self.active -= 1
        if self.loops > self._sizes.max_size:  # only CRITICAL tasks grow it past max_size
            self._trim()

    def _trim(self) -> None:
        keep = max(self._sizes.max_size, self._sizes.min_size, self.active)
        while self.loops > keep:
            self.loops -= 1
            self._queue.put(_STOP)

    def resize(self, sizes: Limits) -> None:
        """Keep the threads the new `ThreadLimits` ask for (running tasks go on)."""
        if not isinstance(sizes, ThreadLimits):
            raise TypeError(f'the thread tier is sized by ThreadLimits, got {sizes!r}')
        self._sizes = sizes
        if self._pool is not None:
            self._grow_to(max(sizes.min_size, min(self.active, sizes.max_size)))
            self._trim()

    @property
    def threads(self) -> int:
        """The OS threads the tier runs now."""
        return self._pool.size if self._pool is not None else 0

    def usage(self) -> TierUsage:
        """The OS threads the tier runs now."""
        return TierUsage(workers=self.threads)

    def stop(self, wait: bool) -> None:
        while self.loops > 0:
            self.loops -= 1
            self._queue.put(_STOP)
        pool, self._pool = self._pool, None
        if pool is not None:
            # A ThreadPool dropped without kill() keeps its threads for ever; kill() lets
            # each one end once its loop took _STOP (a running task still finishes).
            pool.kill()

