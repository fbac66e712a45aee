"""``supervisor.stop()`` called by code the supervisor runs returns, and everything ends.

The stop sequence must never wait on the component whose code is blocked in
``stop()``: a worker's executor or ``on_error``, an actor's handler or
``on_start``, a coroutine on an aloop, a task callback, a task.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import gatasker
from gatasker import TT_GREENLET, TT_THREAD
from gatasker._bridge import Latch

WAIT = 30


class Inside:
    """Calls ``sup.stop()`` once and records that it returned."""

    def __init__(self, sup: gatasker.TaskSupervisor) -> None:
        self.sup = sup
        self.returned = Latch()
        self.result: Any = None
        self.calls = 0

    def __call__(self, *_: Any, **__: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            self.result = self.sup.stop()
            self.returned.set()
        return False  # a worker stops after it

    def check(self) -> None:
        assert self.returned.wait(WAIT), 'stop() from inside never returned'
        assert self.result is True
        assert not self.sup.is_started()


def _ended(*actors: gatasker.Actor) -> None:
    for actor in actors:
        assert actor._actor.stopped.wait(WAIT), f'{actor!r} never ended'


def task_greenlet(sup: gatasker.TaskSupervisor, inside: Inside) -> None:
    task = sup.put_task(inside, tt=TT_GREENLET)
    inside.check()
    assert task.wait(WAIT) and task.is_completed()


def task_thread(sup: gatasker.TaskSupervisor, inside: Inside) -> None:
    task = sup.put_task(inside, tt=TT_THREAD)
    inside.check()
    assert task.wait(WAIT) and task.is_completed()


def task_callback(sup: gatasker.TaskSupervisor, inside: Inside) -> None:
    task = sup.put_task(lambda **_: 1, callback=inside)
    inside.check()
    assert task.result == 1


def _worker(sup: gatasker.TaskSupervisor, inside: Inside, tt: int) -> None:
    worker = gatasker.BackgroundWorker(func=inside, tt=tt, supervisor=sup)
    worker.start()
    inside.check()
    _ended(worker)


def worker_executor_greenlet(sup: gatasker.TaskSupervisor, inside: Inside) -> None:
    _worker(sup, inside, TT_GREENLET)


def worker_executor_thread(sup: gatasker.TaskSupervisor, inside: Inside) -> None:
    _worker(sup, inside, TT_THREAD)


def worker_on_error(sup: gatasker.TaskSupervisor, inside: Inside) -> None:
    def fail(**_: Any) -> None:
        raise ValueError('so on_error runs')
    worker = gatasker.BackgroundWorker(func=fail, tt=TT_GREENLET, on_error=inside,
                                       supervisor=sup)
    worker.start()
    inside.check()
    _ended(worker)


class Stopper(gatasker.Actor):
    def __init__(self, inside: Inside, where: str) -> None:
        self.inside = inside
        self.where = where

    def on_start(self) -> None:
        if self.where == 'on_start':
            self.inside()

    def on_receive(self, message: Any) -> Any:
        return self.inside()


def actor_on_receive(sup: gatasker.TaskSupervisor, inside: Inside) -> None:
    actor = Stopper.spawn(inside, 'on_receive', supervisor=sup)
    actor.tell('stop')
    inside.check()
    _ended(actor)


def actor_on_start(sup: gatasker.TaskSupervisor, inside: Inside) -> None:
    actor = Stopper.spawn(inside, 'on_start', supervisor=sup)
    inside.check()
    _ended(actor)


def aloop_coroutine(sup: gatasker.TaskSupervisor, inside: Inside) -> None:
    aloop = sup.create_aloop('inside', default=True)

    async def coro() -> Any:
        return inside()
    task = aloop.background_task(coro())
    inside.check()
    assert task.wait(WAIT) and task.is_completed()
    assert aloop._stopped.wait(WAIT)


CASES: dict[str, Callable[[gatasker.TaskSupervisor, Inside], None]] = {
    f.__name__: f for f in (
        task_greenlet, task_thread, task_callback, worker_executor_greenlet,
        worker_executor_thread, worker_on_error, actor_on_receive, actor_on_start,
        aloop_coroutine,
    )
}


@pytest.mark.parametrize('case', list(CASES))
def test_stop_from_inside_returns(case: str) -> None:
    sup = gatasker.TaskSupervisor()
    assert sup.start()
    inside = Inside(sup)
    CASES[case](sup, inside)
    assert sup.start()  # it can start again, and works
    try:
        assert sup.put_task(lambda **_: 'again').get(timeout=WAIT) == 'again'
    finally:
        assert sup.stop()
