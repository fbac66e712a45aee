"""Supervisors for actors and workers: restart strategies, restart types, intensity.

An `ActorSupervisor` is itself an actor. It starts its children from
`ChildSpec` objects in order and stops them in reverse order. A child that
fails parks its greenlet (its mailbox kept) and tells the supervisor, whose
greenlet then applies the strategy: stop the siblings concerned (they park
too), wait the backoff, rebuild each child's state and release it, in start
order. The object handed out is never replaced, so every reference to a
child stays valid across restarts. Everything here runs in the hub of the
supervisor's ``TaskSupervisor`` (children must share it), so the
bookkeeping needs no locks; only ``statistics()`` reads it from elsewhere.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from greenlet import getcurrent

from ._actor import Actor, cell_of
from ._bridge import Latch
from ._child_spec import (
    ONE_FOR_ONE,
    PERMANENT,
    RESTARTING,
    RUNNING,
    STARTING,
    STOPPED,
    STOPPING,
    TEMPORARY,
    TRANSIENT,
    ActorSupervisorStatistics,
    ChildRecord,
    ChildSpec,
    Incident,
    SupervisionFailed,
)
from ._errors import ActorNotRunning
from ._events import publish, subscribed
from ._logging import logger
from ._restarts import (
    RestartPlan,
    adopt,
    await_verdict,
    park_sibling,
    pause,
    rebuild,
    start_child,
    stop_children,
)
from ._workers import BackgroundWorker


@dataclass(frozen=True)
class ActorRestarted:
    """An `ActorSupervisor` restarts ``actor`` (the same object) after
    ``reason`` (None: it ended normally). Published in the supervisor's greenlet."""

    actor: Actor
    supervisor: ActorSupervisor
    reason: BaseException | None


@dataclass(frozen=True)
class ActorTerminated:
    """A supervised ``actor`` ended for good (``reason``: None or its failure);
    its supervisor may still start it anew. Published in the actor's greenlet."""

    actor: Actor
    supervisor: ActorSupervisor
    reason: BaseException | None


