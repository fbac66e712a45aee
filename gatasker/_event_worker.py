"""The event worker: one run of the executor per trigger; triggers coalesce."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._constants import TASK_NORMAL, check_priority
from ._errors import ActorNotRunning
from ._worker import BackgroundWorker
from ._worker_types import DONE, Done, Executor

if TYPE_CHECKING:  # annotations only
    from typing_extensions import Unpack

    from ._worker_types import WorkerOptions


class BackgroundEventWorker(BackgroundWorker):
    """Runs the executor once per trigger: ``trigger()``, ``trigger_threadsafe()``
    and ``tell()`` are the same thing, from any thread.

    A trigger that arrives while the executor runs is dropped, or with
    ``force=True`` makes (at most) one more run afterwards.
    """

    def __init__(self, name: str | None = None, func: Executor | None = None, *,
                 e: object = None, event: object = None,
                 **kwargs: Unpack[WorkerOptions]) -> None:
        """Configure the worker; it runs after `start`.

        Args:
            name: The worker's name (default: the executor's ``__name__``).
            func: The executor.
            e: Ignored (``background_worker``'s selector, accepted here too).
            event: Ignored, as *e*.
            **kwargs: The other arguments of `BackgroundWorker`.
        """
        super().__init__(name, func, **kwargs)
        self._triggered = False
        self._running = False

    def _on_actor_start(self) -> None:
        self._reset_triggers()

    def _reset_triggers(self) -> None:
        """No trigger pending, no run in progress: the state a start begins with."""
        self._triggered = False
        self._running = False

    def trigger(self, force: bool = False) -> Done:
        """Ask for a run. Any thread or greenlet; never blocks.

        Args:
            force: Make one more run after the one in progress, instead of
                dropping the trigger.

        Returns:
            An awaitable that is already done, so that atasker's
            ``await worker.trigger()`` works too.

        Raises:
            ActorNotRunning: The worker does not run.
        """
        core = self._actor
        if core.state != 'running' or core.stopping or core.port.finished:
            raise ActorNotRunning(f'{self!r} is not running')
        core.port.call(self._on_trigger, force)
        return DONE

    trigger_threadsafe = trigger

    def tell(self, message: object = None, priority: int = TASK_NORMAL,
             block: bool = False) -> None:
        """The same as `trigger`; *message* and *block* are ignored.

        Raises:
            ActorNotRunning: The worker does not run.
            ValueError: A bad *priority*.
        """
        check_priority(priority)
        self.trigger()

    def _on_trigger(self, force: bool) -> None:
        if self._running and not force:
            return  # atasker's semantics: a trigger during a run is dropped
        self._triggered = True
        self._actor.wake()

    def _has_work(self) -> bool:
        return self._triggered

    def _do_work(self) -> None:
        self._run_triggered()

    def _run_triggered(self) -> None:
        """One run for what triggered it; a trigger during the run is dropped
        unless forced (`_on_trigger`)."""
        self._triggered = False
        self._running = True
        try:
            self._execute(())
        finally:
            self._running = False
