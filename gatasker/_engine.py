"""The task path: a task from ``put_task`` to its end, in the supervisor's hub.

* ``TaskSupervisor.put_task`` checks its arguments in the caller's thread and
  hands the new task's record (a `TaskRun`: the engine's side of a task) to
  [Engine.submit][gatasker._engine.Engine.submit], which records it in the
  task table and posts it to the run's inbox.
* The supervisor's mailbox greenlet runs the ``_on_put`` ... ``on_done``
  handlers posted here; it alone changes the accounting (the task table, the
  tiers' admissions and counters), so nothing here needs a lock.
* ``_dispatch`` makes every priority decision, through the tier's
  ``Admission``; the tier's ``execute`` runs the task and its end comes back
  through ``task_done`` as an ``on_done`` message. Admissions and tiers hold
  records; the user's `Task` only shows in events, logs and callbacks.
* Limits, retries, rate limits and queue timeouts: ``_policy_runtime.py``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import gevent
from greenlet import getcurrent

from . import _events, _logging, _tracing
from ._admission import Admission
from ._bridge import allocate_lock
from ._constants import (
    TASK_CRITICAL,
    TASK_STATUS_CANCELED,
    TASK_STATUS_QUEUED,
    TT_COROUTINE,
    TT_GREENLET,
)
from ._errors import SupervisorNotRunning
from ._logging import call_logged, logger
from ._policies import close_handle
from ._policy_runtime import PolicyRuntime, SupervisorView
from ._run import HubRun
from ._statistics import PriorityCounters, tier_counters
from ._task import Task
from ._task_run import TaskRun, run_target
from ._tier_limiter import TierLimiter

#: How many ids of finished tasks ``mark_task_completed`` still recognises.
RECENT_IDS = 10_000


def _observe(counters: PriorityCounters, task: Task[Any]) -> None:
    """Count a finished task's queue wait (after any delay) and run time."""
    started = task.time_started
    if started is None or task.time_completed is None:
        return
    counters.queue_wait.observe(max(0.0, started - task.time_queued - (task.delay or 0.0)))
    counters.run_time.observe(max(0.0, task.time_completed - started))


