"""A supervisor's parts and the private glue between them.

`TaskSupervisor` (``_supervisor.py``) is the public facade: each of its
methods calls one part. `SupervisorCore` builds the parts and wires them
together: the hooks the lifecycle calls as a run starts and stops, the ones
the engine calls at a task's end while a run stops, the task constructions
of ``put_task`` and of worker runs, and what a forked child drops of its
parent's run.
"""

from __future__ import annotations

import functools
import inspect
import os
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

import gevent

from ._actor_registry import ActorRegistry
from ._aloops import ALoops
from ._constants import TASK_NORMAL, TT_COROUTINE, TT_GREENLET, TT_MP, TT_THREAD
from ._coroutines import start_on_aloop
from ._engine import Engine
from ._fork import RunningSupervisors, Stoppable
from ._ids import new_task_id
from ._info import Introspection
from ._inspect import to_jsonable
from ._lifecycle import RUNNING, Lifecycle, default_mode
from ._logging import call_logged
from ._policies import TaskPolicy
from ._policy_runtime import SupervisorView
from ._port import HubPort
from ._process_config import Backend
from ._process_tier import ProcessTier
from ._put import check_put, policy_of
from ._run import HubRun
from ._schedulers import Scheduler, Schedulers
from ._statistics import SupervisorStatistics
from ._stop import StopSequence
from ._task import Task
from ._task_run import TaskRun, current_task
from ._tier_config import TierConfig
from ._version import __version__

T = TypeVar('T')


class Facade(SupervisorView, Stoppable, Protocol):
    """What the core uses of its `TaskSupervisor`: its id and settings, its
    stop (at exit) and its statistics (for ``serve_inspect``)."""

    def statistics(self) -> SupervisorStatistics:
        """See `TaskSupervisor.statistics`."""


F = TypeVar('F', bound=Facade)


