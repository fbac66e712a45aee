"""An actor's private state and its message transport, kept apart from the
user's attributes (an actor's only own attribute is ``_actor``, its cell).

The cell moves messages into the actor's mailbox: straight in when the
sender runs in the supervisor hub's thread, else through the port (the hub's
inbox) after queueing them in ``remote``, so that the hub delivers what
other threads told in their order and before any later same-thread message.
It also parks and wakes the actor's greenlet and keeps its counters.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Generic, Protocol, TypeVar, cast

from greenlet import getcurrent
from greenlet import greenlet as RawGreenlet

from . import _tracing
from ._bridge import Latch, allocate_lock
from ._constants import TASK_NORMAL, check_priority, check_timeout
from ._default import task_supervisor
from ._envelope import Envelope, Reply
from ._errors import ActorNotRunning, MailboxFull
from ._fifo import PriorityFifo
from ._logging import logger
from ._port import ActorHost, HubPort
from ._supervisor import TaskSupervisor, actor_host

STOPPED, RUNNING = 'stopped', 'running'

#: Names ``<class>-<n>`` of actors created without one.
names = itertools.count(1)

A = TypeVar('A')
A_contra = TypeVar('A_contra', contravariant=True)

#: What an actor calls when it ends for good: ``hook(actor, reason)`` in its hub.
ExitHook = Callable[[A, 'BaseException | None'], None]


class Guardian(Protocol[A_contra]):
    """What a supervised actor calls in its own greenlet (see ``_supervision``)."""

    def starting(self, child: A_contra) -> None:
        """Before ``on_start``; may raise, which fails the start."""

    def started(self, child: A_contra) -> None:
        """After ``on_start`` returned."""

    def restart(self, child: A_contra, failure: BaseException) -> bool:
        """After a failure (``on_stop`` already ran): True once the actor may start
        again in place, keeping its mailbox; False to end for good. Blocks the
        child's greenlet cooperatively."""


class MessageQueue(Protocol):
    """What an actor needs of its mailbox: a ``PriorityFifo`` or a ``HeapMailbox``."""

    def __len__(self) -> int: ...

    def push(self, item: object, priority: int = TASK_NORMAL) -> None: ...

    def pop(self) -> object: ...

    def drain(self) -> Iterator[object]: ...


#: The mailbox of an actor that never started: always empty (nothing
#: delivers to an actor that does not run).
NO_MAILBOX: MessageQueue = PriorityFifo()


