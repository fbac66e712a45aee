"""An actor's greenlet: ``on_start``, its messages one at a time, ``on_stop``.

The loop runs in the supervisor's hub, in the actor's own raw greenlet,
parked (``ActorCell.park``) while there is nothing to do. A supervised actor
that fails asks its guardian whether to start again in place (mailbox kept)
before it ends for good. It calls the user's hooks (``on_*``: the ``Hooks``
Protocol) and takes its steps from the mailbox, or from the `Steps` a worker
gives (its own work: runs of its executor, queue items, events).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, Protocol, TypeVar

from greenlet import GreenletExit

from . import _tracing
from ._actor_cell import STOPPED, ActorCell
from ._envelope import Envelope, Reply
from ._fifo import PriorityFifo
from ._logging import is_debug, logger


class Hooks(Protocol):
    """What the loop calls on its actor."""

    @property
    def name(self) -> str: ...

    @property
    def supervisor(self) -> object: ...

    def on_start(self) -> None: ...

    def on_receive(self, message: object) -> object: ...

    def on_stop(self) -> None: ...

    def on_failure(self, exc: BaseException) -> bool | None: ...


class Steps(NamedTuple):
    """A worker's own steps for its greenlet (an actor takes its mailbox's)."""

    #: True while the greenlet has something to do.
    has_work: Callable[[], bool]
    #: Do one thing (one run of the executor, one item, one event).
    do_work: Callable[[], None]
    #: As the actor ends: account for the work left outside the mailbox.
    drop_leftovers: Callable[[], None]


H = TypeVar('H', bound=Hooks)


def run(actor: H, core: ActorCell[H], steps: Steps | None) -> None:
    """The body of the actor's greenlet: serve, restart in place while its
    guardian says so, then finish. *steps*: a worker's own; None takes the
    mailbox's, where `handle_told` may stand for the loop's steps (an
    unbounded `PriorityFifo`)."""
    if is_debug():
        logger.debug('actor %s started', actor.name)
    fast = steps is None and core.limit is None and isinstance(core.mailbox, PriorityFifo)
    try:
        while True:
            failure = serve(actor, core, fast, steps)
            guardian = core.guardian
            if failure is None or guardian is None or core.stopping:
                break
            call_on_stop(actor, core)
            if not guardian.restart(actor, failure):
                break
            core.failure = None  # restarted in place: a new incarnation
            core.restarts += 1
            core.stop_hook_ran = False
    except GreenletExit:
        pass
    except BaseException as exc:  # a bug: never let it reach the hub's printer
        core.failure = exc
        logger.error('actor %s stopped by an unexpected error', actor.name, exc_info=exc)
    finally:
        finish(actor, core, steps)


def serve(actor: H, core: ActorCell[H], fast: bool, steps: Steps | None
          ) -> BaseException | None:
    """``on_start``, then messages (or a worker's *steps*) until stopped; the
    failure that ended it."""
    guardian = core.guardian
    try:
        if guardian is not None:
            guardian.starting(actor)
        actor.on_start()
    except BaseException as exc:  # GreenletExit too: the actor does not start
        logger.error('actor %s failed to start', actor.name, exc_info=exc)
        core.failure = exc
        return exc
    if guardian is not None:
        guardian.started(actor)
    has_work = core.has_mail if steps is None else steps.has_work
    do_work = None if steps is None else steps.do_work  # None: the mailbox's next item
    while True:
        if fast:
            handle_told(actor, core)
        if core.failure is not None:
            return core.failure
        if core.stopping and not (core.drain and has_work()):
            return None
        if not has_work():
            core.park()
        elif do_work is None:
            handle_next(actor, core)
        else:
            do_work()


def handle_next(actor: H, core: ActorCell[H]) -> None:
    """Take the next mailbox item and handle it."""
    item = core.mailbox.pop()
    if core.limit is not None:
        core.took()
    handle(actor, core, item)


def handle(actor: H, core: ActorCell[H], item: object) -> None:
    """Handle one mailbox item (a bare message or an Envelope)."""
    core.handled += 1
    if type(item) is not Envelope:
        try:
            actor.on_receive(item)
        except BaseException as exc:  # as below
            handler_failed(actor, core, exc, item, None)
        return
    message, reply, context = item.message, item.reply, item.context
    try:
        if context is not None and _tracing.tracer is not None:
            with _tracing.tracer.message_handling(actor, context):
                result = actor.on_receive(message)
        else:
            result = actor.on_receive(message)
    except BaseException as exc:  # GreenletExit too: the ask is answered, the actor goes on
        handler_failed(actor, core, exc, message, reply)
    else:
        if reply is not None:
            reply.answer(True, result)


def handle_told(actor: H, core: ActorCell[H]) -> None:
    """The loop of `serve` for its common case, without three calls per
    message: plain told messages (no ask, no trace context) at the head of an
    unbounded mailbox that holds NORMAL messages only, handled in order."""
    mailbox = core.mailbox
    if not isinstance(mailbox, PriorityFifo):
        return
    normal = mailbox.normal
    on_receive = actor.on_receive
    while normal and mailbox.others is None and core.failure is None and not core.stopping:
        message = normal.popleft()
        if type(message) is Envelope:  # an ask or a traced message: the full path
            handle(actor, core, message)
            continue
        core.handled += 1
        try:
            on_receive(message)
        except BaseException as exc:  # as in handle
            handler_failed(actor, core, exc, message, None)


def handler_failed(actor: H, core: ActorCell[H], exc: BaseException, message: object,
                   reply: Reply | None) -> None:
    """The handler raised *exc*: answer the ask (or log), then ask ``on_failure``."""
    core.failed += 1
    if reply is not None:
        reply.answer(False, exc)
    else:
        logger.error('actor %s failed on %r', actor.name, message, exc_info=exc)
    failed(actor, core, exc)


def failed(actor: H, core: ActorCell[H], exc: BaseException) -> None:
    """Ask ``on_failure`` whether *exc* fails the actor."""
    try:
        keep = actor.on_failure(exc)
    except BaseException as error:  # a failing on_failure decides nothing, a re-raise fails
        if error is not exc:
            logger.exception('%s.on_failure failed', actor.name)
            keep = None
        else:
            keep = False  # re-raised: not absorbed
    if keep is False:
        core.failure = exc  # the loop ends after this message


def call_on_stop(actor: H, core: ActorCell[H]) -> None:
    core.stop_hook_ran = True
    try:
        actor.on_stop()
    except BaseException:  # a gevent.Timeout firing in on_stop too: the actor still ends
        logger.exception('%s.on_stop failed', actor.name)


def finish(actor: H, core: ActorCell[H], steps: Steps | None) -> None:
    """The actor ended: drop what is left, ``on_stop`` if still due, unregister,
    run the exit hooks, then set ``stopped``."""
    core.end()
    core.drain_remote()  # delivered while stopping: dropped and counted
    for item in core.mailbox.drain():
        core.drop(item)
    if steps is not None:
        steps.drop_leftovers()
    if core.dropped:
        logger.warning('actor %s stopped with %d unhandled message(s) dropped',
                       actor.name, core.dropped)
    try:
        if not core.stop_hook_ran:
            call_on_stop(actor, core)
    finally:
        core.state = STOPPED
        core.greenlet = None
        if core.host is not None:
            core.host.unregister_actor(core)
        if is_debug():
            logger.debug('actor %s stopped', actor.name)
        core.run_exit_hooks()  # before stopped is set: stop(wait) returns after them
        core.stopped.set()
