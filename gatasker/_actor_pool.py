"""ActorPool: a router over N identical, supervised actors.

Routing runs in the hub of the pool's supervisor, like everything about
actors: a message from another thread travels through the hub's inbox
first. A member that goes down (it failed and waits for its restart, or
ended) is skipped, and the messages still queued in its mailbox move to
the other members, so one failing member never holds work back. Messages
wait in the pool, by priority, only while no member is up.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from ._actor import Actor, cell_of
from ._child_spec import ONE_FOR_ONE, ActorSupervisorStatistics, ChildSpec
from ._constants import TASK_NORMAL, check_priority, check_timeout
from ._envelope import Envelope, Reply
from ._errors import ActorNotRunning
from ._fifo import PriorityFifo
from ._logging import logger
from ._supervision import ActorSupervisor
from ._supervisor import TaskSupervisor

ROUND_ROBIN, LEAST_BUSY = 'round_robin', 'least_busy'
ROUTING = (ROUND_ROBIN, LEAST_BUSY)


class _Routed(Reply):
    """One message in the pool: where its answer goes, and its priority."""

    __slots__ = ('asked', 'member', 'message', 'pool', 'priority')

    def __init__(self, pool: _PoolSupervisor, message: object, priority: int,
                 asked: bool) -> None:
        super().__init__()
        self.pool = pool
        self.message = message
        self.priority = priority
        self.asked = asked
        self.member: Actor | None = None

    def answer(self, ok: bool, value: object) -> None:
        # In the hub: the member handled the message, or dropped it unhandled.
        member, self.member = self.member, None
        pool = self.pool
        if member is not None:
            pool.busy[id(member)] -= 1
            if not ok and isinstance(value, ActorNotRunning) and cell_of(member).stopping \
                    and pool.is_accepting():
                pool.route(self)  # dropped by a member that ended: another one takes it
                return
        if not ok and not self.asked:
            logger.error('actor pool %s: a member failed on %r', pool.name, self.message,
                         exc_info=value if isinstance(value, BaseException) else None)
        super().answer(ok, value)
        pool.dispatch()


class _PoolSupervisor(ActorSupervisor):
    """The pool's supervisor: one_for_one over the members, plus the routing."""

    start_failure_is_fatal = False  # a member that does not start is retried

    def __init__(self, factory: Callable[[], Actor], size: int, routing: str,
                 max_restarts: int | None, within: float,
                 backoff: tuple[float, float] | None) -> None:
        specs = [ChildSpec(factory, name=f'{self.name}-{n}') for n in range(size)]
        super().__init__(specs, ONE_FOR_ONE, max_restarts, within, backoff)
        self.routing = routing
        self.pending: PriorityFifo[_Routed] = PriorityFifo()  # waits while no member is up
        self.busy: dict[int, int] = {id(m): 0 for m in self.children()}
        self._turn = itertools.count()

    def is_accepting(self) -> bool:
        return self._accepting() or self._phase == 'starting'

    def _pick(self) -> Actor | None:
        members = [m for m in self.children() if self._is_up(m)]
        if not members:
            return None
        start = next(self._turn) % len(members)
        members = members[start:] + members[:start]  # ties go round
        if self.routing == LEAST_BUSY:
            return min(members, key=lambda m: self.busy[id(m)])
        return members[0]

    def route(self, routed: _Routed) -> None:
        """Hand *routed* to a member that is up, or keep it. In the hub."""
        if not self.is_accepting():
            routed.answer(False, ActorNotRunning(f'actor pool {self.name} is not running'))
            return
        member = self._pick()
        if member is None:
            self.pending.push(routed, routed.priority)
            return
        routed.member = member
        self.busy[id(member)] += 1
        cell_of(member).deliver(Envelope(routed.message, routed), routed.priority)

    def dispatch(self) -> None:
        """Route what waits in the pool while some member is up. In the hub."""
        while self.pending and self._pick() is not None:
            self.route(self.pending.pop())

    def _child_up(self, actor: Actor) -> None:
        self.dispatch()

    def _child_down(self, actor: Actor) -> None:
        # Move what waits in its mailbox to the others; keep what was told to it directly.
        mailbox = cell_of(actor).mailbox
        own = []
        for item in mailbox.drain():
            reply = item.reply if type(item) is Envelope else None
            if isinstance(reply, _Routed) and reply.pool is self:
                self.busy[id(actor)] -= 1
                reply.member = None
                self.route(reply)
            else:
                own.append(item)
        for item in own:
            mailbox.push(item)

    def on_stop(self) -> None:
        super().on_stop()
        for routed in self.pending.drain():
            routed.answer(False, ActorNotRunning(f'actor pool {self.name} stopped'))


