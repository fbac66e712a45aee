"""Supervisors for actors and workers: restart strategies, restart types, intensity.

An :class:`ActorSupervisor` is itself an actor. It starts its children from
:class:`ChildSpec` s in order and stops them in reverse order. A child that
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

from greenlet import getcurrent

from ._actor import Actor, cell_of
from ._bridge import Latch
from ._child_spec import (
    ONE_FOR_ONE,
    PERMANENT,
    REST_FOR_ONE,
    RESTARTING,
    RUNNING,
    STARTING,
    STOPPED,
    STOPPING,
    STRATEGIES,
    TEMPORARY,
    TRANSIENT,
    ActorSupervisorStatistics,
    ChildRecord,
    ChildSpec,
    ChildStatistics,
    Incident,
    SupervisionFailed,
)
from ._errors import ActorNotRunning
from ._events import ActorRestarted, ActorTerminated, publish, subscribed
from ._intensity import Backoff, RestartIntensity
from ._logging import logger
from ._watch import add_exit_hook
from ._workers import BackgroundWorker


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
        if strategy not in STRATEGIES:
            raise ValueError(f'strategy must be one of {STRATEGIES}, got {strategy!r}')
        if backoff is not None and (not isinstance(backoff, tuple) or len(backoff) != 2):
            raise TypeError(f'backoff must be (initial, maximum) or None, got {backoff!r}')
        self.strategy = strategy
        self._intensity = RestartIntensity(max_restarts, within)
        self._backoff = Backoff(*backoff) if backoff is not None else None
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
        return ActorSupervisorStatistics(
            name=self.name, strategy=self.strategy, state=self._phase,
            children=tuple(ChildStatistics(c.actor.name, c.spec.restart, c.state, c.restarts)
                           for c in list(self._children)),
            restarts_in_window=self._intensity.in_window(time.monotonic()),
            max_restarts=self._intensity.max_restarts, within=self._intensity.within)

    # -- the supervisor's own life cycle (its greenlet) ------------------------------

    def on_start(self) -> None:
        """Start every child in order; fail if one does not start."""
        self._phase = STARTING
        try:
            for child in self._children:
                self._adopt(child)
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
        if self._holds(getcurrent()):
            wait = False
        return super().stop(wait, drain)

    def _holds(self, glet: object) -> bool:
        """True if *glet* is the greenlet of a child or of a child's descendant."""
        for child in list(self._children):
            actor = child.actor
            if cell_of(actor).greenlet is glet or (
                    isinstance(actor, ActorSupervisor) and actor._holds(glet)):
                return True
        return False

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

    def _adopt(self, child: ChildRecord) -> None:
        actor = child.actor
        core = cell_of(actor)
        if core.supervisor is None:
            core.supervisor = self._actor.supervisor
        if actor.supervisor is not self.supervisor:
            raise ValueError(f'{actor!r} runs under another TaskSupervisor than {self!r}')
        if child.spec.name is not None:
            core.name = child.spec.name

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
        actor = child.actor
        core = cell_of(actor)
        core.guardian = self
        child.started = Latch()
        child.state = STARTING
        child.up = False
        try:
            if isinstance(actor, BackgroundWorker):
                actor.start(*actor._args, **actor._kwargs)
            else:
                actor.start()
        except Exception as exc:
            logger.error('supervisor %s: starting %s failed', self.name, actor.name, exc_info=exc)
            core.failure = exc
            child.state = STOPPED
            return False
        add_exit_hook(core, ('guardian', id(self)), self._child_exited)
        child.started.wait()
        return child.up

    def _stop_children(self) -> None:
        self._phase = STOPPING
        for child in reversed(self._children):
            if child.state != STOPPED:
                child.state = STOPPING
                child.actor.stop()
            child.state = STOPPED
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
        core = cell_of(actor)
        while child.go is None and not core.stopping:
            core.park()
        go, child.go, child.requested = child.go is True and not core.stopping, None, False
        if not go:
            child.state = STOPPING
            if requested:
                core.failure = None  # stopped by its supervisor, not failed
        return go

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
        if not self._intensity.record(now):
            self._give_up(incident)
            return
        span = self._span(child)
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
                self._park_sibling(sibling, incident.reason)
        if self._backoff is not None:
            self._pause(self._backoff.delay(self._intensity.in_window(now)))
        for member in group:
            if not self._accepting():
                return  # on_stop stops the parked ones
            self._restart_child(member, incident.reason)

    def _span(self, child: ChildRecord) -> list[ChildRecord]:
        """The children the strategy stops when *child* fails, in start order."""
        if self.strategy == ONE_FOR_ONE:
            return [child]
        if self.strategy == REST_FOR_ONE:
            return self._children[self._children.index(child):]
        return list(self._children)

    def _park_sibling(self, sibling: ChildRecord, cause: BaseException | None) -> None:
        sibling.state = RESTARTING
        sibling.requested = True
        sibling.go = None
        sibling.parked = Latch()
        core = cell_of(sibling.actor)
        core.failure = cause if cause is not None else SupervisionFailed('sibling ended')
        core.wake()
        sibling.parked.wait()

    def _pause(self, delay: float) -> None:
        """Wait *delay* seconds in this greenlet, woken early by stop()."""
        if delay <= 0:
            return
        fired = []

        def fire() -> None:
            fired.append(True)
            self._actor.wake()

        timer = self._actor.port.call_later(delay, fire)
        try:
            while not fired and not self._actor.stopping:
                self._actor.park()
        finally:
            timer.close()

    def _restart_child(self, child: ChildRecord, cause: BaseException | None) -> None:
        if child.state not in (RESTARTING, STOPPED):
            return
        actor = child.actor
        child.generation += 1
        child.cause = cause
        child.restarting = True
        child.restarts += 1
        try:
            _rebuild(child)
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
        limit = self._intensity
        failure = SupervisionFailed(
            f'{self.name}: more than {limit.max_restarts} restart(s) within {limit.within} s')
        failure.__cause__ = incident.reason
        logger.error('supervisor %s: %s failed (%r) once too often; giving up', self.name,
                     incident.child.actor.name, incident.reason)
        self._stop_children()
        self._actor.failure = failure  # fails this supervisor after this message


def _rebuild(child: ChildRecord) -> None:
    """Give the child the state of a fresh ``factory(*args, **kwargs)``, in place.

    A worker keeps its state (its configuration and start arguments); a
    supervisor keeps its children, so that they too stay the same objects.
    """
    actor = child.actor
    if isinstance(actor, BackgroundWorker):
        return
    fresh = child.spec.build()
    if type(fresh) is not type(actor):
        raise TypeError(f'{child.spec!r} now makes {type(fresh).__name__}, '
                        f'not {type(actor).__name__}')
    state = vars(actor)
    keep = {'_actor': state['_actor']}  # the cell: state, mailbox and counters go on
    if isinstance(actor, ActorSupervisor):
        keep['_children'] = state['_children']  # they too stay the same objects
    state.clear()
    state.update(vars(fresh))
    state.update(keep)
