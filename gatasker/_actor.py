"""Actors: objects that handle their messages one at a time in their own greenlet.

Every actor lives in its supervisor's hub. A ``tell`` from that hub's thread
puts the message straight into the actor's mailbox; a ``tell`` from any other
thread travels through the supervisor's thread-safe inbox, so an actor needs
no async watcher of its own (libev scans every async watcher on each wake-up,
which would make a hundred thousand actors expensive).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, cast

from greenlet import GreenletExit, getcurrent
from zope.interface import implementer

from . import _logging, _tracing
from ._bridge import Latch, allocate_lock, real_thread_id
from ._constants import TASK_NORMAL, check_priority, check_timeout
from ._default import task_supervisor
from ._errors import ActorNotRunning, MailboxFull
from ._interfaces import IActor
from ._logging import logger
from ._mailbox import Mailbox
from ._port import ActorHost, HubPort
from ._supervisor import actor_host

if TYPE_CHECKING:
    from typing_extensions import Self  # annotations only: no run-time dependency

_names = itertools.count(1)
STOPPED, RUNNING = 'stopped', 'running'


class _Told:
    """What travels with a told message while a tracer carries its context.

    Nobody waits for a told message: :meth:`answer` does nothing.
    """

    __slots__ = ('context',)

    #: True when a sender waits for :meth:`answer`.
    waits = False

    def __init__(self, context: Any) -> None:
        self.context = context

    def answer(self, ok: bool, value: Any) -> None:
        """Nothing: the sender does not wait."""

    def __lt__(self, other: object) -> bool:
        return False  # a priority-queue worker compares (item, _Told) pairs of equal items


def _told() -> _Told | None:
    """The carrier of the caller's trace context for a told message, if a tracer wants one."""
    tracer = _tracing.tracer
    if tracer is None:
        return None
    context = tracer.message_sent()
    return None if context is None else _Told(context)


class _Reply(_Told):
    """Where ``ask`` waits for the handler's answer."""

    __slots__ = ('latch', 'ok', 'value')

    waits = True

    def __init__(self, context: Any = None) -> None:
        super().__init__(context)
        self.latch = Latch()
        self.ok = False
        self.value: Any = None

    def answer(self, ok: bool, value: Any) -> None:
        self.ok, self.value = ok, value
        self.latch.set()


#: What an actor calls when it ends for good: ``hook(actor, reason)`` in its hub.
ExitHook = Callable[['Actor', 'BaseException | None'], None]


class Guardian(Protocol):
    """What a supervised actor calls in its own greenlet (see ``_supervision``)."""

    def starting(self, child: Actor) -> None:
        """Before ``on_start``; may raise, which fails the start."""

    def started(self, child: Actor) -> None:
        """After ``on_start`` returned."""

    def restart(self, child: Actor, failure: BaseException) -> bool:
        """After a failure (``on_stop`` already ran): True once the actor may start
        again in place, keeping its mailbox; False to end for good. Blocks the
        child's greenlet cooperatively."""


class _ActorCore:
    """An actor's private state, kept apart from the user's attributes."""

    __slots__ = (
        'drain',
        'dropped',
        'exit_hooks',
        'failed',
        'failure',
        'greenlet',
        'guardian',
        'handled',
        'host',
        'hub_thread',
        'limit',
        'lock',
        'mailbox',
        'name',
        'pending',
        'port',
        'priority',
        'remote',
        'restarts',
        'sleeping',
        'space_waiters',
        'state',
        'stop_hook_ran',
        'stopped',
        'stopping',
        'supervisor',
        'wake_pending',
    )

    #: The hub it runs in; set by the first start (nothing reads it before).
    port: HubPort

    def __init__(self) -> None:
        self.name: str | None = None
        self.priority = TASK_NORMAL
        self.supervisor: Any = None
        self.limit: int | None = None
        self.mailbox: Any = None
        self.state = STOPPED
        self.stopping = False
        self.drain = False
        self.host: ActorHost | None = None  # its supervisor, as actors see it
        self.greenlet: Any = None
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
        self.remote: deque[tuple[Any, int]] = deque()
        # Supervision: why the actor failed (None: it did not), who restarts
        # it, and who hears of its end (death-watch), keyed by the listener.
        self.failure: BaseException | None = None
        self.guardian: Guardian | None = None
        self.exit_hooks: dict[object, ExitHook] = {}
        self.stop_hook_ran = False


