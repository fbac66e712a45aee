"""The task path: a task from ``put_task`` to its end, in the supervisor's hub.

Where things happen:

* ``TaskSupervisor.put_task`` checks its arguments in the caller's thread and
  hands the new task to [Engine.submit][gatasker._engine.Engine.submit],
  which records it in the task table and posts it to the run's inbox.
* The supervisor's mailbox greenlet runs the ``_on_put`` ... ``on_done``
  handlers posted here; it alone changes the accounting (the task table, the
  tiers' admissions and counters), so nothing here needs a lock.
* ``_dispatch`` makes every priority decision, through the tier's
  ``Admission``; the tier's ``execute`` runs the task and its end comes back
  through ``task_done`` as an ``on_done`` message.
* Limits, retries, rate limits and queue timeouts live in
  ``_policy_runtime.py``.
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
from ._task import Task, run_target
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
                 run_coroutine: Callable[[Task[Any]], None],
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
        #: Every queued, delayed or running task by id.
        self.tasks: dict[Any, Task[Any]] = {}
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

        The supervisor calls it as its state changes, under its own state
        lock, so a task is either queued before a stop begins or refused.
        """
        with self._lock:
            self._accepting = run

    def owns(self, task: Task[Any]) -> bool:
        """True if *task* is queued, delayed or running here. Any thread."""
        return self.tasks.get(task.id) is task

    def live_task(self, task_id: object) -> Task[Any] | None:
        """The queued, delayed or running task with that id, else None. Any thread."""
        task = self.tasks.get(task_id)
        # A canceled task stays in the table until the hub did its bookkeeping.
        return task if task is not None and not task.done() else None

    def live_tasks(self) -> dict[Any, Task[Any]]:
        """Every queued, delayed or running task: a new dict. Any thread."""
        return {task_id: task for task_id, task in list(self.tasks.items()) if not task.done()}

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

    def submit(self, run: HubRun, task: Task[Any], here: bool = False) -> Task[Any]:
        """Queue *task* in *run*; with *here*, a greenlet-tier task put from a
        greenlet of the hub that may start at once runs in the caller and is
        done when this returns. Any thread.

        Raises:
            SupervisorNotRunning: the supervisor stopped meanwhile (nothing is queued).
        """
        task._run = run
        self._prepare(task)
        tracer = _tracing.tracer
        if tracer is not None:
            task._trace = tracer.task_queued(task, self.supervisor)
        here = here and self._may_run_here(run, task)
        task_id = task.id
        with self._lock:
            if self._accepting is not run:
                raise SupervisorNotRunning(f'supervisor {self.supervisor.id!r} is not running')
            self.tasks[task_id] = task
            if not here:
                run.inbox.put((self._on_put, (run, task)))
        if _logging.debugging:
            logger.debug('task %r queued', task)
        if _events.subscribed():
            _events.publish(_events.TaskQueued(task, self.supervisor.id))
        if here:
            self._run_here(run, task)
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

    def _run_here(self, run: HubRun, task: Task[Any]) -> None:
        # A worker's executor run in the worker's own greenlet, counted in the
        # tier's admission exactly as if the tier had run it: no inbox round
        # trip, no hand-over to a tier greenlet and back.
        admission = run.admissions[task.tt]
        admission.start_now()
        if self._mark_running(admission, task):
            task._handle = getcurrent()  # what Task.cancel() interrupts
            if task.policy is not None:
                self.policies.arm_limits(run, task)
            ok, value = run_target(task, _tracing.tracer)
            task._handle = None
            self.on_done(run, task, ok, value)

    # -- in the hub ------------------------------------------------------------

    def _on_put(self, run: HubRun, task: Task[Any]) -> None:
        if task.status == TASK_STATUS_CANCELED:
            return
        if task.delay:
            timer = run.hub.loop.timer(task.delay)
            task._handle = timer
            timer.start(self.post, run, self.on_delay_over, run, task)
        else:
            self._enqueue(run, task)

    def on_delay_over(self, run: HubRun, task: Task[Any], rated: bool = False) -> None:
        """A delayed task's wait (a delay, a retry's backoff, a rate limit) is over."""
        timer, task._handle = task._handle, None
        close_handle(timer)
        if task._mark_queued():
            if rated:  # its token is reserved already
                self._admit(run, task)
            else:
                self._enqueue(run, task)

    def _enqueue(self, run: HubRun, task: Task[Any]) -> None:
        if task.policy is not None and task.policy.bucket is not None \
                and task.priority != TASK_CRITICAL and self.policies.rate_limited(run, task):
            return
        self._admit(run, task)

    def _admit(self, run: HubRun, task: Task[Any]) -> None:
        if task.tt == TT_COROUTINE:
            self._run_coroutine(task)
            return
        admission = run.admissions[task.tt]
        admission.push(task, task.priority)
        self._dispatch(run, task.tt)
        sup = self.supervisor
        if task.status == TASK_STATUS_QUEUED and (sup.timeout_warning or sup.timeout_critical):
            self.policies.arm_timeouts(run, task)

    def _dispatch(self, run: HubRun, tt: int) -> None:
        """Start every waiting task of tier *tt* that may start, most important first."""
        admission = run.admissions[tt]
        tier = run.tiers[tt]
        while True:
            task = admission.pop_startable()
            if task is None:
                return
            if self._mark_running(admission, task):
                tier.execute(task)
                if task.policy is not None:
                    self.policies.arm_limits(run, task)

    def _mark_running(self, admission: Admission[Task[Any]], task: Task[Any]) -> bool:
        """A task its admission just counted starts; False if it was canceled meanwhile."""
        if not task._mark_started():
            admission.finish()
            return False
        self.counters[task.tt][task.priority].running += 1
        if _logging.debugging:
            logger.debug('task %r started', task)
        if _events.subscribed():
            _events.publish(_events.TaskStarted(task, self.supervisor.id))
        return True

    def task_done(self, run: HubRun, task: Task[Any], ok: bool, value: object) -> None:
        """Called by a tier, in the hub's thread, when a task's target ended."""
        assert run.inbox is not None
        run.inbox.put((self.on_done, (run, task, ok, value)))
        if run.inbox.closed:
            self.complete_late(run)

    def complete_late(self, run: HubRun) -> None:
        """Complete tasks whose end came after the mailbox ended. Any thread.

        Only a task whose code called stop() (a coroutine task, which holds no
        tier slot) can outlive the mailbox; it must still end COMPLETED.
        """
        assert run.inbox is not None
        for handler, args in run.inbox.leftovers():
            if handler == self.on_done:
                _, task, ok, value = args
                self.forget(task)
                task._complete(ok, value)
            elif handler == self._on_canceled:
                self.forget(args[1])

    def on_done(self, run: HubRun, task: Task[Any], ok: bool, value: object) -> None:
        """A task's run ended with ``(ok, value)``."""
        if task._state is not None and self.policies.done(run, task, ok, value):
            return
        self.end(run, task, ok, value)
        self.release(run, task)

    def end(self, run: HubRun, task: Task[Any], ok: bool, value: object) -> None:
        """Complete *task* with its outcome: counters, logs, waiters, events, callback."""
        self.forget(task)
        counters = self.counters[task.tt][task.priority]
        counters.completed += 1
        if not ok:
            counters.failed += 1
            if task.worker is None:  # a worker logs its executor's failures itself
                logger.error('task %r failed', task,
                             exc_info=value if isinstance(value, BaseException) else None)
        elif _logging.debugging:
            logger.debug('task %r completed', task)
        task._complete(ok, value)
        _observe(counters, task)
        if _events.subscribed():
            _events.publish(_events.TaskCompleted(task, self.supervisor.id))
        if ok and task.callback is not None:
            gevent.spawn(call_logged, 'task callback %r', task.callback, value)

    def release(self, run: HubRun, task: Task[Any]) -> None:
        """Free the pool slot of a task whose run ended; start what may start."""
        if task.tt != TT_COROUTINE:
            self.counters[task.tt][task.priority].running -= 1
            run.admissions[task.tt].finish()
            tier = run.tiers.get(task.tt)
            if tier is not None:
                tier.task_finished(task)
                self._dispatch(run, task.tt)
        if run.quiet is not None:
            self._check_quiet(run)
        if run.closing:
            self._maybe_finish(run)

    def forget(self, task: Task[Any]) -> None:
        """Drop a finished *task* from the task table. Any thread."""
        if self.tasks.get(task.id) is task:
            del self.tasks[task.id]
        self.recent_ids.append(task.id)

    # -- TaskOwner: what a task asks (any thread) --------------------------------

    def canceled(self, task: Task[Any]) -> None:
        """*task* was canceled before it started (and is done): post its
        bookkeeping to the hub. Any thread; never blocks."""
        if _logging.debugging:
            logger.debug('task %r canceled', task)
        run = task._run
        if not isinstance(run, HubRun) or run.finished:
            self.forget(task)  # no hub runs the bookkeeping any more
            return
        run.inbox.put((self._on_canceled, (run, task)))
        if run.inbox.closed:
            self.complete_late(run)

    def interrupt(self, task: Task[Any]) -> None:
        """*task* was asked to stop while it runs: stop it in its tier. Any thread."""
        self.policies.interrupt(task)

    def call_in_hub(self, task: Task[Any], func: Callable[[Task[Any]], object]) -> None:
        """Run ``func(task)`` in a new greenlet of the hub that ran *task*; once
        that hub is gone, in the caller. Any thread; never blocks."""
        run = task._run
        if not isinstance(run, HubRun) or run.finished:
            func(task)
        else:
            run.port.call(gevent.spawn, func, task)

    def fail(self, task: Task[Any], exc: BaseException) -> None:
        """End *task*, which no tier can run, with *exc* (in its run's hub)."""
        run = task._run
        assert isinstance(run, HubRun)
        self.task_done(run, task, False, exc)

    def cancel_ran(self, task: Task[Any]) -> None:
        """The run of a task canceled while it ran ended (its slot is freed): it ends CANCELED."""
        task._cancel_ran()
        task._finish_canceled()
        self.canceled(task)

    def _on_canceled(self, run: HubRun, task: Task[Any]) -> None:
        self.forget(task)
        self.counters[task.tt][task.priority].cancelled += 1
        if _events.subscribed():
            _events.publish(_events.TaskCompleted(task, self.supervisor.id))
        timer, task._handle = task._handle, None
        close_handle(timer)
        admission = run.admissions.get(task.tt)
        if admission is not None:
            admission.remove(task, task.priority)
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
