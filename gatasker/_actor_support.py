"""The supervisor's side of actors and workers: registration and stop.

A mixin of TaskSupervisor; each hook calls ``super()`` so the other mixins
keep working.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from greenlet import getcurrent

from ._logging import logger
from ._statistics import ActorStatistics


class ActorSupport:
    """Mixin: keeps the running actors (and so the workers) of a supervisor."""

    _actors: dict[int, Any]

    def _init_extensions(self) -> None:
        self._actors = {}
        self._forked_actors: list[Any] = []  # to start again in a forked child
        super()._init_extensions()  # type: ignore[misc]

    def _after_fork_extensions(self) -> None:
        # The parent's actors and workers start again with the supervisor here
        # (see _on_started); what their mailboxes held stays the parent's.
        actors = list(self._actors.values())
        self._actors = {}
        self._forked_actors = [actor for actor in actors if actor._forget_parent()]
        super()._after_fork_extensions()  # type: ignore[misc]

    def _on_started(self) -> None:
        super()._on_started()  # type: ignore[misc]
        actors, self._forked_actors = self._forked_actors, []
        for actor in actors:
            try:
                actor._start_again()
            except Exception:
                logger.exception('restarting %r after a fork failed', actor)

    def _register_actor(self, actor: Any) -> None:
        self._actors[id(actor)] = actor

    def _unregister_actor(self, actor: Any) -> None:
        if self._actors.get(id(actor)) is actor:
            del self._actors[id(actor)]

    def _note_callers(self, run: Any) -> None:
        # stop() from an actor's own greenlet (a handler, on_start, a worker's on_error).
        me = getcurrent()
        for actor in list(self._actors.values()):
            if actor._actor.greenlet is me:
                run.callers.add(id(actor))
        super()._note_callers(run)  # type: ignore[misc]

    def _extension_schedulers(self) -> list[Any]:
        # supervisor.stop() stops every running actor and worker first.
        inherited: list[Any] = super()._extension_schedulers()  # type: ignore[misc]
        return list(self._actors.values()) + inherited

    def _extend_info(self, info: SimpleNamespace, run: Any) -> None:
        actors = list(self._actors.values())
        info.actors = [actor.name for actor in actors]
        info.workers = [actor.name for actor in actors if hasattr(actor, 'is_active')]
        super()._extend_info(info, run)  # type: ignore[misc]

    def _actor_statistics(self) -> tuple[ActorStatistics, ...]:
        snapshots = []
        for actor in list(self._actors.values()):
            core = actor._actor
            mailbox = core.mailbox
            snapshots.append(ActorStatistics(
                name=actor.name, kind='worker' if hasattr(actor, 'is_active') else 'actor',
                mailbox=(len(mailbox) if mailbox is not None else 0) + len(core.remote),
                handled=core.handled, failed=core.failed, restarts=core.restarts))
        return tuple(snapshots)
