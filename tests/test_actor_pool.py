"""ActorPool: routing, priorities, members down skipped, one always-failing member."""

from __future__ import annotations

from typing import Any

import gevent
import pytest
from greenlet import GreenletExit

import gatasker
from gatasker import TASK_HIGH, TASK_LOW, Actor, ActorNotRunning, ActorPool
from gatasker._bridge import Latch

BASE_EXCEPTIONS = [ValueError('boom'), SystemExit(3), KeyboardInterrupt(), GreenletExit(),
                   gevent.Timeout()]


class Member(Actor):
    def __init__(self) -> None:
        self.seen: list[Any] = []

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, Latch):
            message.wait(30)
        elif isinstance(message, tuple) and message[0] == 'hold':
            message[1].set()  # entered
            message[2].wait(30)
        elif message == 'fail':
            raise ValueError('fail')
        elif message == 'seen':
            return list(self.seen)
        else:
            self.seen.append(message)
        return self.name, message

    def on_failure(self, exc: BaseException) -> bool:
        return False


def asks(pool: ActorPool, messages: list[Any]) -> list[gevent.Greenlet]:
    """Ask every message from its own greenlet, sent in this order."""
    greenlets = [gevent.spawn(pool.ask, message, 30) for message in messages]
    gevent.sleep(0)  # each greenlet runs up to its wait: every message is sent
    return greenlets


def test_round_robin(supervisor: gatasker.TaskSupervisor) -> None:
    pool = ActorPool(Member, 3, name='rr', supervisor=supervisor)
    answers = [pool.ask(n, timeout=10) for n in range(6)]
    assert answers == [('rr-0', 0), ('rr-1', 1), ('rr-2', 2), ('rr-0', 3), ('rr-1', 4),
                       ('rr-2', 5)]
    assert [m.name for m in pool.members()] == ['rr-0', 'rr-1', 'rr-2']
    pool.stop()


def test_least_busy_skips_the_busy_member(supervisor: gatasker.TaskSupervisor) -> None:
    pool = ActorPool(Member, 3, 'least_busy', name='lb', supervisor=supervisor)
    gate = Latch()
    held = asks(pool, [gate])  # goes to lb-0, which then holds it
    answers = [pool.ask(n, timeout=10) for n in range(4)]
    assert {name for name, _ in answers} == {'lb-1', 'lb-2'}  # the idle ones, in turn
    gate.set()
    assert held[0].get(timeout=10)[0] == 'lb-0'
    pool.stop()


def test_priority_is_kept(supervisor: gatasker.TaskSupervisor) -> None:
    pool = ActorPool(Member, 1, name='p', supervisor=supervisor)
    gate = Latch()
    pool.tell(gate)
    pool.tell('low', priority=TASK_LOW)
    pool.tell('normal')
    pool.tell('high', priority=TASK_HIGH)
    gate.set()
    assert pool.ask('seen', timeout=10, priority=TASK_LOW) == ['high', 'normal', 'low']
    pool.stop()


def test_a_crashed_members_queue_moves_to_the_others(supervisor: gatasker.TaskSupervisor
                                                     ) -> None:
    pool = ActorPool(Member, 2, name='c', backoff=(3600.0, 3600.0), supervisor=supervisor)
    gate = Latch()
    # c-0 gets the gate, 'fail', 'y' and 'z'; c-1 the rest.
    pending = asks(pool, [gate, 'x', 'fail', 'w', 'y', 'v', 'z'])
    gate.set()
    with pytest.raises(ValueError, match='fail'):
        pending[2].get(timeout=30)  # the failing message is reported, not redelivered
    answers = [g.get(timeout=30) for g in pending[3:]] + [pending[1].get(timeout=30)]
    assert sorted(answers) == [('c-1', 'v'), ('c-1', 'w'), ('c-1', 'x'), ('c-1', 'y'),
                               ('c-1', 'z')]
    assert pool.statistics().children[0].state == 'restarting'  # down for an hour
    assert pool.ask('more', timeout=10) == ('c-1', 'more')  # skipped while down
    pool.stop()


@pytest.mark.parametrize('exc', BASE_EXCEPTIONS, ids=lambda e: type(e).__name__)
def test_one_always_failing_member_never_jams_the_pool(supervisor: gatasker.TaskSupervisor,
                                                       exc: BaseException) -> None:
    class Flaky(Member):
        def on_start(self) -> None:
            if self.name.endswith('-1'):
                raise exc

    pool = ActorPool(Flaky, 3, name='f', backoff=(0.001, 0.01), supervisor=supervisor)
    pending = asks(pool, list(range(60)))
    answers = [g.get(timeout=30) for g in pending]
    for n in range(60, 120):
        answers.append(pool.ask(n, timeout=30))
    assert sorted(message for _, message in answers) == list(range(120))  # every one served
    assert {name for name, _ in answers} == {'f-0', 'f-2'}
    pool.stop()
    stats = pool.statistics()
    assert stats.state == 'stopped' and [c.state for c in stats.children] == ['stopped'] * 3


def test_stop_fails_what_is_left(supervisor: gatasker.TaskSupervisor) -> None:
    pool = ActorPool(Member, 1, supervisor=supervisor)
    entered, gate = Latch(), Latch()
    held = asks(pool, [('hold', entered, gate)])
    assert entered.wait(10)
    held += asks(pool, ['queued'])
    pool.supervisor.ask(None, timeout=10)  # 'queued' was routed before this was answered
    stopper = gevent.spawn(pool.stop)
    member = pool.members()[0]
    for _ in range(3000):  # until the member was asked to stop (it still holds 'hold')
        if member._actor.stopping:
            break
        gevent.sleep(0.01)
    else:
        pytest.fail('the member was never asked to stop')
    gate.set()
    stopper.get(timeout=30)
    assert held[0].get(timeout=30)[1][0] == 'hold'
    with pytest.raises(ActorNotRunning):
        held[1].get(timeout=30)
    with pytest.raises(ActorNotRunning):
        pool.tell('late')
    assert not any(m.is_alive() for m in pool.members())


def test_bad_input(supervisor: gatasker.TaskSupervisor) -> None:
    with pytest.raises(TypeError):
        ActorPool('Member', 2, supervisor=supervisor)  # type: ignore[arg-type]
    for size in (0, -1, True, 1.5):
        with pytest.raises(ValueError):
            ActorPool(Member, size, supervisor=supervisor)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ActorPool(Member, 2, 'random', supervisor=supervisor)
    pool = ActorPool(Member, 1, supervisor=supervisor)
    with pytest.raises(ValueError):
        pool.tell('x', priority=7)
    with pytest.raises(ValueError):
        pool.ask('x', timeout=-1)
    assert pool.ask('seen', timeout=10) == []  # nothing was sent
    pool.stop()
    assert supervisor.get_info().actors == []