class Engine:
    """The supervisor's task path: its task table and the in-hub handlers of a task's life.

    One per supervisor, created with it. ``submit`` and the `TaskOwner`
    hooks (``canceled``, ``interrupt``, ``call_in_hub``) may be called from
    any thread; every other method runs in the supervisor's mailbox greenlet
    unless its docstring says otherwise.

    Args:
        supervisor: the settings it reads (the TaskSupervisor).
        prepare: checks or prepares a task in the caller of ``put_task``,
            before it is queued (raises to refuse it).
        run_coroutine: hands a TT_COROUTINE task to its aloop.
        check_quiet: after a task left, tells a waiting stop whether any is left.
        maybe_finish: after a slot was freed while closing, closes idle tiers.
        limiters: the tiers' limiters (limits, counters) by tier.
    """

    def __init__(self, supervisor: SupervisorView, *,
                 prepare: Callable[[Task[Any]], None],
                 run_coroutine: Callable[[TaskRun], None],
                 check_quiet: Callable[[HubRun], None],
                 maybe_finish: Callable[[HubRun], None],
                 limiters: Mapping[int, TierLimiter]) -> None:
        self.supervisor = supervisor
        self._prepare = prepare
        self._run_coroutine = run_coroutine
        self._check_quiet = check_quiet
        self._maybe_finish = maybe_finish
        self._limiters = limiters
        self._lock = allocate_lock()
        self._accepting: HubRun | None = None  # the run that takes new tasks
        #: The record of every queued, delayed or running task, by id.
        self.tasks: dict[Any, TaskRun] = {}
        #: Ids of the latest finished tasks.
        self.recent_ids: deque[Any] = deque(maxlen=RECENT_IDS)
        #: Per tier and priority: the limiters' counters (behind ``statistics()``),
        #: and coroutine tasks' own, which no statistics report (they hold no slot).
        self.counters: dict[int, dict[int, PriorityCounters]] = {
            tt: limiter.counters for tt, limiter in limiters.items()}
        self.counters[TT_COROUTINE] = tier_counters()
        self.policies = PolicyRuntime(self)

    def accept(self, run: HubRun | None) -> None:
        """Take new tasks into *run* from now on (None: refuse them). Any thread.

        Called under the supervisor's state lock as its state changes, so a
        task is either queued before a stop begins or refused."""
        with self._lock:
            self._accepting = run

    def record(self, task: Task[Any]) -> TaskRun | None:
        """The record of *task* while it is in the task table, else None. Any thread."""
        record = self.tasks.get(task.id)
        return record if record is not None and record.task is task else None

    def owns(self, task: Task[Any]) -> bool:
        """True if *task* is queued, delayed or running here. Any thread."""
        return self.record(task) is not None

    def live_task(self, task_id: object) -> Task[Any] | None:
        """The queued, delayed or running task with that id, else None. Any thread."""
        record = self.tasks.get(task_id)
        # A canceled task stays in the table until the hub did its bookkeeping.
        return record.task if record is not None and not record.task.done() else None

    def live_tasks(self) -> dict[Any, Task[Any]]:
        """Every queued, delayed or running task: a new dict. Any thread."""
        return {task.id: task for task in self.all_tasks() if not task.done()}

    def all_tasks(self) -> list[Task[Any]]:
        """Every task in the table (canceled ones not yet forgotten too). Any thread."""
        return [record.task for record in list(self.tasks.values())]

    def reset(self) -> None:
        """Forget every task and count (in a child just forked)."""
        self._lock = allocate_lock()  # another thread may have held it at the fork
        self._accepting = None
        self.tasks.clear()
        self.recent_ids.clear()
        for limiter in self._limiters.values():
            limiter.reset()
        self.counters[TT_COROUTINE] = tier_counters()

    @staticmethod
    def post(run: HubRun, handler: Callable[..., object], *args: object) -> None:
        """Post ``handler(*args)`` to the run's mailbox. Any thread; never blocks."""
        assert run.inbox is not None
        run.inbox.put((handler, args))

    # -- put (the caller's thread) ---------------------------------------------

    def submit(self, run: HubRun, record: TaskRun, here: bool = False) -> Task[Any]:
        """Queue *record*'s task in *run* and return it; with *here*, a greenlet-tier
        task put from a greenlet of the hub that may start at once runs in the
        caller and is done when this returns. Any thread.

        Raises:
            SupervisorNotRunning: the supervisor stopped meanwhile (nothing is queued).
        """
        task = record.task
        record.core.run = run
        self._prepare(task)
        tracer = _tracing.tracer
        if tracer is not None:
            record.trace = tracer.task_queued(record, self.supervisor)
        here = here and self._may_run_here(run, task)
        task_id = task.id
        with self._lock:
            if self._accepting is not run:
                raise SupervisorNotRunning(f'supervisor {self.supervisor.id!r} is not running')
            self.tasks[task_id] = record
            if not here:
                run.inbox.put((self._on_put, (run, record)))
        if _logging.debugging:
            logger.debug('task %r queued', task)
        if _events.subscribed():
            _events.publish(_events.TaskQueued(task, self.supervisor.id))
        if here:
            self._run_here(run, record)
        return task

    def _may_run_here(self, run: HubRun, task: Task[Any]) -> bool:
        """True if *task* (a greenlet-tier task put from a greenlet of the hub) would
        start at once: then the caller's greenlet may run it (``_run_here``)."""
        admission = run.admissions.get(task.tt)
        return (task.tt == TT_GREENLET and not task.delay and not run.closing
                and (task.policy is None or task.policy.bucket is None)  # admission decides
                and admission is not None and task.tt in run.tiers
                and run.inbox.in_owner_thread()
                and admission.may_start_now(task.priority))

    def _run_here(self, run: HubRun, record: TaskRun) -> None:
        # A worker's executor run in the worker's own greenlet, counted in the
        # tier's admission exactly as if the tier had run it: no inbox round
        # trip, no hand-over to a tier greenlet and back.
        admission = run.admissions[record.task.tt]
        admission.start_now()
        if self._mark_running(admission, record):
            record.handle = getcurrent()  # what Task.cancel() interrupts
            if record.task.policy is not None:
                self.policies.arm_limits(run, record)
            ok, value = run_target(record, _tracing.tracer)
            record.handle = None
            self.on_done(run, record, ok, value)

    # -- in the hub ------------------------------------------------------------

    def _on_put(self, run: HubRun, record: TaskRun) -> None:
        task = record.task
        if task.status == TASK_STATUS_CANCELED:
            return
        if task.delay:
            timer = run.hub.loop.timer(task.delay)
            record.handle = timer
            timer.start(self.post, run, self.on_delay_over, run, record)
        else:
            self._enqueue(run, record)

    def on_delay_over(self, run: HubRun, record: TaskRun, rated: bool = False) -> None:
        """A delayed task's wait (a delay, a retry's backoff, a rate limit) is over."""
        timer, record.handle = record.handle, None
        close_handle(timer)
        if record.mark_queued():
            if rated:  # its token is reserved already
                self._admit(run, record)
            else:
                self._enqueue(run, record)

    def _enqueue(self, run: HubRun, record: TaskRun) -> None:
        task = record.task
        if task.policy is not None and task.policy.bucket is not None \
                and task.priority != TASK_CRITICAL and self.policies.rate_limited(run, record):
            return
        self._admit(run, record)

    def _admit(self, run: HubRun, record: TaskRun) -> None:
        task = record.task
        if task.tt == TT_COROUTINE:
            self._run_coroutine(record)
            return
        admission = run.admissions[task.tt]
        admission.push(record, task.priority)
        self._dispatch(run, task.tt)
        sup = self.supervisor
        if task.status == TASK_STATUS_QUEUED and (sup.timeout_warning or sup.timeout_critical):
            self.policies.arm_timeouts(run, task)

    def _dispatch(self, run: HubRun, tt: int) -> None:
        """Start every waiting task of tier *tt* that may start, most important first."""
        admission = run.admissions[tt]
        tier = run.tiers[tt]
        while True:
            record = admission.pop_startable()
            if record is None:
                return
            if self._mark_running(admission, record):
                tier.execute(record)
                if record.task.policy is not None:
                    self.policies.arm_limits(run, record)

    def _mark_running(self, admission: Admission[TaskRun], record: TaskRun) -> bool:
        """A task its admission just counted starts; False if it was canceled meanwhile."""
        if not record.mark_started():
            admission.finish()
            return False
        task = record.task
        self.counters[task.tt][task.priority].running += 1
        if _logging.debugging:
            logger.debug('task %r started', task)
        if _events.subscribed():
            _events.publish(_events.TaskStarted(task, self.supervisor.id))
        return True

    def task_done(self, run: HubRun, record: TaskRun, ok: bool, value: object) -> None:
        """Called by a tier, in the hub's thread, when a task's target ended."""
        assert run.inbox is not None
        run.inbox.put((self.on_done, (run, record, ok, value)))
        if run.inbox.closed:
            self.complete_late(run)

    def complete_late(self, run: HubRun) -> None:
        """Complete tasks whose end came after the mailbox ended (only a coroutine
        task whose code called stop() can: it holds no tier slot). Any thread."""
        assert run.inbox is not None
        for handler, args in run.inbox.leftovers():
            if handler == self.on_done:
                _, record, ok, value = args
                self.forget(record.task)
                record.complete(ok, value)
            elif handler == self._on_canceled:
                self.forget(args[1])

    def on_done(self, run: HubRun, record: TaskRun, ok: bool, value: object) -> None:
        """A task's run ended with ``(ok, value)``."""
        if record.core.state is not None and self.policies.done(run, record, ok, value):
            return
        self.end(run, record, ok, value)
        self.release(run, record)

    def end(self, run: HubRun, record: TaskRun, ok: bool, value: object) -> None:
        """Complete the task with its outcome: counters, logs, waiters, events, callback."""
        task = record.task
        if self.tasks.get(task.id) is record:  # forget(task), inline: once per task
            del self.tasks[task.id]
        self.recent_ids.append(task.id)
        counters = self.counters[task.tt][task.priority]
        counters.completed += 1
        if not ok:
            counters.failed += 1
            if task.worker is None:  # a worker logs its executor's failures itself
                logger.error('task %r failed', task,
                             exc_info=value if isinstance(value, BaseException) else None)
        elif _logging.debugging:
            logger.debug('task %r completed', task)
        record.complete(ok, value)
        _observe(counters, task)
        if _events.subscribed():
            _events.publish(_events.TaskCompleted(task, self.supervisor.id))
        if ok and task.callback is not None:
            gevent.spawn(call_logged, 'task callback %r', task.callback, value)

    def release(self, run: HubRun, record: TaskRun) -> None:
        """Free the pool slot of a task whose run ended; start what may start."""
        tt = record.task.tt
        if tt != TT_COROUTINE:
            self.counters[tt][record.task.priority].running -= 1
            run.admissions[tt].finish()
            tier = run.tiers.get(tt)
            if tier is not None:
                tier.task_finished(record)
                self._dispatch(run, tt)
        if run.quiet is not None:
            self._check_quiet(run)
        if run.closing:
            self._maybe_finish(run)

    def forget(self, task: Task[Any]) -> None:
        """Drop a finished *task* from the task table. Any thread."""
        if self.record(task) is not None:
            del self.tasks[task.id]
        self.recent_ids.append(task.id)

    # -- TaskOwner: what a task asks (any thread; never blocks) -------------------

    def canceled(self, run: object, task: Task[Any]) -> None:
        """*task* was canceled before it started (and is done): post its bookkeeping."""
        if _logging.debugging:
            logger.debug('task %r canceled', task)
        if not isinstance(run, HubRun) or run.finished:
            self.forget(task)  # no hub runs the bookkeeping any more
            return
        run.inbox.put((self._on_canceled, (run, task)))
        if run.inbox.closed:
            self.complete_late(run)

    def interrupt(self, run: object, task: Task[Any]) -> None:
        """*task* was asked to stop while it runs: stop it in its tier. Any thread."""
        if isinstance(run, HubRun) and not run.finished:
            run.inbox.put((self._on_interrupt, (run, task)))

    def call_in_hub(self, run: object, task: Task[Any],
                    func: Callable[[Task[Any]], object]) -> None:
        """Run ``func(task)`` in a new greenlet of *run*'s hub (once it is gone, here)."""
        if not isinstance(run, HubRun) or run.finished:
            func(task)
        else:
            run.port.call(gevent.spawn, func, task)

    def cancel_ran(self, record: TaskRun) -> None:
        """The run of a task canceled while it ran ended (its slot is freed): it ends CANCELED."""
        record.cancel_ran()
        record.finish_canceled()
        self.canceled(record.core.run, record.task)

    def _on_interrupt(self, run: HubRun, task: Task[Any]) -> None:
        if (record := self.record(task)) is not None:
            self.policies.stop_running(run, record, True)

    def _on_canceled(self, run: HubRun, task: Task[Any]) -> None:
        record = self.record(task)
        self.forget(task)
        self.counters[task.tt][task.priority].cancelled += 1
        if _events.subscribed():
            _events.publish(_events.TaskCompleted(task, self.supervisor.id))
        if record is not None:
            timer, record.handle = record.handle, None
            close_handle(timer)
            admission = run.admissions.get(task.tt)
            if admission is not None:
                admission.remove(record, task.priority)
        if run.quiet is not None:
            self._check_quiet(run)

    def on_resize(self, run: HubRun, tt: int) -> None:
        """Tier *tt*'s sizes changed: apply them and start what may start now."""
        if tt not in run.tiers:
            return
        limits = self._limiters[tt].limits
        run.admissions[tt].limits = limits
        run.tiers[tt].resize(limits)
        self._dispatch(run, tt)