class ActorSupervisor(Actor):
    """An actor that starts, watches and restarts its children.

    Create it with ``ActorSupervisor.spawn(children, ...)``. The children
    are started in order when the supervisor starts and stopped in reverse
    order when it stops. More than *max_restarts* restarts within *within*
    seconds, and the supervisor stops its children and fails with
    `SupervisionFailed`, which its own supervisor handles. A child runs
    under the same `TaskSupervisor` as its supervisor. Methods may be
    called from any thread and never block.

    Args:
        children: The `ChildSpec`s, in start order.
        strategy: When a child fails, restart it (``'one_for_one'``), every
            child (``'one_for_all'``) or it and the children started after
            it (``'rest_for_one'``).
        max_restarts: The restarts allowed within *within* seconds; None
            for no limit.
        within: The window of *max_restarts*, in seconds.
        backoff: ``(initial, maximum)``: wait ``initial * 2**(n-1)`` seconds
            (capped, with jitter) before the n-th restart in the window;
            None restarts at once.
    """

    #: False: a child that fails to start is restarted like one that failed later.
    start_failure_is_fatal = True

    def __init__(self, children: Iterable[ChildSpec], strategy: str = ONE_FOR_ONE,
                 max_restarts: int | None = 3, within: float = 5.0,
                 backoff: tuple[float, float] | None = None) -> None:
        specs = list(children)
        for spec in specs:
            if not isinstance(spec, ChildSpec):
                raise TypeError(f'children must be ChildSpec objects, got {spec!r}')
        self._plan = RestartPlan(strategy, max_restarts, within, backoff)
        self.strategy = strategy
        # Built here so that a bad factory fails the call; a restart keeps these.
        self._children = [ChildRecord(spec, spec.build()) for spec in specs]
        self._phase = STOPPED
        self._ready = Latch()  # set when on_start is over

    def start(self) -> bool:
        """Start the supervisor and its children, in order.

        Blocks: cooperatively in a greenlet, until every child started (or one
        failed to start).

        Returns:
            bool: True if it started, False if it was already running.
        """
        self._ready = Latch()
        if not super().start():
            return False
        self._ready.wait()
        return True

    # -- public -------------------------------------------------------------------

    def children(self) -> list[Actor]:
        """The children, in start order. Any thread; never blocks.

        Returns:
            list[Actor]: Each child stays the same object across restarts.
        """
        return [child.actor for child in self._children]

    def statistics(self) -> ActorSupervisorStatistics:
        """A snapshot of the supervisor and its children. Any thread; never blocks.

        Returns:
            ActorSupervisorStatistics: A frozen snapshot.
        """
        return self._plan.statistics(self.name, self._phase, self._children)

    # -- the supervisor's own life cycle (its greenlet) ------------------------------

    def on_start(self) -> None:
        """Start every child in order; fail if one does not start."""
        self._phase = STARTING
        try:
            for child in self._children:
                adopt(child, self)
            for child in self._children:
                if self._start_child(child):
                    continue
                failure = cell_of(child.actor).failure
                if not self.start_failure_is_fatal:
                    Actor.tell(self, Incident(child, failure, child.generation))  # retried later
                else:
                    self._stop_children()
                    raise SupervisionFailed(f'{self.name}: child {child.actor.name} did not '
                                            'start') from failure
            self._phase = RUNNING
        finally:
            self._ready.set()

    def on_stop(self) -> None:
        """Stop every child in reverse order."""
        self._stop_children()

    def stop(self, wait: bool | float = True, drain: bool = False) -> bool:
        """Stop the children in reverse order, then the supervisor.

        Called from the handler of one of its children (or their children), it
        does not wait, whatever *wait* says: the stop waits for that very child,
        which can only stop once its handler has returned.

        Args:
            wait: As `Actor.stop()` takes it.
            drain: As `Actor.stop()` takes it.

        Returns:
            bool: True if it was running, False if not.
        """
        if _holds(self, getcurrent()):
            wait = False
        return super().stop(wait, drain)

    def on_receive(self, message: Incident | None) -> ActorSupervisorStatistics | None:
        """Answer ``ask(None)``; other messages are refused.

        Args:
            message: None (failures of children arrive here too).

        Returns:
            ActorSupervisorStatistics | None: For ``ask(None)``, `statistics()`
                once every failure reported before it was handled (restarts
                included).
        """
        if isinstance(message, Incident):
            self._handle_incident(message)
            return None
        if message is not None:
            raise TypeError(f'{self.name} takes only None, got {message!r}')
        return self.statistics()

    def _accepting(self) -> bool:
        return (self._phase == RUNNING and not self._actor.stopping
                and bool(self.supervisor.is_started()))

    def _may_restart(self, child: ChildRecord) -> bool:
        # While the supervisor starts, a child that already started and then
        # failed is handled once the start is over (its incident waits).
        if self._phase == STARTING and child.up:
            return not self._actor.stopping and bool(self.supervisor.is_started())
        return self._accepting()

    def _start_child(self, child: ChildRecord) -> bool:
        """Start an ended child and wait until its ``on_start`` returned (or failed)."""
        return start_child(child, self, ('guardian', id(self)), self._child_exited, self.name)

    def _stop_children(self) -> None:
        self._phase = STOPPING
        stop_children(self._children)
        self._phase = STOPPED

    # -- what a child calls (its greenlet): the Guardian protocol ----------------------

    def _record(self, actor: Actor) -> ChildRecord | None:
        for child in self._children:
            if child.actor is actor:
                return child
        return None

    def starting(self, actor: Actor) -> None:
        """Before the child's ``on_start``: ``on_restart`` when it is a restart."""
        child = self._record(actor)
        if child is None:
            return
        child.state = STARTING
        if child.restarting:
            child.restarting = False
            actor.on_restart(child.cause)

    def started(self, actor: Actor) -> None:
        """The child's ``on_start`` returned."""
        child = self._record(actor)
        if child is not None:
            child.state = RUNNING
            child.up = True
            child.started.set()
            self._child_up(actor)

    def restart(self, actor: Actor, failure: BaseException) -> bool:
        """The child failed: park it until the supervisor decides. True to restart."""
        child = self._record(actor)
        if child is None:
            return False
        child.started.set()
        requested = child.state == RESTARTING and child.requested
        if not requested:
            if not self._may_restart(child) or child.spec.restart == TEMPORARY:
                return False
            child.state = RESTARTING
            child.go = None
            try:
                Actor.tell(self, Incident(child, failure, child.generation))
            except ActorNotRunning:
                return False
        child.parked.set()
        self._child_down(actor)
        return await_verdict(child, requested)

    def _child_exited(self, actor: Actor, reason: BaseException | None) -> None:
        # Exit hook, in the child's greenlet: it ended for good.
        child = self._record(actor)
        if child is None:
            return
        was, child.state = child.state, STOPPED
        child.started.set()
        child.parked.set()
        self._child_down(actor)
        if subscribed():
            publish(ActorTerminated(actor, self, reason))
        if was == STOPPING or not self._may_restart(child):
            return
        wanted = child.spec.restart == PERMANENT or (
            child.spec.restart == TRANSIENT and reason is not None)
        if wanted:
            try:
                Actor.tell(self, Incident(child, reason, child.generation))
            except ActorNotRunning:
                pass

    def _child_up(self, actor: Actor) -> None:
        """Hook (the child's greenlet): it started and takes messages."""

    def _child_down(self, actor: Actor) -> None:
        """Hook (the child's greenlet): it parked for a restart or ended."""

    def _is_up(self, actor: Actor) -> bool:
        child = self._record(actor)
        return child is not None and child.state == RUNNING and actor.is_alive()

    # -- applying the strategy (the supervisor's greenlet) ----------------------------

    def _handle_incident(self, incident: Incident) -> None:
        child = incident.child
        if child.generation != incident.generation or not self._accepting():
            return  # restarted meanwhile, or everything stops anyway
        now = time.monotonic()
        if not self._plan.intensity.record(now):
            self._give_up(incident)
            return
        span = self._plan.span(self._children, child)
        group = [c for c in span if c is child or c.spec.restart != TEMPORARY]
        logger.warning('supervisor %s: %s %s (%r); restarting %s', self.name, child.actor.name,
                       'failed' if incident.reason is not None else 'ended', incident.reason,
                       ', '.join(c.actor.name for c in group))
        for sibling in reversed(span):
            if sibling is child or sibling.state not in (STARTING, RUNNING):
                continue
            if sibling.spec.restart == TEMPORARY:
                sibling.state = STOPPING  # stopped with the others, never restarted
                sibling.actor.stop()
            else:
                park_sibling(sibling, incident.reason)
        pause(self._actor, self._plan.delay(now))
        for member in group:
            if not self._accepting():
                return  # on_stop stops the parked ones
            self._restart_child(member, incident.reason)

    def _restart_child(self, child: ChildRecord, cause: BaseException | None) -> None:
        if child.state not in (RESTARTING, STOPPED):
            return
        actor = child.actor
        child.generation += 1
        child.cause = cause
        child.restarting = True
        child.restarts += 1
        try:
            if not isinstance(actor, BackgroundWorker):  # a worker keeps its state
                rebuild(child, ('_children',) if isinstance(actor, ActorSupervisor) else ())
        except BaseException as exc:  # the user's factory: whatever it raises ends the child
            logger.error('supervisor %s: rebuilding %s failed', self.name, actor.name,
                         exc_info=exc)
            child.go = False
            cell_of(actor).wake()
            return
        if subscribed():
            publish(ActorRestarted(actor, self, cause))
        if child.state == RESTARTING:
            child.started = Latch()
            child.up = False
            child.go = True
            cell_of(actor).wake()
            child.started.wait()
        else:
            self._start_child(child)

    def _give_up(self, incident: Incident) -> None:
        failure = self._plan.exceeded(self.name, incident.reason)
        logger.error('supervisor %s: %s failed (%r) once too often; giving up', self.name,
                     incident.child.actor.name, incident.reason)
        self._stop_children()
        self._actor.failure = failure  # fails this supervisor after this message


def _holds(supervisor: ActorSupervisor, glet: object) -> bool:
    """True if *glet* is the greenlet of a child of *supervisor* or of a child's descendant."""
    for actor in supervisor.children():
        if cell_of(actor).greenlet is glet or (
                isinstance(actor, ActorSupervisor) and _holds(actor, glet)):
            return True
    return False
