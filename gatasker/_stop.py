"""A supervisor's stop sequence, and its steps in the supervisor's mailbox.

``TaskSupervisor.stop()`` notes whose code called it (`StopSequence.note_callers`),
then runs `StopSequence.run` in a greenlet of the supervisor's hub: stop the
schedulers, actors and workers; cancel delayed tasks; wait until no task is
left (or the deadline passed, then cancel what waits); stop the aloops; close
the process tier; warn about what was abandoned; close the tiers. The steps
that read or change the task table run in the mailbox greenlet, which alone
changes the accounting.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, Protocol

import gevent

from ._actor_registry import ActorRegistry
from ._aloops import ALoops, Named
from ._bridge import Latch
from ._constants import (
    TASK_STATUS_DELAYED,
    TASK_STATUS_QUEUED,
    TASK_STATUS_STARTED,
    TIER_NAMES,
    TT_COROUTINE,
    TT_MP,
)
from ._logging import call_logged, logger
from ._process_pool import EXIT_TIMEOUT
from ._process_tier import ProcessTier
from ._run import HubRun
from ._schedulers import Schedulers
from ._task import Task
from ._task_run import current_task

#: How many task names the warning of a stop that abandoned work lists.
STOP_LOG_NAMES = 5


class TaskTable(Protocol):
    """The engine, as far as the stop reads its task table."""

    def all_tasks(self) -> list[Task[Any]]:
        """Every task in the table (canceled ones the hub has not forgotten included)."""

    def owns(self, task: Task[Any]) -> bool:
        """True if *task* is queued, delayed or running here."""


def remaining(deadline: float | None) -> float | None:
    """Seconds left until *deadline* (a ``time.monotonic()`` value); None for none."""
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def call_in_mailbox(run: HubRun, handler: Callable[..., object], *args: object) -> None:
    """Run *handler* in the mailbox greenlet and wait for it (from another greenlet)."""
    latch = Latch()

    def call() -> None:
        try:
            handler(*args)
        finally:
            latch.set()

    run.inbox.put((call, ()))
    latch.wait()


class StopSequence:
    """The steps of *supervisor*'s stop, over its task table, actors, aloops and schedulers."""

    def __init__(self, supervisor: Named, engine: TaskTable, actors: ActorRegistry,
                 aloops: ALoops, schedulers: Schedulers) -> None:
        self._supervisor = supervisor
        self._engine = engine
        self._actors = actors
        self._aloops = aloops
        self._schedulers = schedulers

    def note_callers(self, run: HubRun) -> None:
        """In stop()'s caller: record whose code called it, which the stop must
        not wait for: the calling task, its worker, an actor's own greenlet, an
        aloop's thread (and the coroutine tasks and workers on that aloop)."""
        me = current_task()
        if me is not None and self._engine.owns(me):
            run.ignored.add(me.id)
            if me.worker is not None:
                run.callers.add(id(me.worker))
        self._actors.note_callers(run.callers)
        self._aloops.note_callers(run.callers, run.ignored_loops,
                                  self._engine.all_tasks())

    def run(self, run: HubRun, deadline: float | None, stop_schedulers: bool, cancel: bool,
            finished: Callable[[], None]) -> None:
        """The stop sequence, in a greenlet of the hub; *finished()* at its end,
        whatever happened. Blocks that greenlet up to *deadline*."""
        try:
            if stop_schedulers:
                self._stop_schedulers(run, deadline)
            call_in_mailbox(run, self._cancel_delayed)
            if cancel:
                call_in_mailbox(run, self._cancel_waiting, run)
            else:
                run.quiet = Latch()
                call_in_mailbox(run, self.check_quiet, run)
                if not run.quiet.wait(remaining(deadline)):
                    call_in_mailbox(run, self._cancel_waiting, run)
            self._aloops.stop_all(run.callers, deadline)
            self._close_processes(run, deadline)
            call_in_mailbox(run, self._warn_abandoned, run)
            call_in_mailbox(run, self._close_tiers, run)  # may end the mailbox
        except Exception:
            logger.exception('supervisor %s: stop failed', self._supervisor.id)
        finally:
            finished()

    def _stop_schedulers(self, run: HubRun, deadline: float | None) -> None:
        stops: list[Callable[[], object]] = [obj.stop for obj in self._schedulers.all()]
        for actor in self._actors.actors():  # stop() stops every running actor and worker
            # an actor whose code is in stop() ends once it returns
            stops.append(functools.partial(actor.stop, wait=False)
                         if id(actor) in run.callers else actor.stop)
        greenlets = [gevent.spawn(call_logged, 'stopping %r', stop) for stop in stops]
        gevent.joinall(greenlets, timeout=remaining(deadline))

    def _close_processes(self, run: HubRun, deadline: float | None) -> None:
        """Close the process tier once its tasks ended (or kill them once
        *deadline* passed), so that stop() returns after the worker processes
        are gone."""
        admission = run.admissions.get(TT_MP)
        if admission is None:
            return
        kill = False
        if admission.running:
            if deadline is None or time.monotonic() < deadline:
                return  # tasks still run: the tier closes when they end
            kill = True  # the wait ran out: unlike threads, processes can be stopped
        closed = Latch()
        call_in_mailbox(run, self._close_mp, run, kill, closed)
        closed.wait(EXIT_TIMEOUT + 1.0)

    @staticmethod
    def _close_mp(run: HubRun, kill: bool, closed: Latch) -> None:
        tier = run.tiers.get(TT_MP)
        if not isinstance(tier, ProcessTier):
            closed.set()
            return

        def on_closed() -> None:
            closed.set()

        tier.close(kill, on_closed)

    # -- in the mailbox greenlet ------------------------------------------------

    def _cancel_delayed(self) -> None:
        for task in self._engine.all_tasks():
            if task.status == TASK_STATUS_DELAYED:
                task.cancel()

    def _cancel_waiting(self, run: HubRun) -> None:
        waiting = [record.task for admission in run.admissions.values()
                   for record in admission.drain()]
        # delayed ones, and those not yet taken from the inbox
        waiting += self._engine.all_tasks()
        for task in waiting:
            if task.status in (TASK_STATUS_QUEUED, TASK_STATUS_DELAYED) and task.cancel():
                run.abandoned[id(task)] = task
        if run.cancel_running:  # where the tier can stop them (not thread tasks)
            for task in self._engine.all_tasks():
                if task.status == TASK_STATUS_STARTED and not self._ignored(run, task):
                    task.cancel()

    def _warn_abandoned(self, run: HubRun) -> None:
        """Log what the stop canceled before it started and what it left running."""
        running = [task for task in self._engine.all_tasks()
                   if task.is_started() and task.id not in run.ignored]
        parts = [f'left running {_describe(running)}'] if running else []
        if run.abandoned:
            canceled = sorted(run.abandoned.values(), key=lambda task: task.time_queued)
            parts.append(f'canceled before they started {_describe(canceled)}')
        if parts:
            logger.warning('supervisor %s: stop %s', self._supervisor.id, '; '.join(parts))

    def check_quiet(self, run: HubRun) -> None:
        """Set ``run.quiet`` once no task the stop waits for is left."""
        if run.quiet is not None and all(self._ignored(run, task)
                                         for task in self._engine.all_tasks()):
            run.quiet.set()

    def _ignored(self, run: HubRun, task: Task[Any]) -> bool:
        """True for a task stop() does not wait for: its code (or its aloop's) is in stop()."""
        if task.id in run.ignored:
            return True
        return (task.tt == TT_COROUTINE and bool(run.ignored_loops)
                and self._aloops.loop_of(task) in run.ignored_loops)

    def _close_tiers(self, run: HubRun) -> None:
        run.closing = True
        self.maybe_finish(run)

    @staticmethod
    def maybe_finish(run: HubRun) -> None:
        """While closing: stop every tier that runs nothing; the run is finished
        once none is left."""
        if run.finished:
            return
        for tt, tier in list(run.tiers.items()):
            if run.admissions[tt].running == 0:
                tier.stop(True)
                del run.tiers[tt]
        if not run.tiers:
            run.finished = True


def _describe(tasks: list[Task[Any]]) -> str:
    """``'3 tasks (thread: 2, greenlet: 1): name, name, name'`` for a log line."""
    per_tier: dict[str, int] = {}
    for task in tasks:
        per_tier[TIER_NAMES[task.tt]] = per_tier.get(TIER_NAMES[task.tt], 0) + 1
    tiers = ', '.join(f'{name}: {count}' for name, count in per_tier.items())
    names = ', '.join(task.name or str(getattr(task.target, '__qualname__', task.target))
                      for task in tasks[:STOP_LOG_NAMES])
    more = f', ... {len(tasks) - STOP_LOG_NAMES} more' if len(tasks) > STOP_LOG_NAMES else ''
    noun = 'task' if len(tasks) == 1 else 'tasks'
    return f'{len(tasks)} {noun} ({tiers}): {names}{more}'
