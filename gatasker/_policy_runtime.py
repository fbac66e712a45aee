"""The run-time side of task policies: limit timers, retries, rate limits, queue timeouts.

What a ``TaskPolicy`` (see ``_policies.py``) asks for, carried out in the
supervisor's hub for the [Engine][gatasker._engine.Engine]: the timers of a
run's soft and hard time limits and what happens when one fires, stopping a
running task in its tier (``Task.cancel()``), running a failed task again
after its backoff, holding a task back by its rate limit, and atasker's
``timeout_warning``/``timeout_critical`` for tasks that wait too long to start.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import gevent

from . import _events
from ._bridge import state_lock
from ._constants import TASK_STATUS_QUEUED, TT_COROUTINE
from ._errors import TaskCancelled, TaskTimeout
from ._logging import call_logged, logger
from ._policies import Closable, RunState, interrupted_outcome
from ._run import HubRun
from ._statistics import PriorityCounters
from ._task import Task
from ._task_run import TaskRun


@runtime_checkable
class Cancelable(Protocol):
    """How a running coroutine task is stopped (its asyncio task's handle)."""

    def cancel(self) -> object: ...


class SupervisorView(Protocol):
    """What the engine reads of its supervisor: public settings, read when used."""

    @property
    def id(self) -> object:
        """The supervisor's id (in events and errors)."""

    @property
    def timeout_warning(self) -> float | None:
        """Seconds a task may wait to start before a warning is logged."""

    @property
    def timeout_warning_func(self) -> Callable[[Task[Any]], object] | None:
        """Called with a task that waited ``timeout_warning`` seconds."""

    @property
    def timeout_critical(self) -> float | None:
        """Seconds a task may wait to start before an error is logged."""

    @property
    def timeout_critical_func(self) -> Callable[[Task[Any]], object] | None:
        """Called with a task that waited ``timeout_critical`` seconds."""


class TaskPath(Protocol):
    """What the policies need of the task path (the supervisor's ``Engine``)."""

    @property
    def supervisor(self) -> SupervisorView:
        """The settings of the supervisor it serves."""

    @property
    def counters(self) -> dict[int, dict[int, PriorityCounters]]:
        """Per tier and priority: the counters behind ``statistics()``."""

    def post(self, run: HubRun, handler: Callable[..., object], *args: object) -> None:
        """Post ``handler(*args)`` to the run's mailbox."""

    def end(self, run: HubRun, record: TaskRun, ok: bool, value: object) -> None:
        """Complete the task with its outcome."""

    def release(self, run: HubRun, record: TaskRun) -> None:
        """Free the slot of a task whose run ended."""

    def cancel_ran(self, record: TaskRun) -> None:
        """A task canceled while it ran ends CANCELED."""

    def on_delay_over(self, run: HubRun, record: TaskRun, rated: bool = False) -> None:
        """A task's wait outside the pool is over."""


class PolicyRuntime:
    """The policies of an engine's tasks, carried out in the supervisor's hub.

    Every method runs in the supervisor's mailbox greenlet.
    """

    def __init__(self, engine: TaskPath) -> None:
        self._engine = engine

    def arm_limits(self, run: HubRun, record: TaskRun) -> None:
        """Start the timers of the run-time limits of the run that just started."""
        policy = record.task.policy
        state = record.core.state
        assert policy is not None and state is not None
        state.run_number += 1
        for seconds, hard in ((policy.soft_timeout, False), (policy.timeout, True)):
            if seconds is not None:
                timer = run.hub.loop.timer(seconds, ref=False)
                state.timers.append(timer)
                timer.start(self._engine.post, run, self._limit_reached, run, record,
                            state.run_number, hard)

    def _limit_reached(self, run: HubRun, record: TaskRun, run_number: int, hard: bool) -> None:
        task = record.task
        state = record.core.state
        assert state is not None and task.policy is not None
        if state.run_number != run_number or not task.running():
            return  # that run ended meanwhile
        seconds = task.policy.timeout if hard else task.policy.soft_timeout
        exc = TaskTimeout(f'{task!r} ran longer than its {"" if hard else "soft "}time limit '
                          f'of {seconds} s')
        if not record.core.ask_to_stop(task, exc):
            return  # being cancelled already
        logger.warning('task %r: %s time limit of %s s passed', task,
                       'hard' if hard else 'soft', seconds)
        self.stop_running(run, record, hard)
        if hard and not task.done() and not task.policy.should_retry(task.attempts, exc):
            # (A run to retry ends when its tier stopped it: done() retries it.)
            # Ends now, whatever its code does; its slot is freed when the run ends.
            self._close_limit_timers(state)
            handle = record.handle
            self._engine.end(run, record, False, state.pending)
            record.handle = handle  # the tier still stops the run through it

    def stop_running(self, run: HubRun, record: TaskRun, hard: bool) -> None:
        """Stop a running task in its tier (it was asked to stop: its RunState says why)."""
        task = record.task
        state = record.core.state
        if state is None or state.pending is None or not task.running():
            return
        if task.tt == TT_COROUTINE:
            future = record.handle
            if isinstance(future, Cancelable):
                future.cancel()
            return
        tier = run.tiers.get(task.tt)
        if tier is not None:
            tier.interrupt(record, state.pending, hard)

    @staticmethod
    def _close_limit_timers(state: RunState) -> None:
        timers, state.timers = state.timers, []
        for timer in timers:
            timer.close()

    def done(self, run: HubRun, record: TaskRun, ok: bool, value: object) -> bool:
        """The run of a task with a RunState ended; True if handled here."""
        task = record.task
        state = record.core.state
        assert state is not None
        self._close_limit_timers(state)
        with state_lock:
            pending, state.pending = state.pending, None
        if task.done():  # ended already at its hard limit: only the slot is left
            self._engine.release(run, record)
            return True
        if isinstance(pending, TaskCancelled):
            record.handle = None
            self._engine.release(run, record)
            self._engine.cancel_ran(record)
            return True
        if pending is not None:
            ok, value = interrupted_outcome(pending, ok, value)
        policy = task.policy
        if (not ok and policy is not None and isinstance(value, BaseException)
                and policy.should_retry(task.attempts, value)):
            self._engine.release(run, record)
            self._retry_later(run, record, policy.backoff(task.attempts), value)
            return True
        if ok:
            task.exception = None  # an earlier run's failure, kept while it was retried
        self._engine.end(run, record, ok, value)
        self._engine.release(run, record)
        return True

    def _retry_later(self, run: HubRun, record: TaskRun, seconds: float,
                     exc: BaseException) -> None:
        task = record.task
        task.exception = exc  # the last failure stays readable while it waits
        logger.info('task %r failed (%s: %s); run %d in %.3f s', task, type(exc).__name__,
                    exc, task.attempts + 1, seconds)
        if _events.subscribed():
            _events.publish(_events.TaskRetrying(task, self._engine.supervisor.id,
                                                 task.attempts + 1, seconds))
        if record.requeue():
            self.wait_outside_pool(run, record, seconds)

    def rate_limited(self, run: HubRun, record: TaskRun) -> bool:
        """Take a token of the task's rate limit; False if it may go on now."""
        task = record.task
        assert task.policy is not None and task.policy.bucket is not None
        seconds = task.policy.bucket.reserve()
        if not seconds:
            return False
        if _events.subscribed():
            _events.publish(_events.TaskRateLimited(task, self._engine.supervisor.id, seconds))
        if record.requeue():
            self.wait_outside_pool(run, record, seconds, rated=True)
        return True

    def wait_outside_pool(self, run: HubRun, record: TaskRun, seconds: float,
                          rated: bool = False) -> None:
        """Queue the task again after *seconds* (DELAYED meanwhile, holding no slot)."""
        timer = run.hub.loop.timer(seconds)
        record.handle = timer
        timer.start(self._engine.post, run, self._engine.on_delay_over, run, record, rated)

    def arm_timeouts(self, run: HubRun, task: Task[Any]) -> None:
        """Start the supervisor's timeout_warning/timeout_critical timers of a queued task."""
        sup = self._engine.supervisor
        levels = ((sup.timeout_warning, logging.WARNING, 'timeout_warning_func'),
                  (sup.timeout_critical, logging.ERROR, 'timeout_critical_func'))
        for seconds, level, func_name in levels:
            if seconds:
                timer = run.hub.loop.timer(seconds, ref=False)
                timer.start(self._timed_out, timer, weakref.ref(task), level, func_name)

    def _timed_out(self, timer: Closable, task_ref: weakref.ref[Task[Any]], level: int,
                   func_name: str) -> None:
        timer.close()
        task = task_ref()
        if task is None or task.status != TASK_STATUS_QUEUED:
            return
        self._engine.counters[task.tt][task.priority].timed_out += 1
        logger.log(level, 'task %r has waited %.3f s and has not started', task,
                   time.time() - task.time_queued)
        if _events.subscribed():
            _events.publish(_events.TaskWaitTimeout(
                task, self._engine.supervisor.id,
                'warning' if level == logging.WARNING else 'critical'))
        func = getattr(self._engine.supervisor, func_name)
        if func is not None:
            gevent.spawn(call_logged, 'timeout function %r', func, task)
