"""Death-watch: an actor hears, as a message, that another actor ended.

``watcher.watch(target)`` adds an exit hook to *target* (keyed by the
watcher) and one to the watcher (keyed by the target) that removes the
first, so the watch ends with whichever actor ends first and never
outlives both. The hooks are edited under the owning actor's lock because
watcher and target may live in different supervisors (different threads).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._errors import ActorNotRunning
from ._logging import logger

if TYPE_CHECKING:
    from ._actor import Actor, ExitHook

_RUNNING = 'running'


@dataclass(frozen=True)
class Terminated:
    """The message a watcher receives when a watched actor ended for good.

    ``reason`` is None after a normal end (``stop()``, an executor returning
    False) and the exception after a failure. A restart by a supervisor is
    not an end: the actor lives on.
    """

    actor: Actor
    reason: BaseException | None


def add_exit_hook(actor: Actor, key: object, hook: ExitHook) -> bool:
    """Call ``hook(actor, reason)`` when *actor* ends; False (nothing added) if
    it is not running. Any thread; never blocks."""
    core = actor._actor
    with core.lock:
        if core.state != _RUNNING:
            return False
        core.exit_hooks[key] = hook
        return True


def remove_exit_hook(actor: Actor, key: object) -> None:
    """Forget the hook added under *key*, if any. Any thread; never blocks."""
    core = actor._actor
    with core.lock:
        core.exit_hooks.pop(key, None)


def watch(watcher: Actor, target: Actor) -> None:
    """See :meth:`Actor.watch`."""
    from ._actor import Actor
    if not isinstance(target, Actor):
        raise TypeError(f'watch() takes an actor, got {target!r}')
    if target is watcher:
        raise ValueError('an actor cannot watch itself')
    if not watcher.is_alive():
        raise ActorNotRunning(f'{watcher!r} is not running')

    def on_target_end(actor: Actor, reason: BaseException | None) -> None:
        remove_exit_hook(watcher, ('watching', id(target)))
        _notify(watcher, Terminated(actor, reason))

    def on_watcher_end(actor: Actor, reason: BaseException | None) -> None:
        remove_exit_hook(target, ('watcher', id(watcher)))

    if not add_exit_hook(watcher, ('watching', id(target)), on_watcher_end):
        raise ActorNotRunning(f'{watcher!r} is not running')
    if not add_exit_hook(target, ('watcher', id(watcher)), on_target_end):
        remove_exit_hook(watcher, ('watching', id(target)))
        _notify(watcher, Terminated(target, target._actor.failure))


def unwatch(watcher: Actor, target: Actor) -> None:
    """See :meth:`Actor.unwatch`."""
    remove_exit_hook(target, ('watcher', id(watcher)))
    remove_exit_hook(watcher, ('watching', id(target)))


def _notify(watcher: Actor, message: Terminated) -> None:
    try:
        watcher.tell(message)
    except ActorNotRunning:
        pass  # the watcher ended meanwhile: nobody to tell
    except Exception:
        logger.exception('telling %r of %r failed', watcher, message)
