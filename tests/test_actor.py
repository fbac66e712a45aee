"""Actors: spawn, tell, ask, priorities, bounded mailboxes, stop."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from zope.interface.verify import verifyObject

import gatasker
from gatasker import TASK_HIGH, Actor, ActorNotRunning, MailboxFull
from gatasker._bridge import Latch, allocate_lock, real_thread_id, start_real_thread


class Counter(Actor):
    def on_start(self) -> None:
        self.n = 0

    def on_receive(self, message: Any) -> Any:
        self.n += message
        return self.n


class Recorder(Actor):
    """Blocks on a gate while handling 'block'; records everything else."""

    def __init__(self, gate: Latch | None = None) -> None:
        self.gate = gate
        self.seen: list[Any] = []
        self.blocked = Latch()

    def on_receive(self, message: Any) -> Any:
        if message == 'block':
            self.blocked.set()
            assert self.gate is not None
            self.gate.wait(30)
        elif message == 'boom':
            raise ValueError('boom')
        self.seen.append(message)
        return message


def test_spec_example(supervisor: gatasker.TaskSupervisor) -> None:
    c = Counter.spawn(supervisor=supervisor)
    c.tell(5)
    assert c.ask(1, timeout=1) == 6
    assert c.stop()
    assert not c.is_alive()


def test_spawn_passes_arguments_and_registers(supervisor: gatasker.TaskSupervisor) -> None:
    class Named(Actor):
        def __init__(self, a: int, b: int = 0) -> None:
            self.total = a + b

        def on_receive(self, message: Any) -> Any:
            return self.total, real_thread_id()

    actor = Named.spawn(1, b=2, name='adder', supervisor=supervisor)
    hub_thread = supervisor.put_task(lambda **_: real_thread_id(),
                                     tt=gatasker.TT_GREENLET).get(timeout=10)
    assert actor.ask(None, timeout=10) == (3, hub_thread)
    assert 'adder' in supervisor.get_info().actors
    assert verifyObject(gatasker.IActor, actor)
    actor.stop()
    assert 'adder' not in supervisor.get_info().actors


def test_ask_raises_what_the_handler_raised_and_the_actor_goes_on(
        supervisor: gatasker.TaskSupervisor) -> None:
    failures: list[BaseException] = []

    class Fragile(Recorder):
        def on_failure(self, exc: BaseException) -> None:
            failures.append(exc)

    actor = Fragile.spawn(supervisor=supervisor)
    with pytest.raises(ValueError, match='boom'):
        actor.ask('boom', timeout=10)
    assert actor.ask('after', timeout=10) == 'after'
    assert [type(f) for f in failures] == [ValueError]
    actor.stop()


def test_on_failure_returning_false_stops_the_actor(supervisor: gatasker.TaskSupervisor,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    class Strict(Recorder):
        def on_failure(self, exc: BaseException) -> bool:
            return False

    actor = Strict.spawn(supervisor=supervisor)
    with caplog.at_level(logging.ERROR, logger='gatasker'):
        actor.tell('boom')
        actor._actor.stopped.wait(10)
    assert not actor.is_alive()
    assert any('failed on' in r.getMessage() for r in caplog.records)
    with pytest.raises(ActorNotRunning):
        actor.tell('x')


def test_a_failing_actor_does_not_affect_another(supervisor: gatasker.TaskSupervisor) -> None:
    fragile = Recorder.spawn(supervisor=supervisor)
    sturdy = Counter.spawn(supervisor=supervisor)
    for _ in range(10):
        fragile.tell('boom')
    assert sturdy.ask(3, timeout=10) == 3
    assert fragile.ask('fine', timeout=10) == 'fine'
    fragile.stop()
    sturdy.stop()


def test_priority_messages_jump_ahead_fifo_within(supervisor: gatasker.TaskSupervisor) -> None:
    gate = Latch()
    actor = Recorder.spawn(gate, supervisor=supervisor)
    actor.tell('block')
    assert actor.blocked.wait(10)
    for i in range(3):
        actor.tell(f'n{i}')
        actor.tell(f'h{i}', priority=TASK_HIGH)
    gate.set()
    assert actor.ask('last', timeout=10) == 'last'
    assert actor.seen == ['block', 'h0', 'h1', 'h2', 'n0', 'n1', 'n2', 'last']
    actor.stop()


def test_ask_to_itself_is_an_error_not_a_deadlock(supervisor: gatasker.TaskSupervisor) -> None:
    class Selfish(Actor):
        def on_receive(self, message: Any) -> Any:
            return self.ask('again', timeout=1)

    actor = Selfish.spawn(supervisor=supervisor)
    with pytest.raises(RuntimeError, match='itself'):
        actor.ask('go', timeout=10)
    actor.stop()


def test_bounded_mailbox(supervisor: gatasker.TaskSupervisor) -> None:
    gate = Latch()
    actor = Recorder.spawn(gate, mailbox_size=2, supervisor=supervisor)
    actor.tell('block')
    assert actor.blocked.wait(10)
    actor.tell(1)
    actor.tell(2)
    with pytest.raises(MailboxFull):
        actor.tell(3)
    told = Latch()
    start_real_thread(lambda: (actor.tell(3, block=True), told.set()), 'teller')
    assert not told.wait(0.05)
    gate.set()
    assert told.wait(10)
    assert actor.ask('end', timeout=10) == 'end'
    assert actor.seen == ['block', 1, 2, 3, 'end']
    actor.stop()
    with pytest.raises(ValueError):
        Recorder.spawn(mailbox_size=0, supervisor=supervisor)


class _Built(Actor):
    built = 0

    def __init__(self) -> None:
        _Built.built += 1


@pytest.mark.parametrize('bad', [object(), 'default', 1])
def test_spawn_refuses_a_supervisor_that_is_not_a_task_supervisor(bad: object) -> None:
    _Built.built = 0
    with pytest.raises(TypeError, match='supervisor must be a TaskSupervisor'):
        _Built.spawn(supervisor=bad)  # type: ignore[arg-type]
    assert _Built.built == 0  # refused before __init__ ran, nothing started


def test_stop_drops_queued_messages_and_fails_their_asks(
        supervisor: gatasker.TaskSupervisor, caplog: pytest.LogCaptureFixture) -> None:
    gate = Latch()
    actor = Recorder.spawn(gate, supervisor=supervisor)
    actor.tell('block')
    assert actor.blocked.wait(10)
    for i in range(5):
        actor.tell(i)
    answer: list[Any] = []
    asked = Latch()

    def ask() -> None:
        try:
            answer.append(actor.ask('question', timeout=30))
        except BaseException as exc:
            answer.append(exc)
        asked.set()

    start_real_thread(ask, 'asker')
    with caplog.at_level(logging.WARNING, logger='gatasker'):
        assert actor.stop(wait=False)  # requested now; the handler in progress goes on
        gate.set()
        assert actor._actor.stopped.wait(10) and asked.wait(10)
    assert actor.seen == ['block']  # nothing queued after it ran
    assert isinstance(answer[0], ActorNotRunning)
    assert any('5 unhandled' in r.getMessage() or '6 unhandled' in r.getMessage()
               for r in caplog.records)


def test_stop_with_drain_handles_what_is_queued(supervisor: gatasker.TaskSupervisor) -> None:
    gate = Latch()
    actor = Recorder.spawn(gate, supervisor=supervisor)
    actor.tell('block')
    assert actor.blocked.wait(10)
    for i in range(5):
        actor.tell(i)
    gate.set()
    assert actor.stop(drain=True)
    assert actor.seen == ['block', 0, 1, 2, 3, 4]
    assert not actor.stop()
    with pytest.raises(ActorNotRunning):
        actor.tell(1)


def test_fifo_per_thread_from_four_threads(supervisor: gatasker.TaskSupervisor) -> None:
    actor = Recorder.spawn(supervisor=supervisor)
    done = [Latch() for _ in range(4)]

    def sender(n: int) -> None:
        for i in range(10_000):
            actor.tell((n, i))
        done[n].set()

    for n in range(4):
        start_real_thread(lambda n=n: sender(n), f'sender{n}')
    assert all(d.wait(60) for d in done)
    actor.ask('barrier', timeout=60)
    seen = actor.seen[:-1]
    assert len(seen) == 40_000
    for n in range(4):
        assert [i for who, i in seen if who == n] == list(range(10_000))
    actor.stop()


def test_supervisor_stop_stops_actors() -> None:
    sup = gatasker.TaskSupervisor()
    sup.start()
    stopped = Latch()

    class Tracked(Counter):
        def on_stop(self) -> None:
            stopped.set()

    actor = Tracked.spawn(supervisor=sup)
    assert actor.ask(1, timeout=10) == 1
    sup.stop()
    assert stopped.is_set() and not actor.is_alive()
    with pytest.raises(gatasker.SupervisorNotRunning):
        Counter.spawn(supervisor=sup)


def test_actor_restarts_after_stop(supervisor: gatasker.TaskSupervisor) -> None:
    actor = Counter.spawn(supervisor=supervisor)
    assert actor.ask(2, timeout=10) == 2
    actor.stop()
    assert actor.start() and not actor.start()
    assert actor.ask(5, timeout=10) == 5  # on_start ran again
    actor.stop()


def test_many_greenlets_ask_concurrently(supervisor: gatasker.TaskSupervisor) -> None:
    actor = Counter.spawn(supervisor=supervisor)
    lock = allocate_lock()
    answers: list[int] = []

    def asker(**_: Any) -> None:
        value = actor.ask(1, timeout=30)
        with lock:
            answers.append(value)

    tasks = [supervisor.put_task(asker, tt=gatasker.TT_GREENLET) for _ in range(200)]
    tasks += [supervisor.put_task(asker, tt=gatasker.TT_THREAD) for _ in range(50)]
    gatasker.wait_completed(tasks, timeout=60)
    assert sorted(answers) == list(range(1, 251))
    actor.stop()
