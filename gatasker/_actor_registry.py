"""The running actors (and so the workers) of a supervisor.

An actor registers when it starts and unregisters when it ends; the
supervisor's stop stops every registered one first. After a fork the child
keeps the parent's actors to start again with the supervisor (their mailboxes
stay the parent's). Any thread; never blocks.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from greenlet import getcurrent

from ._logging import logger
from ._statistics import ActorStatistics


class _Mailbox(Protocol):
    def __len__(self) -> int: ...


class _Core(Protocol):
    """An actor's running state, as far as the supervisor reads it."""

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


@runtime_checkable
class RegisteredActor(Protocol):
    """What the supervisor needs of an actor or a worker."""

    @property
    def name(self) -> str: ...
    @property
    def _actor(self) -> _Core: ...

    def stop(self, wait: bool | float = True, drain: bool = False) -> bool: ...
    def _forget_parent(self) -> bool: ...
    def _start_again(self) -> None: ...


def is_worker(actor: object) -> bool:
    """True for a worker (an actor with ``is_active``)."""
    return hasattr(actor, 'is_active')


class ActorRegistry:
    """The actors and workers that run under one supervisor."""

    def __init__(self) -> None:
        self._actors: dict[int, RegisteredActor] = {}
        self.forked: list[RegisteredActor] = []  # to start again in a forked child

    def register(self, actor: object) -> None:
        """Count *actor* among the running ones: the supervisor's stop stops it.

        Raises TypeError for what is no gatasker actor.
        """
        if not isinstance(actor, RegisteredActor):
            raise TypeError(f'only an Actor registers with a supervisor, got {actor!r}')
        self._actors[id(actor)] = actor

    def unregister(self, actor: object) -> None:
        """Forget *actor*, if it is the one registered under its id."""
        if self._actors.get(id(actor)) is actor:
            del self._actors[id(actor)]

    def actors(self) -> list[RegisteredActor]:
        """The running actors and workers."""
        return list(self._actors.values())

    def restarts_after_fork(self, actor: object) -> bool:
        """True if *actor* ran in the parent of this forked process."""
        return actor in self.forked

    def after_fork_in_child(self) -> None:
        """In a forked child: keep the parent's actors to start again with the supervisor."""
        actors = list(self._actors.values())
        self._actors = {}
        self.forked = [actor for actor in actors if actor._forget_parent()]

    def start_forked(self) -> None:
        """After a start: start again the actors that ran in the parent of a fork."""
        actors, self.forked = self.forked, []
        for actor in actors:
            try:
                actor._start_again()
            except Exception:
                logger.exception('restarting %r after a fork failed', actor)

    def note_callers(self, callers: set[int]) -> None:
        """stop() from an actor's own greenlet (a handler, on_start, a worker's
        on_error): add that actor's id to *callers*."""
        me = getcurrent()
        for actor in list(self._actors.values()):
            if actor._actor.greenlet is me:
                callers.add(id(actor))

    def statistics(self) -> tuple[ActorStatistics, ...]:
        """A snapshot of every running actor and worker."""
        snapshots = []
        for actor in list(self._actors.values()):
            core = actor._actor
            mailbox = core.mailbox
            snapshots.append(ActorStatistics(
                name=actor.name, kind='worker' if is_worker(actor) else 'actor',
                mailbox=(len(mailbox) if mailbox is not None else 0) + len(core.remote),
                handled=core.handled, failed=core.failed, restarts=core.restarts))
        return tuple(snapshots)
