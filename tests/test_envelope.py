"""What travels with a message: bare told messages, Envelopes for asks and traced messages."""

from __future__ import annotations

import contextlib
import queue
from collections.abc import Iterator
from typing import Any

import pytest

import gatasker
from gatasker import Actor, _tracing
from gatasker._bridge import Latch
from gatasker._envelope import Envelope, Reply
from gatasker._mailbox import HeapMailbox


class _Tracer:
    """Carries a numbered context per send and records which one each handling saw."""

    def __init__(self) -> None:
        self.sent = 0
        self.handled: list[tuple[object, object]] = []

    def message_sent(self) -> object:
        self.sent += 1
        return f'ctx{self.sent}'

    def task_queued(self, task: object, supervisor: object) -> None:
        return None  # tasks carry nothing

    def task_running(self, task: object) -> contextlib.AbstractContextManager[object]:
        return contextlib.nullcontext()

    def coroutine(self, task: object, coro: object) -> object:
        return coro

    def process_target(self, task: object, target: object) -> object:
        return target

    @contextlib.contextmanager
    def message_handling(self, actor: object, carried: object) -> Iterator[None]:
        self.handled.append((actor, carried))
        yield


@pytest.fixture
def tracer() -> Iterator[_Tracer]:
    fake = _Tracer()
    _tracing.tracer = fake  # type: ignore[assignment]
    try:
        yield fake
    finally:
        _tracing.tracer = None


class Echo(Actor):
    def on_start(self) -> None:
        self.seen: list[object] = []

    def on_receive(self, message: Any) -> Any:
        if message == 'boom':
            raise ValueError('boom')
        self.seen.append(message)
        return message


def test_traced_tells_and_asks_carry_their_context_in_order(
        supervisor: gatasker.TaskSupervisor, tracer: _Tracer) -> None:
    actor = Echo.spawn(supervisor=supervisor)
    actor.tell('a')
    actor.tell('b')
    assert actor.ask('c') == 'c'
    with pytest.raises(ValueError, match='boom'):
        actor.ask('boom')
    assert actor.seen == ['a', 'b', 'c']
    assert tracer.handled == [(actor, 'ctx1'), (actor, 'ctx2'), (actor, 'ctx3'), (actor, 'ctx4')]
    actor.stop()


def test_a_traced_item_reaches_a_queue_worker_unwrapped(
        supervisor: gatasker.TaskSupervisor, tracer: _Tracer) -> None:
    got: list[object] = []
    done = Latch()

    def executor(item: object, **kwargs: object) -> None:
        got.append(item)
        if len(got) == 3:
            done.set()

    worker = gatasker.BackgroundQueueWorker(func=executor, supervisor=supervisor,
                                            q=queue.PriorityQueue)
    worker.start()
    for item in [(2, 'b'), (1, 'a'), (3, 'c')]:
        worker.put(item)
    assert done.wait(30)
    assert sorted(got) == [(1, 'a'), (2, 'b'), (3, 'c')]
    assert len(tracer.handled) == 3
    worker.stop()


def test_envelopes_and_bare_messages_order_together_in_a_heap_mailbox() -> None:
    box = HeapMailbox()
    box.push(Envelope((2, 'b')))
    box.push((1, 'a'))
    box.push(Envelope((1, 'a'), context='second'))
    box.push((0, 'z'))
    drained = list(box.drain())
    assert [item.message if isinstance(item, Envelope) else item for item in drained] == [
        (0, 'z'), (1, 'a'), (1, 'a'), (2, 'b')]
    assert drained[1] == (1, 'a') and not isinstance(drained[1], Envelope)  # FIFO among equals
    assert isinstance(drained[2], Envelope) and drained[2].context == 'second'


def test_reply_outcome_returns_the_answer_or_raises_the_failure() -> None:
    reply = Reply()
    reply.answer(True, 42)
    assert reply.latch.wait(0) and reply.outcome() == 42
    failed = Reply()
    failed.answer(False, KeyError('k'))
    with pytest.raises(KeyError):
        failed.outcome()
