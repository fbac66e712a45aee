"""What an ActorSupervisor is built from and reports: child specs, restart
types and strategies, the records it keeps per child, its statistics.

Pure data: no gevent, no greenlets (see ``_supervision`` for the behaviour).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ._actor import Actor
from ._bridge import Latch
from ._errors import GataskerError

PERMANENT, TRANSIENT, TEMPORARY = 'permanent', 'transient', 'temporary'
RESTART_TYPES = (PERMANENT, TRANSIENT, TEMPORARY)
ONE_FOR_ONE, ONE_FOR_ALL, REST_FOR_ONE = 'one_for_one', 'one_for_all', 'rest_for_one'
STRATEGIES = (ONE_FOR_ONE, ONE_FOR_ALL, REST_FOR_ONE)

# A child's state, as statistics() shows it.
STARTING, RUNNING, RESTARTING, STOPPING, STOPPED = (
    'starting', 'running', 'restarting', 'stopping', 'stopped')


class SupervisionFailed(GataskerError, RuntimeError):
    """Why an `ActorSupervisor` failed: a child failed more than
    ``max_restarts`` times within ``within`` seconds, or could not start.
    ``__cause__`` is the child's last exception. The supervisor's own
    supervisor handles it like any child failure (escalation)."""


class ChildSpec:
    """How an `ActorSupervisor` builds one child.

    ``factory(*args, **kwargs)`` must return a new, not started actor or
    worker (an Actor subclass is a factory). The same call rebuilds the
    child's state at each restart.

    Args:
        factory: Makes the child.
        *args: Passed to *factory*.
        restart: ``'permanent'`` (always restarted), ``'transient'`` (only
            after a failure) or ``'temporary'`` (never).
        name: The child's name.
        **kwargs: Passed to *factory*.
    """

    __slots__ = ('args', 'factory', 'kwargs', 'name', 'restart')

    def __init__(self, factory: Callable[..., Actor], *args: object, restart: str = PERMANENT,
                 name: str | None = None, **kwargs: object) -> None:
        if not callable(factory):
            raise TypeError(f'factory must be callable, got {factory!r}')
        if restart not in RESTART_TYPES:
            raise ValueError(f'restart must be one of {RESTART_TYPES}, got {restart!r}')
        if name is not None and not isinstance(name, str):
            raise TypeError(f'name must be a str or None, got {name!r}')
        self.factory = factory
        self.args = args
        self.kwargs: Mapping[str, object] = kwargs
        self.restart = restart
        self.name = name

    def build(self) -> Actor:
        """Make a new actor from the spec.

        Returns:
            Actor: What the factory made.

        Raises:
            TypeError: The factory made something that is not an actor.
        """
        actor = self.factory(*self.args, **self.kwargs)
        if not isinstance(actor, Actor):
            raise TypeError(f'{self.factory!r} returned {actor!r}, not an actor')
        if actor.is_alive():
            raise ValueError(f'{self.factory!r} returned a running actor: {actor!r}')
        return actor

    def __repr__(self) -> str:
        return f'ChildSpec({self.factory!r}, restart={self.restart!r}, name={self.name!r})'


class ChildRecord:
    """The supervisor's record of one child."""

    __slots__ = ('actor', 'cause', 'generation', 'go', 'parked', 'requested', 'restarting',
                 'restarts', 'spec', 'started', 'state', 'up')

    def __init__(self, spec: ChildSpec, actor: Actor) -> None:
        self.spec = spec
        self.actor = actor
        self.state = STOPPED
        self.generation = 0  # bumped at each restart: older incidents are stale
        self.go: bool | None = None  # the verdict for a parked child
        self.requested = False  # parked because a sibling failed
        self.restarting = False  # on_restart is due before on_start
        self.cause: BaseException | None = None
        self.restarts = 0
        self.started = Latch()  # set once on_start returned, or the child failed or ended
        self.up = False  # on_start returned since the last (re)start
        self.parked = Latch()  # set once the child parked or ended


@dataclass(frozen=True)
class Incident:
    child: ChildRecord
    reason: BaseException | None
    generation: int


@dataclass(frozen=True)
class ChildStatistics:
    """One child of a supervisor at the moment of the snapshot."""

    name: str
    restart: str
    #: 'starting', 'running', 'restarting', 'stopping' or 'stopped'.
    state: str
    #: How often the supervisor restarted it.
    restarts: int


@dataclass(frozen=True)
class ActorSupervisorStatistics:
    """An `ActorSupervisor` at the moment of the snapshot."""

    name: str
    strategy: str
    #: 'starting', 'running', 'stopping' or 'stopped'.
    state: str
    children: tuple[ChildStatistics, ...]
    #: Restarts counted in the current ``within`` window.
    restarts_in_window: int
    max_restarts: int | None
    within: float
