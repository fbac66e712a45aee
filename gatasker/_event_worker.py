"""The event worker: one run of the executor per trigger; triggers coalesce."""

from __future__ import annotations

from typing import Any

from ._constants import TASK_NORMAL, check_priority
from ._errors import ActorNotRunning
from ._worker import DONE, BackgroundWorker, Done


class BackgroundEventWorker(BackgroundWorker):
    """Runs the executor once per trigger: ``trigger()``, ``trigger_threadsafe()``
    and ``tell()`` are the same thing, from any thread.

    A trigger that arrives while the executor runs is dropped, or with
    ``force=True`` makes (at most) one more run afterwards.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.pop('e', None)
        kwargs.pop('event', None)
        super().__init__(*args, **kwargs)
        self._triggered = False
        self._running = False

    def _on_actor_start(self) -> None:
        self._triggered = False
        self._running = False

    def trigger(self, force: bool = False) -> Done:
        """Ask for a run. Any thread or greenlet; never blocks.

        Returns an awaitable that is already done, so atasker's
        ``await worker.trigger()`` works too.
        """
        core = self._actor
        if core.state != 'running' or core.stopping or core.port.finished:
            raise ActorNotRunning(f'{self!r} is not running')
        core.port.call(self._on_trigger, force)
        return DONE

    trigger_threadsafe = trigger

    def tell(self, message: Any = None, priority: int = TASK_NORMAL, block: bool = False) -> None:
        """The same as :meth:`trigger`; *message* is ignored."""
        check_priority(priority)
        self.trigger()

    def _on_trigger(self, force: bool) -> None:
        if self._running and not force:
            return  # atasker's semantics: a trigger during a run is dropped
        self._triggered = True
        self._wake()

    def _has_work(self) -> bool:
        return self._triggered

    def _do_work(self) -> None:
        self._triggered = False
        self._running = True
        try:
            self._execute(())
        finally:
            self._running = False
