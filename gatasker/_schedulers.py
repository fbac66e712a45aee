"""The schedulers a supervisor runs and stops (atasker's ``register_scheduler``).

A scheduler has a ``loop()`` the supervisor runs (a plain one as a greenlet
of its hub, a coroutine function on an aloop) and a ``stop()`` its stop
calls; a *sync* scheduler runs its own loop and only gets ``stop()``. Any
thread; never blocks.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class SyncScheduler(Protocol):
    """What `TaskSupervisor.register_sync_scheduler` takes: something to stop."""

    def stop(self) -> object:
        """Stop; called by the supervisor's stop."""


@runtime_checkable
class Scheduler(SyncScheduler, Protocol):
    """What `TaskSupervisor.register_scheduler` takes: a loop to run and stop."""

    def loop(self) -> object:
        """Run until stopped: a plain function or a coroutine function."""


def _check(scheduler: object, *methods: str) -> None:
    for name in methods:
        if not callable(getattr(scheduler, name, None)):
            raise TypeError(f'a scheduler needs a callable {name}() method')


class Schedulers:
    """The registered schedulers of one supervisor, by identity."""

    def __init__(self) -> None:
        self._loops: dict[int, Scheduler] = {}
        self._sync: dict[int, SyncScheduler] = {}

    @staticmethod
    def check(scheduler: object) -> Scheduler:
        """*scheduler* if it has a callable ``stop()`` and ``loop()``; TypeError otherwise."""
        _check(scheduler, 'stop', 'loop')
        assert isinstance(scheduler, Scheduler)
        return scheduler

    def add(self, scheduler: Scheduler) -> None:
        """Register *scheduler* (see `check`)."""
        self._loops[id(scheduler)] = scheduler

    def add_sync(self, scheduler: object) -> None:
        """Register *scheduler* (with ``stop()``); TypeError otherwise."""
        _check(scheduler, 'stop')
        assert isinstance(scheduler, SyncScheduler)
        self._sync[id(scheduler)] = scheduler

    def discard(self, scheduler: object) -> bool:
        """Forget *scheduler*; False if it was not registered."""
        return self._loops.pop(id(scheduler), None) is not None

    def discard_sync(self, scheduler: object) -> bool:
        """Forget the sync *scheduler*; False if it was not registered."""
        return self._sync.pop(id(scheduler), None) is not None

    def sync(self) -> list[SyncScheduler]:
        """The sync schedulers."""
        return list(self._sync.values())

    def all(self) -> list[SyncScheduler]:
        """Every scheduler, the sync ones last (what the stop stops, and atasker's order)."""
        return [*self._loops.values(), *self._sync.values()]
