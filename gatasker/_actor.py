"""Actors: objects that handle their messages one at a time in their own greenlet.

Every actor lives in its supervisor's hub. A ``tell`` from that hub's thread
puts the message straight into the actor's mailbox; a ``tell`` from any other
thread travels through the supervisor's thread-safe inbox (the run's port),
so an actor needs no async watcher of its own (libev scans every async
watcher on each wake-up, which would make a hundred thousand actors
expensive). The actor's state and transport live in its cell
(``_actor_cell``); its greenlet's loop lives here, next to the hooks it calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, cast

from zope.interface import implementer

from . import _tracing
from ._actor_cell import RUNNING, ActorCell, MessageQueue, names
from ._actor_loop import Steps, run
from ._bridge import real_thread_id
from ._constants import TASK_NORMAL, check_priority, check_timeout
from ._envelope import Envelope
from ._fifo import PriorityFifo
from ._interfaces import IActor
from ._port import HubPort
from ._supervisor import TaskSupervisor
from ._watch import unwatch, watch

if TYPE_CHECKING:
    from typing_extensions import Self  # annotations only: no run-time dependency


def _told(message: object) -> object:
    """What a told message travels as: the bare message, unless a tracer wants
    the caller's context carried along (then an Envelope)."""
    tracer = _tracing.tracer
    context = None if tracer is None else tracer.message_sent()
    return message if context is None else Envelope(message, None, context)


_M_contra = TypeVar('_M_contra', contravariant=True)
_R_co = TypeVar('_R_co', covariant=True)


class _Receives(Protocol[_M_contra, _R_co]):
    """An actor seen through its ``on_receive``: what ``ask()`` sends and answers."""

    def on_receive(self, message: _M_contra) -> _R_co: ...


@dataclass(frozen=True)
class Terminated:
    """The message a watcher receives when a watched actor ended for good.

    ``reason`` is None after a normal end (``stop()``, an executor returning
    False) and the exception after a failure. A restart by a supervisor is
    not an end: the actor lives on.
    """

    actor: Actor
    reason: BaseException | None



