"""The greenlet tier: cooperative tasks in the supervisor's hub.

Tasks run on reusable worker greenlets: a finished worker parks itself and
is handed the next task with one callback, which is cheaper than creating a
greenlet per task.
"""

from __future__ import annotations

import gevent
from greenlet import getcurrent
from greenlet import greenlet as RawGreenlet
from zope.interface import implementer

from . import _tracing
from ._admission import Limits
from ._interfaces import ITier
from ._task_run import TaskRun, run_target
from ._tier import Done, TierUsage

#: Idle worker greenlets kept when the tier is unlimited.
UNLIMITED_IDLE_WORKERS = 1000


@implementer(ITier)
class GreenletTier:
    """Runs tasks as greenlets in the hub of the supervisor's greenlet.

    Made in that hub's thread (a `Tier`: called only from the supervisor's
    greenlet).
    """

    name = 'greenlet'

    def __init__(self, done: Done, limits: Limits) -> None:
        self._done = done
        self._idle: list[RawGreenlet] = []
        self._keep_idle = limits.total or UNLIMITED_IDLE_WORKERS
        self._hub = gevent.get_hub()
        self._closed = False
        self._workers = 0  # worker greenlets alive, parked ones included

    def start(self) -> None:
        """Nothing to acquire: worker greenlets are made as tasks come."""

    def execute(self, task: TaskRun) -> None:
        if self._idle:
            self._hub.loop.run_callback(self._idle.pop().switch, task)
        else:
            # A new greenlet gets its first task in a list it empties: the
            # arguments of a greenlet's first switch live as long as the
            # greenlet, and a parked worker must not keep a finished task.
            worker = RawGreenlet(self._work, self._hub)
            self._workers += 1
            self._hub.loop.run_callback(worker.switch, [task])

    def task_finished(self, task: TaskRun) -> None:
        """Nothing to do: a worker greenlet parks itself when its task ends."""

    def usage(self) -> TierUsage:
        """The worker greenlets alive now."""
        return TierUsage(workers=self._workers)

    def resize(self, limits: Limits) -> None:
        """Keep at most as many parked workers as the new `Limits` allow."""
        self._keep_idle = limits.total or UNLIMITED_IDLE_WORKERS
        while len(self._idle) > self._keep_idle:
            self._hub.loop.run_callback(self._idle.pop().switch, None)

    def stop(self, wait: bool) -> None:
        self._closed = True
        self._keep_idle = 0
        while self._idle:
            self._hub.loop.run_callback(self._idle.pop().switch, None)

    def interrupt(self, task: TaskRun, exc: BaseException, hard: bool) -> bool:
        """Raise *exc* in the greenlet running *task* (hub thread); False if none does."""
        worker = task.handle
        if not isinstance(worker, RawGreenlet):
            return False
        self._hub.loop.run_callback(_throw, task, worker, exc)
        return True

    def _work(self, first: list[TaskRun]) -> None:
        done = self._done
        idle = self._idle
        hub = self._hub
        me = getcurrent()
        task: TaskRun | None = first.pop()
        while task is not None:
            task.handle = me  # what interrupt() throws into while it runs
            ok, value = run_target(task, _tracing.tracer)
            task.handle = None
            done(task, ok, value)
            task = value = None
            if self._closed or len(idle) >= self._keep_idle:
                break
            idle.append(getcurrent())
            task = hub.switch()
        self._workers -= 1


def _throw(task: TaskRun, worker: RawGreenlet, exc: BaseException) -> None:
    # A hub callback: the worker may have ended the task (and taken another) since.
    handle = task.handle
    if isinstance(handle, RawGreenlet) and handle is worker and not handle.dead:
        handle.throw(exc)