def _check_options(name: Any, priority: Any, mailbox_size: Any) -> None:
    if name is not None and not isinstance(name, str):
        raise TypeError(f'name must be a str or None, got {name!r}')
    check_priority(priority)
    if mailbox_size is not None and (isinstance(mailbox_size, bool)
                                     or not isinstance(mailbox_size, int) or mailbox_size < 1):
        raise ValueError(f'mailbox_size must be a positive int or None, got {mailbox_size!r}')


_M_contra = TypeVar('_M_contra', contravariant=True)
_R_co = TypeVar('_R_co', covariant=True)


class _Receives(Protocol[_M_contra, _R_co]):
    """An actor seen through its ``on_receive``: what ``ask()`` sends and answers."""

    def on_receive(self, message: _M_contra) -> _R_co: ...


@implementer(IActor)
class Actor:
    """Subclass and override :meth:`on_receive`; create with :meth:`spawn`.

    Hooks: :meth:`on_start`, :meth:`on_receive`, :meth:`on_stop`,
    :meth:`on_failure`. Messages are handled one at a time, in the order
    received, FIFO within a priority (``tell(message, priority=TASK_HIGH)``
    jumps ahead of normal messages).
    """

    _actor: _ActorCore
    #: The mailbox class a subclass uses (a queue worker may pick another).
    mailbox_class: ClassVar[type] = Mailbox

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        self = super().__new__(cls)
        self._actor = _ActorCore()
        return self

    @classmethod
    def spawn(cls, *args: Any, name: str | None = None, priority: int = TASK_NORMAL,
              supervisor: Any = None, mailbox_size: int | None = None, **kwargs: Any) -> Self:
        """Construct the actor with ``cls(*args, **kwargs)``, start it and return it.

        *name*, *priority*, *supervisor* and *mailbox_size* configure the actor
        and are not passed to ``__init__``. Raises SupervisorNotRunning if
        the supervisor is not running (the default one starts lazily).
        """
        actor: Self = cls.__new__(cls)
        actor._configure_actor(name, priority, supervisor, mailbox_size)
        cls.__init__(actor, *args, **kwargs)
        actor.start()
        return actor

    def _configure_actor(self, name: str | None = None, priority: int = TASK_NORMAL,
                         supervisor: Any = None, mailbox_size: int | None = None) -> None:
        _check_options(name, priority, mailbox_size)
        core = self._actor
        core.name = name
        core.priority = priority
        core.supervisor = supervisor
        core.limit = mailbox_size

    # -- hooks ---------------------------------------------------------------

    def on_start(self) -> None:
        """Called in the actor's greenlet before the first message."""

    def on_receive(self, message: Any) -> Any:
        """Handle one message; what it returns answers an ``ask``."""
        raise NotImplementedError(f'{type(self).__name__} does not handle messages')

    def on_stop(self) -> None:
        """Called in the actor's greenlet after the last message."""

    def on_failure(self, exc: BaseException) -> bool | None:
        """Called after a handler raised *exc*; return False (or re-raise *exc*)
        to fail the actor: it stops, or its supervisor restarts it."""
        return None

    def on_restart(self, exc: BaseException | None) -> None:
        """Called in the actor's greenlet before ``on_start`` when a supervisor
        restarts it; *exc* is the failure that caused the restart (None after a
        normal end). The state was already rebuilt from the original arguments."""

    def watch(self, other: Actor) -> None:
        """Receive ``Terminated(other, reason)`` when *other* ends (at once if it
        is not running). The watch ends with either actor. Any thread; never blocks."""
        from ._watch import watch
        watch(self, other)

    def unwatch(self, other: Actor) -> None:
        """Stop watching *other*. Any thread; never blocks."""
        from ._watch import unwatch
        unwatch(self, other)

    # -- properties ---------------------------------------------------------------

    @property
    def name(self) -> str:
        """The actor's name (``<class>-<n>`` unless one was given)."""
        core = self._actor
        if core.name is None:
            core.name = f'{type(self).__name__}-{next(_names)}'
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
    def supervisor(self) -> Any:
        """The supervisor the actor runs under (the default one unless given)."""
        if self._actor.supervisor is None:
            return task_supervisor
        return self._actor.supervisor

    def is_alive(self) -> bool:
        """True while the actor takes messages. Any thread; never blocks."""
        core = self._actor
        return core.state == RUNNING and not core.stopping

    def __repr__(self) -> str:
        return f'<{type(self).__name__} {self.name!r} {self._actor.state}>'

    # -- life cycle -------------------------------------------------------------

    def start(self) -> bool:
        """Start taking messages; False if already running.

        Raises SupervisorNotRunning if the supervisor is not running. Any
        thread or greenlet; never blocks for long.
        """
        core = self._actor
        with core.lock:
            if core.state == RUNNING:
                return False
            core.state = RUNNING
            core.stopping = False
            core.drain = False
            core.dropped = 0
            core.pending = 0
            core.failure = None
            core.stop_hook_ran = False
            core.stopped = Latch()
            core.mailbox = self.mailbox_class()
        host = actor_host(self.supervisor)
        try:
            port = host.running_port()
        except BaseException:
            core.state = STOPPED
            core.stopped.set()
            raise
        core.host = host
        core.port = port
        core.hub_thread = port.thread_id
        host.register_actor(self)
        self._on_actor_start()
        port.call(self._spawn_greenlet, port)
        return True

    def _on_actor_start(self) -> None:
        """Hook for subclasses, in the caller's thread, before the greenlet starts."""

    def _forget_parent(self) -> bool:
        """In a forked child: a fresh, stopped core; True if the actor ran in the parent.

        What its mailbox held is the parent's and is not handled here; an
        ``ask`` waiting for one of those messages fails with ActorNotRunning.
        """
        old = self._actor
        core = _ActorCore()
        core.name, core.priority, core.limit = old.name, old.priority, old.limit
        core.supervisor = old.supervisor
        self._actor = core
        waiting = [item for item, _ in old.remote]
        while old.mailbox:
            waiting.append(old.mailbox.pop())
        for _, reply in waiting:
            if reply is not None:
                reply.answer(False, ActorNotRunning(
                    f'{self!r}: the process forked before the message was handled'))
        return old.state == RUNNING and not old.stopping

    def _started_again_after_fork(self) -> bool:
        """A message to an actor that ran before a fork is a first use: restart the supervisor."""
        host = actor_host(self.supervisor)
        if not host.restarts_after_fork(self):
            return False
        host.running_port()  # starts it, and this actor with it
        return self._actor.state == RUNNING

    def _start_again(self) -> None:
        """Start as the parent had started it (its arguments and settings kept)."""
        Actor.start(self)

    def _spawn_greenlet(self, port: HubPort) -> None:
        self._actor.greenlet = port.spawn_raw(self._main)

    def stop(self, wait: bool | float = True, drain: bool = False) -> bool:
        """Stop after the message being handled; return False if not running.

        Messages still queued are dropped and counted in the log (pending
        asks fail with ActorNotRunning), unless *drain* handles them first.
        With *wait* (True or seconds) blocks until the actor ended —
        cooperatively in a greenlet — except when called from its own handler.
        """
        limit = None if wait is True or wait is False else check_timeout(wait, 'wait')
        core = self._actor
        with core.lock:
            if core.state != RUNNING or core.stopping:
                running = False
            else:
                running = True
                core.stopping = True
                core.drain = drain
                waiters, core.space_waiters = core.space_waiters, []
        if not running:
            return False
        for waiter in waiters:
            waiter.set()
        self._on_actor_stop()
        if core.port.finished:
            core.state = STOPPED  # its hub is gone: nothing will run the greenlet
            self._run_exit_hooks()
            core.stopped.set()
        else:
            core.port.call(self._wake)
        if wait is not False and getcurrent() is not core.greenlet:
            core.stopped.wait(limit)
        return True

    def _on_actor_stop(self) -> None:
        """Hook for subclasses, in the caller's thread, when a stop is requested."""

    # -- messages ---------------------------------------------------------------

    def tell(self, message: Any = None, priority: int = TASK_NORMAL, block: bool = False) -> None:
        """Send *message* without waiting for it to be handled.

        Raises ActorNotRunning when the actor is not running, and MailboxFull
        when a bounded mailbox is full (with ``block=True`` it waits for room
        instead). Any thread or greenlet; never blocks unless *block*.
        """
        core = self._actor
        if priority != TASK_NORMAL:
            check_priority(priority)
        if core.limit is None and core.state is RUNNING and not core.stopping \
                and real_thread_id() == core.hub_thread:
            # The common case, inlined: same thread, unbounded mailbox.
            if core.remote:
                self._drain_remote()
            item = (message, None if _tracing.tracer is None else _told())
            mailbox = core.mailbox
            if priority == TASK_NORMAL and type(mailbox) is Mailbox:
                mailbox.normal.append(item)
            else:
                mailbox.push(item, priority)
            if core.sleeping and not core.wake_pending:
                core.wake_pending = True
                core.port.run_callback(self._resume)
            return
        self._send((message, None if _tracing.tracer is None else _told()), priority, block)

    def ask(self: _Receives[_M_contra, _R_co], message: _M_contra | None = None,
            timeout: float | None = None, priority: int = TASK_NORMAL) -> _R_co:
        """Send *message* and wait for ``on_receive``'s answer; re-raise its exception.

        Typed from the subclass's ``on_receive``: the message must be what it
        takes, and the answer is what it returns.

        Raises the builtin TimeoutError after *timeout* seconds, ActorNotRunning
        if the actor stops first, RuntimeError when called from the actor's own
        handler (it would wait for itself). Blocks: cooperatively in a greenlet,
        or the calling OS thread.
        """
        answer: _R_co = cast(Actor, self)._ask(message, timeout, priority)
        return answer

    def _ask(self, message: Any, timeout: float | None, priority: int) -> Any:
        check_priority(priority)
        limit = check_timeout(timeout)  # before anything is sent
        core = self._actor
        if getcurrent() is core.greenlet and core.greenlet is not None:
            raise RuntimeError(f'{self!r}: ask() from its own handler would wait for itself; '
                               'use tell() or call the method directly')
        tracer = _tracing.tracer
        reply = _Reply(None if tracer is None else tracer.message_sent())
        self._send((message, reply), priority, True)
        if not reply.latch.wait(limit):
            raise TimeoutError(f'{self!r} did not answer within {timeout} s')
        if reply.ok:
            return reply.value
        raise reply.value

    def _send(self, item: tuple[Any, _Told | None], priority: int, block: bool) -> None:
        core = self._actor
        if core.state != RUNNING or core.stopping or core.port.finished:
            if not self._started_again_after_fork():
                raise ActorNotRunning(f'{self!r} is not running')
        if core.limit is not None:
            self._reserve_room(block)
        port = core.port
        if port.in_owner_thread():
            if core.remote:
                self._drain_remote()
            self._deliver(item, priority)
        else:
            core.remote.append((item, priority))
            port.post(self._drain_remote)

    def _drain_remote(self) -> None:
        # In the hub's thread: deliver what other threads told, in their order.
        remote = self._actor.remote
        while remote:
            item, priority = remote.popleft()
            self._deliver(item, priority)

    def _reserve_room(self, block: bool) -> None:
        core = self._actor
        while True:
            with core.lock:
                if core.stopping or core.state != RUNNING:
                    raise ActorNotRunning(f'{self!r} is not running')
                if core.pending < core.limit:  # type: ignore[operator]
                    core.pending += 1
                    return
                if not block:
                    raise MailboxFull(f'the mailbox of {self!r} is full ({core.limit})')
                room = Latch()
                core.space_waiters.append(room)
            room.wait()

    def _deliver(self, item: tuple[Any, _Told | None], priority: int) -> None:
        # In the hub's thread.
        core = self._actor
        if core.state != RUNNING or (core.stopping and not core.drain):
            self._drop(item)
            return
        core.mailbox.push(item, priority)
        self._wake()

    def _drop(self, item: tuple[Any, _Told | None]) -> None:
        self._actor.dropped += 1
        reply = item[1]
        if reply is not None:
            reply.answer(False, ActorNotRunning(f'{self!r} stopped before handling the message'))

    def _wake(self) -> None:
        # In the hub's thread: resume the greenlet if it is parked.
        core = self._actor
        if core.sleeping and not core.wake_pending:
            core.wake_pending = True
            core.port.run_callback(self._resume)

    def _resume(self) -> None:
        core = self._actor
        core.wake_pending = False
        if core.sleeping:
            core.greenlet.switch()

    def _took(self) -> None:
        # A message left a bounded mailbox: make room for one more.
        core = self._actor
        if core.limit is not None:
            with core.lock:
                core.pending -= 1
                waiter = core.space_waiters.pop(0) if core.space_waiters else None
            if waiter is not None:
                waiter.set()

    # -- the actor's greenlet ------------------------------------------------------

    def _has_work(self) -> bool:
        return bool(self._actor.mailbox)

    def _do_work(self) -> None:
        core = self._actor
        item = core.mailbox.pop()
        if core.limit is not None:
            self._took()
        self._handle(item)

    def _handle(self, item: tuple[Any, _Told | None]) -> None:
        message, reply = item
        self._actor.handled += 1
        try:
            if reply is not None and reply.context is not None and _tracing.tracer is not None:
                with _tracing.tracer.message_handling(self, reply.context):
                    result = self.on_receive(message)
            else:
                result = self.on_receive(message)
        except BaseException as exc:  # GreenletExit too: the ask is answered, the actor goes on
            self._handler_failed(exc, message, reply)
        else:
            if reply is not None:
                reply.answer(True, result)

    def _handler_failed(self, exc: BaseException, message: Any, reply: _Told | None) -> None:
        self._actor.failed += 1
        if reply is not None and reply.waits:
            reply.answer(False, exc)
        else:
            logger.error('actor %s failed on %r', self.name, message, exc_info=exc)
        self._failed(exc)

    def _handle_told(self) -> None:
        """The loop of :meth:`_serve` for its common case, without three calls per
        message: plain told messages (no ask, no trace context) at the head of an
        unbounded mailbox that holds NORMAL messages only, handled in order."""
        core = self._actor
        mailbox = core.mailbox
        normal = mailbox.normal
        on_receive = self.on_receive
        while normal and mailbox.others is None and core.failure is None and not core.stopping:
            message, told = normal.popleft()
            if told is not None:  # an ask or a traced message: the full path
                self._handle((message, told))
                continue
            core.handled += 1
            try:
                on_receive(message)
            except BaseException as exc:  # as in _handle
                self._handler_failed(exc, message, None)

    def _told_fast_path(self) -> bool:
        """True if :meth:`_handle_told` may stand for this actor's loop steps."""
        cls = type(self)
        return (cls._has_work is Actor._has_work and cls._do_work is Actor._do_work
                and cls._handle is Actor._handle and self._actor.limit is None
                and type(self._actor.mailbox) is Mailbox)

    def _failed(self, exc: BaseException) -> None:
        try:
            keep = self.on_failure(exc)
        except BaseException as error:  # a failing on_failure decides nothing, a re-raise fails
            if error is not exc:
                logger.exception('%s.on_failure failed', self.name)
                keep = None
            else:
                keep = False  # re-raised: not absorbed
        if keep is False:
            self._actor.failure = exc  # the loop ends after this message

    def _park(self) -> None:
        core = self._actor
        core.sleeping = True
        try:
            core.port.switch()
        finally:
            core.sleeping = False

    def _main(self) -> None:
        core = self._actor
        if _logging._debug:
            logger.debug('actor %s started', self.name)
        try:
            while True:
                failure = self._serve()
                guardian = core.guardian
                if failure is None or guardian is None or core.stopping:
                    break
                self._call_on_stop()
                if not guardian.restart(self, failure):
                    break
                core.failure = None  # restarted in place: a new incarnation
                core.restarts += 1
                core.stop_hook_ran = False
        except GreenletExit:
            pass
        except BaseException as exc:  # a bug: never let it reach the hub's printer
            core.failure = exc
            logger.error('actor %s stopped by an unexpected error', self.name, exc_info=exc)
        finally:
            self._finish()

    def _serve(self) -> BaseException | None:
        """``on_start``, then messages until stopped; the failure that ended it."""
        core = self._actor
        guardian = core.guardian
        try:
            if guardian is not None:
                guardian.starting(self)
            self.on_start()
        except BaseException as exc:  # GreenletExit too: the actor does not start
            logger.error('actor %s failed to start', self.name, exc_info=exc)
            core.failure = exc
            return exc
        if guardian is not None:
            guardian.started(self)
        fast = self._told_fast_path()
        while True:
            if fast:
                self._handle_told()
            if core.failure is not None:
                return core.failure
            if core.stopping and not (core.drain and self._has_work()):
                return None
            if self._has_work():
                self._do_work()
            else:
                self._park()

    def _call_on_stop(self) -> None:
        self._actor.stop_hook_ran = True
        try:
            self.on_stop()
        except BaseException:  # a gevent.Timeout firing in on_stop too: the actor still ends
            logger.exception('%s.on_stop failed', self.name)

    def _finish(self) -> None:
        core = self._actor
        with core.lock:
            core.stopping = True
            waiters, core.space_waiters = core.space_waiters, []
        for waiter in waiters:
            waiter.set()
        self._drain_remote()  # delivered while stopping: dropped and counted
        if core.mailbox is not None:
            for item in core.mailbox.drain():
                self._drop(item)
        self._drop_leftovers()
        if core.dropped:
            logger.warning('actor %s stopped with %d unhandled message(s) dropped',
                           self.name, core.dropped)
        try:
            if not core.stop_hook_ran:
                self._call_on_stop()
        finally:
            core.state = STOPPED
            core.greenlet = None
            if core.host is not None:
                core.host.unregister_actor(self)
            if _logging._debug:
                logger.debug('actor %s stopped', self.name)
            self._run_exit_hooks()  # before stopped is set: stop(wait) returns after them
            core.stopped.set()

    def _run_exit_hooks(self) -> None:
        core = self._actor
        with core.lock:
            hooks, core.exit_hooks = core.exit_hooks, {}
        for hook in hooks.values():
            try:
                hook(self, core.failure)
            except BaseException:  # every hook runs, and the actor still ends
                logger.exception('actor %s: exit hook %r failed', self.name, hook)

    def _drop_leftovers(self) -> None:
        """Hook: subclasses with work outside the mailbox account for it here."""