class SupervisorCore(Generic[F]):
    """The parts of *supervisor* and the calls between them.

    Args:
        supervisor: the `TaskSupervisor` it serves.
        pool_kwargs: the thread tier's sizes given to the constructor.
        running: the process's running supervisors.
        autostart: start on first use (the default supervisor).

    Raises:
        TypeError: An unknown key or a size that is not an int in *pool_kwargs*.
        ValueError: A bad size in *pool_kwargs*.

    Made in any thread; see each method for where it runs.
    """

    def __init__(self, supervisor: F, pool_kwargs: Mapping[str, int | str],
                 running: RunningSupervisors[F], autostart: bool) -> None:
        self.supervisor = supervisor
        self.running = running
        self.tiers = TierConfig(pool_kwargs, self.wake_tier)
        self.processes = self.tiers.processes
        self.schedulers = Schedulers()
        self.engine = Engine(supervisor, prepare=self.processes.check_task,
                             run_coroutine=self.run_coroutine_task,
                             check_quiet=self.check_quiet, maybe_finish=self.maybe_finish,
                             limiters=self.tiers.by_tt)
        self.actors = ActorRegistry(self.running_port, self.restarting, self.is_started,
                                    self.default_tt, self.put_worker_task,
                                    self.run_coroutine_executor)
        self.aloops = ALoops(supervisor)
        self.stopping = StopSequence(supervisor, self.engine, self.actors, self.aloops,
                                     self.schedulers)
        self.life = Lifecycle(supervisor, self.open_tiers, self.engine.accept,
                              self.engine.complete_late, self.stopping, self.on_started,
                              self.on_stopped, running.hub_thread)
        self.life.autostart = autostart
        self.introspection = Introspection(
            supervisor, self.life, self.engine, self.tiers, self.actors, self.aloops,
            self.schedulers)

    # -- state -----------------------------------------------------------------

    def is_started(self) -> bool:
        """True while the supervisor accepts tasks. Any thread."""
        return self.life.state == RUNNING

    def default_tt(self) -> int:
        """See `TaskSupervisor.default_tt`. Any thread."""
        return TT_GREENLET if (self.life.mode or default_mode()) == 'embedded' else TT_THREAD

    def running_port(self) -> HubPort:
        """The running run's port (starting it first if it autostarts). Any thread."""
        return self.life.running_run().port

    def restarting(self) -> bool:
        """Whether the supervisor ran in the parent of this forked process."""
        return self.life.restart_on_use

    def post(self, run: HubRun, handler: Callable[..., object], *args: object) -> None:
        """Run ``handler(*args)`` in *run*'s mailbox greenlet. Any thread; never blocks."""
        run.inbox.put((handler, args))

    def wake_tier(self, tt: int) -> None:
        """Tier *tt*'s limiter has new limits: resize the running tier. Any thread."""
        self.life.post_if_running(self.engine.on_resize, tt)

    # -- the lifecycle's hooks ---------------------------------------------------

    def open_tiers(self, run: HubRun) -> None:
        """Start a new run's tiers. In the run's hub."""
        self.tiers.open_tiers(run, self.done_of)

    def done_of(self, run: HubRun) -> Callable[[TaskRun, bool, Any], None]:
        """How *run*'s tiers report a task's end."""
        return functools.partial(self.engine.task_done, run)

    def on_started(self) -> None:
        """After each start, in the caller's thread."""
        self.running.add(self.supervisor, self.after_fork_in_child)
        self.tiers.started()
        self.actors.start_forked()

    def on_stopped(self) -> None:
        """At the end of each stop, in the caller's thread."""
        self.running.discard(self.supervisor)

    # The engine calls these two at a task's end while the run stops.
    def check_quiet(self, run: HubRun) -> None:
        """Tell the stop sequence a task ended. In the mailbox greenlet."""
        self.stopping.check_quiet(run)

    def maybe_finish(self, run: HubRun) -> None:
        """Let the stop sequence finish if nothing is left. In the mailbox greenlet."""
        self.stopping.maybe_finish(run)

    def on_mp_backend(self, run: HubRun, backend: Backend) -> None:
        """Give *run*'s process tier its new backend. In the mailbox greenlet."""
        tier = run.tiers.get(TT_MP)
        if isinstance(tier, ProcessTier):
            tier.set_backend(backend)

    # -- tasks -------------------------------------------------------------------

    def put_task(self, target: Callable[..., Any], args: Iterable[Any] = (),
                 kwargs: dict[str, Any] | None = None,
                 callback: Callable[[Any], Any] | None = None, priority: int = TASK_NORMAL,
                 delay: float | None = None, tt: int = TT_THREAD, task_id: object = None,
                 worker: object = None, name: str | None = None, loop: object = None,
                 pass_task_id: bool = True, timeout: float | None = None,
                 soft_timeout: float | None = None, retries: int = 0,
                 retry_backoff: tuple[float, float] | None = None,
                 retry_on: tuple[type[BaseException], ...] | None = None,
                 eta: datetime | None = None, policy: TaskPolicy | None = None) -> Task[Any]:
        """See `TaskSupervisor.put_task`: check everything in the caller, then queue."""
        args, delay = check_put(target, args, kwargs, callback, worker, priority, tt, delay, eta)
        policy = policy_of(policy, timeout, soft_timeout, retries, retry_backoff, retry_on)
        run = self.life.running_run()
        if tt == TT_COROUTINE:
            self.aloops.pick(loop)  # RuntimeError at the call when no aloop can run it
        if task_id is None:
            task_id = new_task_id()
        elif self.engine.live_task(task_id) is not None:
            raise ValueError(f'a task with id {task_id!r} is already queued or running')
        task_kwargs = dict(kwargs) if kwargs else {}
        if pass_task_id:
            task_kwargs['_task_id'] = task_id
        record = TaskRun(self.engine, task_id, tt, target, args, task_kwargs, callback,
                         priority, delay, worker, name, loop, policy)
        return self.engine.submit(run, record)

    def put_worker_task(self, worker: object, target: Callable[..., Any], args: tuple[Any, ...],
                        kwargs: dict[str, Any], priority: int, tt: int,
                        policy: TaskPolicy | None = None) -> Task[Any]:
        """``put_task`` for a run of *worker*, whose arguments were checked when it
        started; a greenlet-tier run that may start at once runs in the calling
        (worker's) greenlet and is done when this returns."""
        run = self.life.running_run()
        task_id = kwargs['_task_id'] = new_task_id()
        record = TaskRun(self.engine, task_id, tt, target, args, kwargs, None, priority,
                         None, worker, None, None, policy)
        return self.engine.submit(run, record, here=tt == TT_GREENLET)

    def run_coroutine_executor(self, coro_fn: Callable[..., Any], args: tuple[Any, ...],
                               kwargs: dict[str, Any], loop: object,
                               policy: TaskPolicy | None = None) -> Task[Any]:
        """A run of an async worker's executor: a coroutine task on its aloop (the
        internal one when neither it nor the supervisor has one)."""
        aloop = self.aloops.pick(loop, internal=True)
        return self.put_task(coro_fn, args, kwargs, tt=TT_COROUTINE, loop=aloop,
                             worker=kwargs.get('_worker'), policy=policy)

    def run_coroutine_task(self, record: TaskRun) -> None:
        """Hand a TT_COROUTINE task to its aloop (in the supervisor's greenlet)."""
        run = record.core.run
        assert isinstance(run, HubRun)
        task = record.task
        start_on_aloop(
            record, functools.partial(self.aloops.pick, task.loop, task.worker is not None),
            functools.partial(self.engine.task_done, run),
            functools.partial(self.engine.policies.arm_limits, run, record))

    def mark_completed(self, task: Task[Any] | None, task_id: object) -> bool:
        """See `TaskSupervisor.mark_task_completed`."""
        if task is None and task_id is None:
            task = current_task()
            if task is None:
                raise LookupError('mark_task_completed() outside a task needs task or task_id')
        if task is not None:
            return True
        if task_id in self.engine.tasks or task_id in self.engine.recent_ids:
            return True
        raise LookupError(f'no task with id {task_id!r}')

    # -- schedulers ----------------------------------------------------------------

    def register_scheduler(self, scheduler: Scheduler) -> None:
        """See `TaskSupervisor.register_scheduler`."""
        checked = self.schedulers.check(scheduler)
        run = self.life.running_run()
        self.schedulers.add(checked)
        self.post(run, self.start_scheduler, checked)

    def start_scheduler(self, scheduler: Scheduler) -> None:
        """Run ``scheduler.loop()``: a greenlet, or a coroutine on the default aloop.
        In the mailbox greenlet."""
        if inspect.iscoroutinefunction(scheduler.loop):
            self.aloops.start_scheduler(scheduler.loop, scheduler)
        else:
            gevent.spawn(call_logged, 'scheduler %r', scheduler.loop)

    # -- fork and inspection -----------------------------------------------------------

    def after_fork_in_child(self) -> None:
        """In a child just forked, where only the forking thread runs: drop the parent's run.

        Nothing of the parent's run can work here: in threaded mode its hub
        thread is gone, in either mode its pool threads, and its queued tasks
        and messages are the parent's to run. The supervisor is stopped; if it
        was running, its first use here (or `start`) starts it afresh,
        in the child's mode, with the actors and workers that ran in the parent.
        """
        self.life.after_fork_in_child()
        records = list(self.engine.tasks.values())
        self.engine.reset()
        for record in records:  # whoever waits for them here must not wait for ever
            call_logged('dropping %r after a fork', record.drop_after_fork)
        # The parent's actors and workers start again with the supervisor here;
        # what their mailboxes held stays the parent's.
        self.actors.after_fork_in_child()
        self.processes.after_fork_in_child()

    def inspect_snapshot(self) -> dict[str, Any]:
        """What ``serve_inspect`` answers: this supervisor first, then the others
        running in the process. In the endpoint's thread; never blocks."""
        sup = self.supervisor
        supervisors = [sup] + [other for other in self.running.supervisors() if other is not sup]
        return {'version': __version__, 'pid': os.getpid(), 'time': time.time(),
                'supervisors': [to_jsonable(other.statistics()) for other in supervisors]}
