"""How an ActorSupervisor restarts: its strategy and limits, and the steps
of a restart that act on one child (park it, rebuild its state in place) or
on the supervisor's own greenlet (wait the backoff).

Everything here runs in the hub of the supervisor's ``TaskSupervisor``.
"""

from __future__ import annotations

import time

from ._actor import Actor, cell_of
from ._actor_cell import ActorCell, ExitHook, Guardian
from ._bridge import Latch
from ._child_spec import (
    ONE_FOR_ONE,
    REST_FOR_ONE,
    RESTARTING,
    STARTING,
    STOPPED,
    STOPPING,
    STRATEGIES,
    ActorSupervisorStatistics,
    ChildRecord,
    ChildStatistics,
    SupervisionFailed,
)
from ._intensity import Backoff, RestartIntensity
from ._logging import logger
from ._watch import add_exit_hook
from ._workers import BackgroundWorker


class RestartPlan:
    """A supervisor's strategy, restart intensity and backoff.

    Args:
        strategy: ``'one_for_one'``, ``'one_for_all'`` or ``'rest_for_one'``.
        max_restarts: Restarts allowed within *within* seconds (None: no limit).
        within: The intensity window, in seconds.
        backoff: ``(initial, maximum)`` seconds, or None to restart at once.

    Raises:
        ValueError, TypeError: a bad argument, before anything is built.
    """

    __slots__ = ('backoff', 'intensity', 'strategy')

    def __init__(self, strategy: str, max_restarts: int | None, within: float,
                 backoff: tuple[float, float] | None) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f'strategy must be one of {STRATEGIES}, got {strategy!r}')
        if backoff is not None and (not isinstance(backoff, tuple) or len(backoff) != 2):
            raise TypeError(f'backoff must be (initial, maximum) or None, got {backoff!r}')
        self.strategy = strategy
        self.intensity = RestartIntensity(max_restarts, within)
        self.backoff = Backoff(*backoff) if backoff is not None else None

    def span(self, children: list[ChildRecord], child: ChildRecord) -> list[ChildRecord]:
        """The children the strategy stops when *child* fails, in start order."""
        if self.strategy == ONE_FOR_ONE:
            return [child]
        if self.strategy == REST_FOR_ONE:
            return children[children.index(child):]
        return list(children)

    def delay(self, now: float) -> float:
        """Seconds to wait before the restarts counted in the window ending at *now*."""
        if self.backoff is None:
            return 0.0
        return self.backoff.delay(self.intensity.in_window(now))

    def in_window(self) -> int:
        """Restarts counted in the current window."""
        return self.intensity.in_window(time.monotonic())

    def statistics(self, name: str, state: str,
                   children: list[ChildRecord]) -> ActorSupervisorStatistics:
        """A snapshot of the supervisor named *name* in *state*, and of its *children*."""
        return ActorSupervisorStatistics(
            name=name, strategy=self.strategy, state=state,
            children=tuple(ChildStatistics(c.actor.name, c.spec.restart, c.state, c.restarts)
                           for c in list(children)),
            restarts_in_window=self.in_window(), max_restarts=self.intensity.max_restarts,
            within=self.intensity.within)

    def exceeded(self, name: str, reason: BaseException | None) -> SupervisionFailed:
        """The failure of a supervisor named *name* that restarted once too often."""
        limit = self.intensity
        failure = SupervisionFailed(
            f'{name}: more than {limit.max_restarts} restart(s) within {limit.within} s')
        failure.__cause__ = reason
        return failure


def adopt(child: ChildRecord, owner: Actor) -> None:
    """Make *child* run under *owner*'s TaskSupervisor, with its spec's name.

    Raises:
        ValueError: the child was given another TaskSupervisor.
    """
    actor = child.actor
    core = cell_of(actor)
    if core.supervisor is None:
        core.supervisor = cell_of(owner).supervisor
    if actor.supervisor is not owner.supervisor:
        raise ValueError(f'{actor!r} runs under another TaskSupervisor than {owner!r}')
    if child.spec.name is not None:
        core.name = child.spec.name


def await_verdict(child: ChildRecord, requested: bool) -> bool:
    """In a parked child's greenlet: wait for its supervisor's verdict; True to
    start again in place. *requested*: it parked because a sibling failed."""
    core = cell_of(child.actor)
    while child.go is None and not core.stopping:
        core.park()
    go, child.go, child.requested = child.go is True and not core.stopping, None, False
    if not go:
        child.state = STOPPING
        if requested:
            core.failure = None  # stopped by its supervisor, not failed
    return go


def start_child(child: ChildRecord, guardian: Guardian[Actor], key: object,
                on_exit: ExitHook[Actor], owner: str) -> bool:
    """Start an ended child under *guardian* and wait until its ``on_start``
    returned (True) or failed (False); *on_exit* (keyed *key*) hears of its end.
    *owner* names the supervisor in the log. Blocks the calling greenlet."""
    actor = child.actor
    core = cell_of(actor)
    core.guardian = guardian
    child.started = Latch()
    child.state = STARTING
    child.up = False
    try:
        if isinstance(actor, BackgroundWorker):
            core.start_again()  # with the arguments of its last start
        else:
            actor.start()
    except Exception as exc:
        logger.error('supervisor %s: starting %s failed', owner, actor.name, exc_info=exc)
        core.failure = exc
        child.state = STOPPED
        return False
    add_exit_hook(core, key, on_exit)
    child.started.wait()
    return child.up


def stop_children(children: list[ChildRecord]) -> None:
    """Stop *children* in reverse order, each waiting for the previous one."""
    for child in reversed(children):
        if child.state != STOPPED:
            child.state = STOPPING
            child.actor.stop()
        child.state = STOPPED


def park_sibling(sibling: ChildRecord, cause: BaseException | None) -> None:
    """Make a running *sibling* park for a restart, and wait until it did."""
    sibling.state = RESTARTING
    sibling.requested = True
    sibling.go = None
    sibling.parked = Latch()
    core = cell_of(sibling.actor)
    core.failure = cause if cause is not None else SupervisionFailed('sibling ended')
    core.wake()
    sibling.parked.wait()


def pause(core: ActorCell[Actor], delay: float) -> None:
    """Wait *delay* seconds in the greenlet of *core*'s actor, woken early by its stop."""
    if delay <= 0:
        return
    fired = []

    def fire() -> None:
        fired.append(True)
        core.wake()

    timer = core.port.call_later(delay, fire)
    try:
        while not fired and not core.stopping:
            core.park()
    finally:
        timer.close()


def rebuild(child: ChildRecord, keep: tuple[str, ...]) -> None:
    """Give the child the state of a fresh ``factory(*args, **kwargs)``, in place.

    Its cell (state, mailbox, counters) stays, and so do the attributes named
    in *keep* (a supervisor keeps its children, so that they too stay the
    same objects).

    Raises:
        TypeError: the factory now makes another type; whatever it raises.
    """
    actor = child.actor
    fresh = child.spec.build()
    if type(fresh) is not type(actor):
        raise TypeError(f'{child.spec!r} now makes {type(fresh).__name__}, '
                        f'not {type(actor).__name__}')
    state = vars(actor)
    kept = {name: state[name] for name in ('_actor', *keep)}
    state.clear()
    state.update(vars(fresh))
    state.update(kept)