@implementer(IActor)
class Actor:
    """Subclass and override `on_receive`; create with `spawn`.

    Hooks: `on_start`, `on_receive`, `on_stop`, `on_failure`, `on_restart`.
    Messages are handled one at a time, in the order received, FIFO within a
    priority (``tell(message, priority=TASK_HIGH)`` jumps ahead of normal
    messages).
    """

    _actor: ActorCell[Actor]
    #: The mailbox class a subclass uses (a queue worker may pick another).
    mailbox_class: ClassVar[type[MessageQueue]] = PriorityFifo

    def __new__(cls, *args: object, **kwargs: object) -> Self:
        self = super().__new__(cls)
        self._actor = ActorCell(self, self._start_again)
        return self

    @classmethod
    def spawn(cls, *args: object, name: str | None = None, priority: int = TASK_NORMAL,
              supervisor: TaskSupervisor | None = None, mailbox_size: int | None = None,
              **kwargs: object) -> Self:
        """Construct the actor with ``cls(*args, **kwargs)``, start it and return it.

        *name*, *priority*, *supervisor* and *mailbox_size* configure the actor
        and are not passed to ``__init__``. Any thread or greenlet.

        Raises:
            SupervisorNotRunning: the supervisor is not running (the default
                one starts lazily).
        """
        actor = cls.__new__(cls)
        cell_of(actor).configure(name, priority, supervisor, mailbox_size)
        cls.__init__(actor, *args, **kwargs)
        actor.start()
        return actor

    # -- hooks ---------------------------------------------------------------

    def on_start(self) -> None:
        """Called in the actor's greenlet before the first message. Override it."""

    def on_receive(self, message: Any) -> Any:
        """Handle one message. Override it; called in the actor's greenlet.

        Args:
            message: What `tell()` or `ask()` sent.

        Returns:
            object: The answer to an `ask()` (ignored for a `tell()`).
        """
        raise NotImplementedError(f'{type(self).__name__} does not handle messages')

    def on_stop(self) -> None:
        """Called in the actor's greenlet after the last message. Override it."""

    def on_failure(self, exc: BaseException) -> bool | None:
        """Called after a handler raised *exc*.

        Override it to decide: the default keeps the actor running.

        Args:
            exc: What the handler raised.

        Returns:
            bool | None: False (or re-raising *exc*) fails the actor: it stops,
                or its supervisor restarts it. Anything else keeps it running.
        """
        return None

    def on_restart(self, exc: BaseException | None) -> None:
        """Called in the actor's greenlet before `on_start()` when restarted.

        The state was already rebuilt from the original arguments.

        Args:
            exc: The failure that caused the restart; None after a normal end.
        """

    def watch(self, other: Actor) -> None:
        """Receive ``Terminated(other, reason)`` when *other* ends.

        At once if *other* is not running. The watch ends with either actor.
        Any thread; never blocks.

        Args:
            other: The actor to watch.
        """
        if not isinstance(other, Actor):
            raise TypeError(f'watch() takes an actor, got {other!r}')
        watch(self._actor, cell_of(other), Terminated)

    def unwatch(self, other: Actor) -> None:
        """Stop watching *other*. Any thread; never blocks.

        Args:
            other: An actor given to `watch()`.
        """
        unwatch(self._actor, cell_of(other))

    # -- properties ---------------------------------------------------------------

    @property
    def name(self) -> str:
        """The actor's name (``<class>-<n>`` unless one was given)."""
        core = self._actor
        if core.name is None:
            core.name = f'{type(self).__name__}-{next(names)}'
        return core.name

    @property
    def priority(self) -> int:
        """The actor's priority (its tasks' priority, for a worker); assignable."""
        return self._actor.priority

    @priority.setter
    def priority(self, value: int) -> None:
        self._actor.priority = check_priority(value)

    @property
    def mailbox_size(self) -> int | None:
        """The mailbox's bound (None: unbounded)."""
        return self._actor.limit

    @property
    def supervisor(self) -> TaskSupervisor:
        """The supervisor the actor runs under (the default one unless given)."""
        return self._actor.the_supervisor()

    def is_alive(self) -> bool:
        """True while the actor takes messages. Any thread; never blocks."""
        core = self._actor
        return core.state == RUNNING and not core.stopping

    def __repr__(self) -> str:
        return f'<{type(self).__name__} {self.name!r} {self._actor.state}>'

    # -- life cycle -------------------------------------------------------------

    def start(self) -> bool:
        """Start taking messages; False if already running.

        Any thread or greenlet; never blocks for long.

        Raises:
            SupervisorNotRunning: the supervisor is not running.
        """
        core = self._actor
        if not core.open(self.mailbox_class()):
            return False
        port = core.attach()
        self._on_actor_start()
        port.call(self._spawn_greenlet, port)
        return True

    def _on_actor_start(self) -> None:
        """Hook for subclasses, in the caller's thread, before the greenlet starts."""

    def _start_again(self) -> None:
        """Hook, in a forked child: start as the parent had started it (settings
        kept; not through an override of `start`, such as a supervisor's, which
        would wait for its children). A worker starts with its last arguments."""
        Actor.start(self)

    def _spawn_greenlet(self, port: HubPort) -> None:
        self._actor.greenlet = port.spawn_raw(self._main)

    def stop(self, wait: bool | float = True, drain: bool = False) -> bool:
        """Stop after the message being handled.

        Messages still queued are dropped and counted in the log (pending
        asks fail with ``ActorNotRunning``), unless *drain* handles them
        first.

        Args:
            wait: True (or seconds, at most) blocks until the actor ended —
                cooperatively in a greenlet — except when called from its own
                handler; False does not wait.
            drain: Handle the queued messages before stopping.

        Returns:
            bool: True if it was running, False if not.
        """
        limit = None if wait is True or wait is False else check_timeout(wait, 'wait')
        core = self._actor
        if not core.request_stop(drain):
            return False
        self._on_actor_stop()
        core.finish_stop(wait is not False, limit)
        return True

    def _on_actor_stop(self) -> None:
        """Hook for subclasses, in the caller's thread, when a stop is requested."""

    # -- messages ---------------------------------------------------------------

    def tell(self, message: object = None, priority: int = TASK_NORMAL,
             block: bool = False) -> None:
        """Send *message* without waiting for it to be handled.

        Any thread or greenlet; never blocks unless *block*.

        Raises:
            ActorNotRunning: the actor is not running.
            MailboxFull: a bounded mailbox is full (with ``block=True`` the
                call waits for room instead).
        """
        core = self._actor
        if priority != TASK_NORMAL:
            check_priority(priority)
        if core.limit is None and core.state is RUNNING and not core.stopping \
                and real_thread_id() == core.hub_thread:
            # The common case, inlined: same thread, unbounded mailbox.
            if core.remote:
                core.drain_remote()
            item = message if _tracing.tracer is None else _told(message)
            mailbox = core.mailbox
            if priority == TASK_NORMAL and isinstance(mailbox, PriorityFifo):
                mailbox.normal.append(item)
            else:
                mailbox.push(item, priority)
            if core.sleeping and not core.wake_pending:
                core.wake_pending = True
                core.port.run_callback(core.resume)
            return
        core.send(message if _tracing.tracer is None else _told(message), priority, block)

    def ask(self: _Receives[_M_contra, _R_co], message: _M_contra | None = None,
            timeout: float | None = None, priority: int = TASK_NORMAL) -> _R_co:
        """Send *message* and wait for ``on_receive``'s answer; re-raise its exception.

        Typed from the subclass's ``on_receive``: the message must be what it
        takes, and the answer is what it returns. Blocks: cooperatively in a
        greenlet, or the calling OS thread.

        Raises:
            TimeoutError: no answer within *timeout* seconds (the builtin).
            ActorNotRunning: the actor stops first.
            RuntimeError: called from the actor's own handler (it would wait
                for itself).
        """
        answer: _R_co = cell_of(cast(Actor, self)).ask(message, timeout, priority)
        return answer

    # -- the actor's greenlet (see _actor_loop) ------------------------------------

    def _main(self) -> None:
        run(self, self._actor, self._steps())

    def _steps(self) -> Steps | None:
        """Hook: the greenlet's own steps; None takes the mailbox's (a worker gives its own)."""
        return None


def cell_of(actor: Actor) -> ActorCell[Actor]:
    """The state and transport of *actor* (for the package's actor-side modules)."""
    return actor._actor
