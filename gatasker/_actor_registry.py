"""The running actors (and so the workers) of a supervisor.

An actor registers when it starts and unregisters when it ends; the
supervisor's stop stops every registered one first. After a fork the child
keeps the parent's actors to start again with the supervisor (their mailboxes
stay the parent's). Any thread; never blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, cast

from greenlet import getcurrent

from ._logging import logger
from ._policies import TaskPolicy
from ._port import HubPort
from ._statistics import ActorStatistics
from ._task import Task


class _Mailbox(Protocol):
    def __len__(self) -> int: ...


class RegisteredActor(Protocol):
    """What the supervisor needs of an actor or a worker."""

    @property
    def name(self) -> str: ...

    def stop(self, wait: bool | float = True, drain: bool = False) -> bool: ...


class Cell(Protocol):
    """A running actor's cell (`gatasker._actor_cell.ActorCell`), as the
    supervisor reads it."""

    @property
    def actor(self) -> RegisteredActor: ...
    @property
    def greenlet(self) -> object: ...
    @property
    def mailbox(self) -> _Mailbox | None: ...
    @property
    def remote(self) -> _Mailbox: ...
    @property
    def handled(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def restarts(self) -> int: ...

    def forget_parent(self) -> bool: ...
    def start_again(self) -> object: ...


#: ``put_worker_task(worker, target, args, kwargs, priority, tt, policy)``.
PutWorkerTask = Callable[[object, Callable[..., object], tuple[object, ...], dict[str, object],
                          int, int, TaskPolicy | None], Task[object]]
#: ``run_coroutine_executor(func, args, kwargs, loop, policy)``.
RunCoroutine = Callable[[Callable[..., object], tuple[object, ...], dict[str, object], object,
                         TaskPolicy | None], Task[object]]


def is_worker(actor: object) -> bool:
    """True for a worker (an actor with ``is_active``)."""
    return hasattr(actor, 'is_active')


class ActorRegistry:
    """The actors and workers that run under one supervisor; what they see of it.

    It is the supervisor's ``ActorHost`` (see `gatasker._port`).

    Args:
        running_port: the running run's port, starting the supervisor if it
            starts on use; raises SupervisorNotRunning otherwise.
        restarting: True while the supervisor starts afresh on first use
            (it ran in the parent of this forked process).
        is_started: True while the supervisor runs.
        default_tt: the tier of a worker's runs when the worker names none.
        put_worker_task: queues one run of a worker's executor as a task.
        run_coroutine_executor: queues one run of a worker's coroutine
            executor on an aloop.
    """

    def __init__(self, running_port: Callable[[], HubPort], restarting: Callable[[], bool],
                 is_started: Callable[[], bool], default_tt: Callable[[], int],
                 put_worker_task: PutWorkerTask, run_coroutine_executor: RunCoroutine) -> None:
        self._cells: dict[int, Cell] = {}  # by the id of the cell
        self.forked: list[Cell] = []  # to start again in a forked child
        self.running_port = running_port
        self._restarting = restarting
        self.is_started = is_started
        self._default_tt = default_tt
        self.put_worker_task = put_worker_task
        self.run_coroutine_executor = run_coroutine_executor

    @property
    def default_tt(self) -> int:
        """The tier of a worker's runs when the worker names none."""
        return self._default_tt()

    def register_actor(self, cell: object) -> None:
        """Count the actor of *cell* among the running ones: the supervisor's
        stop stops it.

        Only an actor's cell calls it, with itself. No ``isinstance`` check
        against `Cell`: a runtime Protocol check costs about 25 us on Python
        3.11 and would double what a `spawn()` costs.
        """
        self._cells[id(cell)] = cast(Cell, cell)

    def unregister_actor(self, cell: object) -> None:
        """Forget the actor of *cell* (it ended)."""
        self._cells.pop(id(cell), None)

    def actors(self) -> list[RegisteredActor]:
        """The running actors and workers."""
        return [cell.actor for cell in list(self._cells.values())]

    def restarts_after_fork(self, cell: object) -> bool:
        """True if the actor of *cell* ran in the parent of this forked process
        and the supervisor starts afresh, with it, on first use."""
        return self._restarting() and cell in self.forked

    def after_fork_in_child(self) -> None:
        """In a forked child: keep the parent's actors to start again with the supervisor."""
        cells = list(self._cells.values())
        self._cells = {}
        self.forked = [cell for cell in cells if cell.forget_parent()]

    def start_forked(self) -> None:
        """After a start: start again the actors that ran in the parent of a fork."""
        cells, self.forked = self.forked, []
        for cell in cells:
            try:
                cell.start_again()
            except Exception:
                logger.exception('restarting %r after a fork failed', cell.actor)

    def note_callers(self, callers: set[int]) -> None:
        """stop() from an actor's own greenlet (a handler, on_start, a worker's
        on_error): add that actor's id to *callers*."""
        me = getcurrent()
        for cell in list(self._cells.values()):
            if cell.greenlet is me:
                callers.add(id(cell.actor))

    def statistics(self) -> tuple[ActorStatistics, ...]:
        """A snapshot of every running actor and worker."""
        snapshots = []
        for cell in list(self._cells.values()):
            actor, mailbox = cell.actor, cell.mailbox
            snapshots.append(ActorStatistics(
                name=actor.name, kind='worker' if is_worker(actor) else 'actor',
                mailbox=(len(mailbox) if mailbox is not None else 0) + len(cell.remote),
                handled=cell.handled, failed=cell.failed, restarts=cell.restarts))
        return tuple(snapshots)
