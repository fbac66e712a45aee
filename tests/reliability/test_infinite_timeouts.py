"""``inf`` means "no limit" for every wait, also on an OS thread that runs no hub.

Such a thread waits on an OS lock, whose ``acquire(timeout=inf)`` raises
OverflowError; every wait below blocks for real (the thing waited for is held
until the waiter is parked) and then returns normally.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import gevent
import pytest

import gatasker
from gatasker import TT_GREENLET
from gatasker._bridge import Latch, start_real_thread

INF = float('inf')


def until(condition: Callable[[], object]) -> None:
    """Wait (bounded) for a state with no event to wait on: a waiter being parked."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, 'the waiter never parked'
        gevent.sleep(0.001)  # lets a waiting greenlet of this thread run


def parked(latch: Latch) -> Callable[[], bool]:
    return lambda: bool(latch._waiters)


class Outcome:
    def __init__(self) -> None:
        self.done = Latch()
        self.value: Any = None
        self.error: BaseException | None = None

    def result(self) -> Any:
        assert self.done.wait(30), 'the wait never returned'
        if self.error is not None:
            raise self.error
        return self.value


def call_in(where: str, func: Callable[[], Any]) -> Outcome:
    """Run *func* in a new OS thread (no hub there) or a new greenlet of this thread."""
    outcome = Outcome()

    def body() -> None:
        try:
            outcome.value = func()
        except BaseException as exc:  # handed to the test
            outcome.error = exc
        finally:
            outcome.done.set()

    if where == 'thread':
        start_real_thread(body, 'inf-waiter')
    else:
        gevent.spawn(body)
    return outcome


WHERE = ['thread', 'greenlet']


def gated_task(sup: gatasker.TaskSupervisor) -> tuple[Any, Latch]:
    gate = Latch()
    task = sup.put_task(lambda **_: gate.wait(30) and 'done', tt=TT_GREENLET)
    return task, gate


@pytest.mark.parametrize('where', WHERE)
@pytest.mark.parametrize('how', ['get', 'wait', 'wait_completed'])
def test_task_waits_with_inf(supervisor: gatasker.TaskSupervisor, where: str, how: str) -> None:
    task, gate = gated_task(supervisor)
    waits: dict[str, Callable[[], Any]] = {
        'get': lambda: task.get(timeout=INF),
        'wait': lambda: task.wait(INF),
        'wait_completed': lambda: gatasker.wait_completed([task], timeout=INF),
    }
    outcome = call_in(where, waits[how])
    until(parked(task._core))
    gate.set()
    assert outcome.result() in ('done', True, ['done'])


class Held(gatasker.Actor):
    def __init__(self, gate: Latch) -> None:
        self.gate = gate

    def on_receive(self, message: Any) -> Any:
        self.gate.wait(30)
        return message


@pytest.mark.parametrize('where', WHERE)
def test_ask_and_actor_stop_with_inf(supervisor: gatasker.TaskSupervisor, where: str) -> None:
    gate = Latch()
    actor = Held.spawn(gate, supervisor=supervisor)
    replies: list[Any] = []
    outcome = call_in(where, lambda: replies.append(actor.ask('hi', timeout=INF)))
    until(parked(gate))  # on_receive is handling the message
    stopping = call_in(where, lambda: actor.stop(wait=INF))
    until(parked(actor._actor.stopped))
    gate.set()
    outcome.result()
    assert stopping.result() is True
    assert replies == ['hi']


@pytest.mark.parametrize('where', WHERE)
def test_locker_with_inf(where: str) -> None:
    lock = gatasker.Locker(timeout=INF)
    assert lock.acquire()
    outcome = call_in(where, lambda: lock.acquire() and (lock.release() or 'taken'))
    until(lambda: bool(lock._waiters))
    lock.release()
    assert outcome.result() == 'taken'


@pytest.mark.parametrize('where', WHERE)
def test_stop_with_inf(where: str) -> None:
    sup = gatasker.TaskSupervisor()
    sup.start()
    task, gate = gated_task(sup)
    outcome = call_in(where, lambda: sup.stop(wait=INF))
    until(lambda: sup._core.life.run is not None and sup._core.life.run.quiet is not None
          and bool(sup._core.life.run.quiet._waiters))
    gate.set()
    assert outcome.result() is True
    assert task.result == 'done'