class ActorCell(Generic[A]):
    """One actor's state, mailbox transport and counters.

    Fields are read from any thread; those that a stop or a bounded mailbox
    changes from another thread (``state``, ``stopping``, ``pending``,
    ``space_waiters``, ``exit_hooks``) change under ``lock``; the rest only
    in the hub's thread.
    """

    __slots__ = (
        'actor', 'drain', 'dropped', 'exit_hooks', 'failed', 'failure', 'greenlet', 'guardian',
        'handled', 'host', 'hub_thread', 'limit', 'lock', 'mailbox', 'name', 'pending', 'port',
        'priority', 'remote', 'restarts', 'sleeping', 'space_waiters', 'start_again', 'state',
        'stop_hook_ran', 'stopped', 'stopping', 'supervisor', 'wake_pending',
    )

    #: The hub it runs in; set by the first start (nothing reads it before).
    port: HubPort

    def __init__(self, actor: A, start_again: Callable[[], object]) -> None:
        self.actor = actor
        #: Starts the actor again as it was last started (after a fork).
        self.start_again = start_again
        self.name: str | None = None
        self.priority = TASK_NORMAL
        self.supervisor: TaskSupervisor | None = None  # None: the default one
        self.limit: int | None = None
        self.mailbox = NO_MAILBOX  # each start makes a new one (``mailbox_class()``)
        self.state = STOPPED
        self.stopping = False
        self.drain = False
        self.host: ActorHost | None = None  # its supervisor, as actors see it
        self.greenlet: RawGreenlet | None = None
        self.sleeping = False
        self.wake_pending = False
        self.stopped = Latch()
        self.stopped.set()
        self.lock = allocate_lock()
        self.pending = 0  # messages told and not yet taken (bounded mailboxes only)
        self.space_waiters: list[Latch] = []
        self.dropped = 0
        self.handled = 0  # messages (worker: executor runs) handled, failed ones included
        self.failed = 0
        self.restarts = 0  # times a supervisor restarted it in place
        self.hub_thread = -1  # the OS thread of the supervisor's hub
        # Messages from other threads, in the order they were told; drained
        # before any same-thread delivery so that causal order holds.
        self.remote: deque[tuple[object, int]] = deque()
        # Supervision: why the actor failed (None: it did not), who restarts
        # it, and who hears of its end (death-watch), keyed by the listener.
        self.failure: BaseException | None = None
        self.guardian: Guardian[A] | None = None
        self.exit_hooks: dict[object, ExitHook[A]] = {}
        self.stop_hook_ran = False

    def the_supervisor(self) -> TaskSupervisor:
        """The supervisor the actor runs under (the default one unless given)."""
        return task_supervisor if self.supervisor is None else self.supervisor

    def configure(self, name: str | None, priority: int, supervisor: object,
                  mailbox_size: int | None) -> None:
        """Check, then set, the settings ``spawn()`` (or a worker) was given."""
        if name is not None and not isinstance(name, str):
            raise TypeError(f'name must be a str or None, got {name!r}')
        check_priority(priority)
        if mailbox_size is not None and (isinstance(mailbox_size, bool)
                                         or not isinstance(mailbox_size, int)
                                         or mailbox_size < 1):
            raise ValueError(f'mailbox_size must be a positive int or None, got {mailbox_size!r}')
        if supervisor is not None and not isinstance(supervisor, TaskSupervisor):
            raise TypeError(f'supervisor must be a TaskSupervisor or None, got {supervisor!r}')
        self.name = name
        self.priority = priority
        self.supervisor = supervisor
        self.limit = mailbox_size

    def forget_parent(self) -> bool:
        """In a forked child: fail the asks still waiting (their messages are the
        parent's and are not handled here), then become a fresh, stopped cell with
        the same settings; True if the actor ran in the parent."""
        waiting = [item for item, _ in self.remote]
        waiting.extend(self.mailbox.drain())
        for item in waiting:
            if type(item) is Envelope and item.reply is not None:
                item.reply.answer(False, ActorNotRunning(
                    f'{self.actor!r}: the process forked before the message was handled'))
        ran = self.state == RUNNING and not self.stopping
        settings = self.name, self.priority, self.limit, self.supervisor
        ActorCell.__init__(self, self.actor, self.start_again)  # the parent's lock and latches too
        self.name, self.priority, self.limit, self.supervisor = settings
        try:
            del self.port  # the parent's: the next start attaches the child's
        except AttributeError:  # it never started
            pass
        return ran

    # -- life cycle ----------------------------------------------------------------

    def open(self, mailbox: MessageQueue) -> bool:
        """Mark the actor running with a new, empty *mailbox*; False if it runs already."""
        with self.lock:
            if self.state == RUNNING:
                return False
            self.state = RUNNING
            self.stopping = False
            self.drain = False
            self.dropped = 0
            self.pending = 0
            self.failure = None
            self.stop_hook_ran = False
            self.stopped = Latch()
            self.mailbox = mailbox
        return True

    def attach(self) -> HubPort:
        """Join the running supervisor (started if it starts on use) and return its port.

        On failure (SupervisorNotRunning) the actor is stopped again and the
        error raised.
        """
        host = actor_host(self.the_supervisor())
        try:
            port = host.running_port()
        except BaseException:
            self.state = STOPPED
            self.stopped.set()
            raise
        self.host = host
        self.port = port
        self.hub_thread = port.thread_id
        host.register_actor(self)
        return port

    def end(self) -> None:
        """In the actor's greenlet, as it ends: refuse messages, free blocked senders."""
        with self.lock:
            self.stopping = True
            waiters, self.space_waiters = self.space_waiters, []
        for waiter in waiters:
            waiter.set()

    def request_stop(self, drain: bool) -> bool:
        """Mark a running actor stopping; False if it does not run or stops already."""
        with self.lock:
            if self.state != RUNNING or self.stopping:
                return False
            self.stopping = True
            self.drain = drain
            waiters, self.space_waiters = self.space_waiters, []
        for waiter in waiters:
            waiter.set()
        return True

    def finish_stop(self, wait: bool, limit: float | None) -> None:
        """After `request_stop` returned True: wake the greenlet to end (or end here if
        the hub is gone), then with *wait* wait for the end, *limit* seconds at most
        (not from the actor's own greenlet)."""
        if self.port.finished:
            self.state = STOPPED  # its hub is gone: nothing will run the greenlet
            self.run_exit_hooks()
            self.stopped.set()
        else:
            self.port.call(self.wake)
        if wait and getcurrent() is not self.greenlet:
            self.stopped.wait(limit)

    def started_again_after_fork(self) -> bool:
        """A message to an actor that ran before a fork is a first use: restart the supervisor."""
        host = actor_host(self.the_supervisor())
        if not host.restarts_after_fork(self):
            return False
        host.running_port()  # starts it, and this actor with it
        return self.state == RUNNING

    def run_exit_hooks(self) -> None:
        with self.lock:
            hooks, self.exit_hooks = self.exit_hooks, {}
        for hook in hooks.values():
            try:
                hook(self.actor, self.failure)
            except BaseException:  # every hook runs, and the actor still ends
                logger.exception('actor %s: exit hook %r failed', self.name, hook)

    # -- messages ------------------------------------------------------------------

    def send(self, item: object, priority: int, block: bool) -> None:
        """Deliver *item* (a message or an Envelope) from any thread."""
        if self.state != RUNNING or self.stopping or self.port.finished:
            if not self.started_again_after_fork():
                raise ActorNotRunning(f'{self.actor!r} is not running')
        if self.limit is not None:
            self.reserve_room(self.limit, block)
        port = self.port
        if port.in_owner_thread():
            if self.remote:
                self.drain_remote()
            self.deliver(item, priority)
        else:
            self.remote.append((item, priority))
            port.post(self.drain_remote)

    def ask(self, message: object, timeout: float | None, priority: int) -> Any:
        """Send *message* with a reply and wait for the answer (see ``Actor.ask``).
        Blocks: cooperatively in a greenlet, or the calling OS thread."""
        check_priority(priority)
        limit = check_timeout(timeout)  # before anything is sent
        glet = self.greenlet
        if getcurrent() is glet and glet is not None:
            raise RuntimeError(f'{self.actor!r}: ask() from its own handler would wait for '
                               'itself; use tell() or call the method directly')
        tracer = _tracing.tracer
        reply = Reply()
        self.send(Envelope(message, reply, None if tracer is None else tracer.message_sent()),
                  priority, True)
        if not reply.latch.wait(limit):
            raise TimeoutError(f'{self.actor!r} did not answer within {timeout} s')
        if reply.ok:
            return reply.value
        raise cast(BaseException, reply.value)

    def drain_remote(self) -> None:
        """In the hub's thread: deliver what other threads told, in their order."""
        remote = self.remote
        while remote:
            item, priority = remote.popleft()
            self.deliver(item, priority)

    def reserve_room(self, limit: int, block: bool) -> None:
        while True:
            with self.lock:
                if self.stopping or self.state != RUNNING:
                    raise ActorNotRunning(f'{self.actor!r} is not running')
                if self.pending < limit:
                    self.pending += 1
                    return
                if not block:
                    raise MailboxFull(f'the mailbox of {self.actor!r} is full ({limit})')
                room = Latch()
                self.space_waiters.append(room)
            room.wait()

    def deliver(self, item: object, priority: int) -> None:
        """In the hub's thread: into the mailbox, or dropped if the actor stops."""
        if self.state != RUNNING or (self.stopping and not self.drain):
            self.drop(item)
            return
        self.mailbox.push(item, priority)
        self.wake()

    def drop(self, item: object) -> None:
        """Count *item* as dropped; fail the ask waiting for it, if any."""
        self.dropped += 1
        if type(item) is Envelope and item.reply is not None:
            item.reply.answer(False, ActorNotRunning(
                f'{self.actor!r} stopped before handling the message'))

    def took(self) -> None:
        """A message left a bounded mailbox: make room for one more."""
        if self.limit is not None:
            with self.lock:
                self.pending -= 1
                waiter = self.space_waiters.pop(0) if self.space_waiters else None
            if waiter is not None:
                waiter.set()

    # -- the actor's greenlet --------------------------------------------------------

    def has_mail(self) -> bool:
        """True while the mailbox holds messages (an actor's greenlet has work)."""
        return bool(self.mailbox)

    def wake(self) -> None:
        """In the hub's thread: resume the greenlet if it is parked."""
        if self.sleeping and not self.wake_pending:
            self.wake_pending = True
            self.port.run_callback(self.resume)

    def resume(self) -> None:
        self.wake_pending = False
        glet = self.greenlet
        if self.sleeping and glet is not None:
            glet.switch()

    def park(self) -> None:
        """In the actor's greenlet: wait until `wake`."""
        self.sleeping = True
        try:
            self.port.switch()
        finally:
            self.sleeping = False
