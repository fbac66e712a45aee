"""Death-watch: an actor hears, as a message, that another actor ended.

``watcher.watch(target)`` adds an exit hook to *target* (keyed by the
watcher) and one to the watcher (keyed by the target) that removes the
first, so the watch ends with whichever actor ends first and never
outlives both. The hooks are edited under the owning actor's lock because
watcher and target may live in different supervisors (different threads).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from ._actor_cell import RUNNING, ActorCell, ExitHook
from ._errors import ActorNotRunning
from ._logging import logger


class Tellable(Protocol):
    """What a watcher must be: something told the end of what it watches."""

    def tell(self, message: object = None) -> None: ...


A = TypeVar('A', bound=Tellable)

#: Makes the message a watcher gets: ``make(ended_actor, reason)``.
MakeMessage = Callable[[A, 'BaseException | None'], object]


def add_exit_hook(core: ActorCell[A], key: object, hook: ExitHook[A]) -> bool:
    """Call ``hook(actor, reason)`` when the actor of *core* ends; False (nothing
    added) if it is not running. Any thread; never blocks."""
    with core.lock:
        if core.state != RUNNING:
            return False
        core.exit_hooks[key] = hook
        return True


def remove_exit_hook(core: ActorCell[A], key: object) -> None:
    """Forget the hook added under *key*, if any. Any thread; never blocks."""
    with core.lock:
        core.exit_hooks.pop(key, None)


def watch(watcher: ActorCell[A], target: ActorCell[A], make: MakeMessage[A]) -> None:
    """See ``Actor.watch`` (which checks that *target* is an actor): the
    watcher is told ``make(target, reason)`` when the target ends."""
    if target is watcher:
        raise ValueError('an actor cannot watch itself')
    if watcher.state != RUNNING or watcher.stopping:
        raise ActorNotRunning(f'{watcher.actor!r} is not running')

    def on_target_end(actor: A, reason: BaseException | None) -> None:
        remove_exit_hook(watcher, ('watching', id(target)))
        _notify(watcher.actor, make(actor, reason))

    def on_watcher_end(actor: A, reason: BaseException | None) -> None:
        remove_exit_hook(target, ('watcher', id(watcher)))

    if not add_exit_hook(watcher, ('watching', id(target)), on_watcher_end):
        raise ActorNotRunning(f'{watcher.actor!r} is not running')
    if not add_exit_hook(target, ('watcher', id(watcher)), on_target_end):
        remove_exit_hook(watcher, ('watching', id(target)))
        _notify(watcher.actor, make(target.actor, target.failure))


def unwatch(watcher: ActorCell[A], target: ActorCell[A]) -> None:
    """See ``Actor.unwatch``."""
    remove_exit_hook(target, ('watcher', id(watcher)))
    remove_exit_hook(watcher, ('watching', id(target)))


def _notify(watcher: Tellable, message: object) -> None:
    try:
        watcher.tell(message)
    except ActorNotRunning:
        pass  # the watcher ended meanwhile: nobody to tell
    except Exception:
        logger.exception('telling %r of %r failed', watcher, message)