class ActorPool:
    """A router over *size* identical actors made by *factory*, supervised.

    ``tell``/``ask`` work as on one actor, priorities included. A member that
    fails is restarted one_for_one after a backoff and skipped while down;
    the messages it still held go to the others. By default there is no
    restart limit, so one member that always fails never stops the pool.
    The pool starts at construction; every method may be called from any
    thread.

    Args:
        factory: Called with no argument for each member (an Actor subclass
            will do).
        size: How many members.
        strategy: ``'round_robin'`` takes the members in turn,
            ``'least_busy'`` the one with the fewest messages in hand (in
            turn among equals).
        max_restarts: As `ActorSupervisor` takes it; None (default) for no
            limit.
        within: As `ActorSupervisor` takes it.
        backoff: As `ActorSupervisor` takes it; by default from 10 ms
            doubling up to 1 s.
        name: The pool's name; members are named ``<name>-<n>``.
        supervisor: The `TaskSupervisor`; the default one when None.
    """

    def __init__(self, factory: Callable[[], Actor], size: int, strategy: str = ROUND_ROBIN,
                 *, max_restarts: int | None = None, within: float = 5.0,
                 backoff: tuple[float, float] | None = (0.01, 1.0), name: str | None = None,
                 supervisor: TaskSupervisor | None = None) -> None:
        if not callable(factory):
            raise TypeError(f'factory must be callable, got {factory!r}')
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f'size must be a positive int, got {size!r}')
        if strategy not in ROUTING:
            raise ValueError(f'strategy must be one of {ROUTING}, got {strategy!r}')
        self._sup = _PoolSupervisor.spawn(factory, size, strategy, max_restarts, within, backoff,
                                          name=name, supervisor=supervisor)

    @property
    def name(self) -> str:
        """The pool's name; members are named ``<name>-<n>``."""
        return self._sup.name

    @property
    def supervisor(self) -> ActorSupervisor:
        """The ActorSupervisor that restarts the members (watch it to see the pool end)."""
        return self._sup

    def members(self) -> list[Actor]:
        """The members. Any thread; never blocks.

        Returns:
            list[Actor]: Each member stays the same object across its restarts.
        """
        return self._sup.children()

    def statistics(self) -> ActorSupervisorStatistics:
        """The members' states and restarts. Any thread; never blocks.

        Returns:
            ActorSupervisorStatistics: A frozen snapshot.
        """
        return self._sup.statistics()

    def tell(self, message: object = None, priority: int = TASK_NORMAL) -> None:
        """Send *message* to one member without waiting.

        Any thread or greenlet; never blocks.

        Args:
            message: Handed to the member's ``on_receive()``.
            priority: ``TASK_CRITICAL``, ``TASK_HIGH``, ``TASK_NORMAL`` or
                ``TASK_LOW``.

        Raises:
            ActorNotRunning: The pool stopped.
        """
        check_priority(priority)
        self._send(_Routed(self._sup, message, priority, asked=False))

    def ask(self, message: object = None, timeout: float | None = None,
            priority: int = TASK_NORMAL) -> object:
        """Send *message* to one member and return its answer.

        Blocks: cooperatively in a greenlet, or the calling OS thread.

        Args:
            message: Handed to the member's ``on_receive()``.
            timeout: Seconds to wait at most; None waits as long as it takes.
            priority: ``TASK_CRITICAL``, ``TASK_HIGH``, ``TASK_NORMAL`` or
                ``TASK_LOW``.

        Returns:
            object: What the member's handler returned.

        Raises:
            TimeoutError: The builtin one, after *timeout* seconds.
            ActorNotRunning: The pool stopped.
            BaseException: What the member's handler raised.
        """
        check_priority(priority)
        limit = check_timeout(timeout)
        routed = _Routed(self._sup, message, priority, asked=True)
        self._send(routed)
        if not routed.latch.wait(limit):
            raise TimeoutError(f'actor pool {self.name} did not answer within {timeout} s')
        return routed.outcome()

    def _send(self, routed: _Routed) -> None:
        sup = self._sup
        port = cell_of(sup).port
        if not sup.is_alive() or port.finished:
            raise ActorNotRunning(f'actor pool {self.name} is not running')
        port.call(sup.route, routed)

    def stop(self, wait: bool | float = True) -> bool:
        """Stop the members and the pool.

        Messages not yet handled fail with ``ActorNotRunning``. Blocks like
        `Actor.stop()`.

        Args:
            wait: As `Actor.stop()` takes it.

        Returns:
            bool: True if it was running, False if not.
        """
        return self._sup.stop(wait=wait)

    def __repr__(self) -> str:
        return f'<ActorPool {self.name!r} of {len(self.members())}>'
