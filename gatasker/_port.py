"""The hub port: the one way actors and workers reach their supervisor's hub.

A supervisor run owns one hub (one OS thread) and one thread-safe inbox that
its mailbox greenlet serves. `HubPort` is what the rest of the
package gets of it: the hub thread's id, "call now if I am in that thread,
else post through the inbox" written once, timers, and the few raw hub
operations an actor's greenlet needs. Nobody but the supervisor touches the
run's inbox or hub directly.
"""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic
from typing import TYPE_CHECKING, Protocol

from gevent.hub import Hub
from greenlet import greenlet as RawGreenlet

from ._bridge import Inbox, real_thread_id

if TYPE_CHECKING:  # annotations only: no run-time dependency
    from typing_extensions import TypeVarTuple, Unpack

    from ._policies import TaskPolicy
    from ._task import Task

    Ts = TypeVarTuple('Ts')


class Closable(Protocol):
    """A handle on something pending (a timer) that ``close()`` cancels."""

    def close(self) -> None: ...


class RunCallback(Protocol):
    """``loop.run_callback``: run ``func(*args)`` in the hub soon. Hub thread only."""

    def __call__(self, func: Callable[[Unpack[Ts]], object], *args: Unpack[Ts]) -> object: ...


class _Timer(Protocol):
    """A gevent timer watcher, as far as the port uses it."""

    def start(self, callback: Callable[[Unpack[Ts]], object], *args: Unpack[Ts],
              update: bool = False) -> None: ...

    def close(self) -> None: ...


class _Loop(Protocol):
    """A gevent loop, as far as the port uses it."""

    run_callback: RunCallback

    def timer(self, after: float, repeat: float = 0.0, ref: bool = True) -> _Timer: ...


class HubPort:
    """One supervisor run's hub, as actors, workers and tiers see it.

    Made by the run, in the hub's thread. ``thread_id``, ``finished``,
    `in_owner_thread`, `call` and `post` may be used from
    any thread; the rest only in the hub's thread.

    ``run_callback(func, *args)`` (the loop's own bound method, for the
    actors' hot paths) schedules ``func(*args)`` in the hub; ``switch()``
    parks the calling greenlet until something switches back to it.

    Args:
        hub: the gevent hub of the run (the calling thread's).
        thread_id: the real id of that hub's OS thread.
        inbox: the supervisor's inbox, served by its mailbox greenlet in *hub*.
    """

    __slots__ = ('_hub', '_inbox', '_loop', 'finished', 'run_callback', 'switch', 'thread_id')

    def __init__(self, hub: Hub, thread_id: int, inbox: Inbox) -> None:
        self._hub = hub
        loop: _Loop = hub.loop
        self._loop = loop
        self._inbox = inbox
        #: The real id of the hub's OS thread.
        self.thread_id = thread_id
        #: True once the run ended: its hub may be gone and nothing posted runs.
        self.finished = False
        self.run_callback: RunCallback = loop.run_callback
        self.switch: Callable[[], object] = hub.switch

    def in_owner_thread(self) -> bool:
        """True when called from the hub's OS thread. Any thread; never blocks."""
        return real_thread_id() == self.thread_id

    def post(self, func: Callable[[Unpack[Ts]], object], *args: Unpack[Ts]) -> None:
        """Run ``func(*args)`` in the supervisor's mailbox greenlet, after what
        was posted before. Any thread; never blocks."""
        self._inbox.put((func, args))

    def call(self, func: Callable[[Unpack[Ts]], object], *args: Unpack[Ts]) -> None:
        """Run ``func(*args)`` now when called in the hub's thread, else post it.
        Any thread; never blocks (except for what *func* does when run now)."""
        if real_thread_id() == self.thread_id:
            func(*args)
        else:
            self._inbox.put((func, args))

    def call_soon(self, func: Callable[[Unpack[Ts]], object], *args: Unpack[Ts]) -> None:
        """Run ``func(*args)`` in the hub at its next turn. Hub thread only; never blocks."""
        self._loop.run_callback(func, *args)

    def call_later(self, seconds: float, func: Callable[[Unpack[Ts]], object],
                   *args: Unpack[Ts], ref: bool = True) -> Closable:
        """Run ``func(*args)`` in the hub after *seconds*; ``close()`` the handle to
        cancel it. With ``ref=False`` the pending timer alone does not keep the
        hub's loop running. Hub thread only; never blocks."""
        timer = self._loop.timer(seconds, ref=ref)
        timer.start(func, *args)
        return timer

    def call_at(self, when: float, func: Callable[[Unpack[Ts]], object],
                *args: Unpack[Ts]) -> Closable:
        """Run ``func(*args)`` in the hub once ``time.monotonic()`` reached
        *when*, never before; ``close()`` the handle to cancel it. Hub thread
        only; never blocks."""
        timer = self._loop.timer(max(0.0, when - monotonic()))
        # The loop counts a timer from its notion of now; outside its callback
        # queue (in a timer's callback, or a greenlet that one resumed) that is
        # the time of its last poll, milliseconds behind after a busy turn of
        # the hub, and the timer would fire that much early: read the clock.
        timer.start(func, *args, update=True)
        return timer

    def spawn_raw(self, run: Callable[[], object]) -> RawGreenlet:
        """A raw greenlet running *run* in the hub, started at the hub's next
        turn. Hub thread only; never blocks."""
        glet = RawGreenlet(run, self._hub)
        self._loop.run_callback(glet.switch)
        return glet


class ActorHost(Protocol):
    """What an actor or worker needs of the TaskSupervisor it runs under.

    ``_supervisor.actor_host(sup)`` gives one. Any thread.
    """

    def running_port(self) -> HubPort:
        """The port of the running run; starts the supervisor if it starts on
        use (the default one, or after a fork). Raises SupervisorNotRunning
        otherwise. May block while the supervisor starts."""

    def register_actor(self, cell: object) -> None:
        """Count the actor of *cell* (its `ActorCell`) among the running ones:
        the supervisor's stop stops it."""

    def unregister_actor(self, cell: object) -> None:
        """Forget the actor of *cell* (it ended). Never blocks."""

    def restarts_after_fork(self, cell: object) -> bool:
        """True if the actor of *cell* ran in the parent of this forked process
        and the supervisor starts afresh, with it, on first use. Never blocks."""

    def is_started(self) -> bool:
        """True while the supervisor runs. Never blocks."""

    @property
    def default_tt(self) -> int:
        """The tier of a worker's runs when the worker names none."""

    def put_worker_task(self, worker: object, target: Callable[..., object],
                        args: tuple[object, ...], kwargs: dict[str, object], priority: int,
                        tt: int, policy: TaskPolicy | None) -> Task[object]:
        """Queue one run of *worker*'s executor as a task; a greenlet-tier run
        that may start at once runs in the calling (worker's) greenlet and is
        done when this returns. Raises SupervisorNotRunning."""

    def run_coroutine_executor(self, func: Callable[..., object], args: tuple[object, ...],
                               kwargs: dict[str, object], loop: object,
                               policy: TaskPolicy | None) -> Task[object]:
        """Queue one run of a worker's coroutine executor on an aloop (*loop*,
        else the default or the internal one). Raises SupervisorNotRunning."""
