"""Faulty targets, executors, callbacks and coroutines: the supervisor goes on, stop() returns."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

import pytest
from greenlet import GreenletExit

import gatasker
from gatasker import TT_GREENLET, TT_THREAD
from gatasker._bridge import Latch


class Custom(BaseException):
    pass


def raise_(exc: BaseException) -> Callable[..., Any]:
    def target(**_: Any) -> None:
        raise exc
    return target


FAULTS = {
    'raises': raise_(ValueError('bad')),
    'returns_false': lambda **_: False,
    'sys_exit': lambda **_: sys.exit(2),
    'keyboard_interrupt': raise_(KeyboardInterrupt()),
    'custom_base_exception': raise_(Custom()),
}


def still_works(sup: gatasker.TaskSupervisor) -> None:
    assert sup.put_task(lambda **_: 'ok', tt=TT_THREAD).get(timeout=10) == 'ok'
    assert sup.put_task(lambda **_: 'ok', tt=TT_GREENLET).get(timeout=10) == 'ok'


@pytest.mark.parametrize('fault', list(FAULTS))
@pytest.mark.parametrize('tt', [TT_THREAD, TT_GREENLET], ids=['thread', 'greenlet'])
def test_faulty_targets(fault: str, tt: int) -> None:
    sup = gatasker.TaskSupervisor()
    sup.start()
    task = sup.put_task(FAULTS[fault], tt=tt)
    assert task.wait(10) and task.is_completed()
    if fault != 'returns_false':
        assert isinstance(task.exception, BaseException)
    still_works(sup)
    assert sup.stop(wait=5)


def test_greenlet_exit_in_a_greenlet_task() -> None:
    sup = gatasker.TaskSupervisor()
    sup.start()
    task = sup.put_task(raise_(GreenletExit()), tt=TT_GREENLET)
    assert task.wait(10) and isinstance(task.exception, GreenletExit)
    still_works(sup)
    assert sup.stop(wait=5)


def test_a_raising_callback() -> None:
    sup = gatasker.TaskSupervisor()
    sup.start()
    called = Latch()

    def callback(result: Any) -> None:
        called.set()
        raise RuntimeError('callback bug')

    task = sup.put_task(lambda **_: 1, callback=callback)
    assert task.get(timeout=10) == 1 and called.wait(10)
    still_works(sup)
    assert sup.stop(wait=5)


@pytest.mark.parametrize('fault', list(FAULTS))
def test_faulty_worker_executors(fault: str) -> None:
    sup = gatasker.TaskSupervisor()
    sup.start()
    runs: list[int] = []
    target = FAULTS[fault]

    def executor(**kwargs: Any) -> Any:
        runs.append(1)
        if len(runs) > 3:
            return False
        return target(**kwargs)

    worker = gatasker.BackgroundIntervalWorker(func=executor, interval=0.001, supervisor=sup)
    worker.start()
    worker._actor.stopped.wait(10)
    assert worker.is_stopped()
    still_works(sup)
    assert sup.stop(wait=5)


def test_an_aloop_coroutine_that_never_ends() -> None:
    sup = gatasker.TaskSupervisor()
    sup.start()
    aloop = sup.create_aloop('stuck')
    task = aloop.background_task(asyncio.sleep(3600))
    still_works(sup)
    assert sup.stop(wait=0.3)
    assert task.wait(10) and isinstance(task.exception, asyncio.CancelledError)


def test_a_failing_actor_handler_and_hooks() -> None:
    sup = gatasker.TaskSupervisor()
    sup.start()

    class Broken(gatasker.Actor):
        def on_receive(self, message: Any) -> Any:
            raise Custom()

        def on_stop(self) -> None:
            raise RuntimeError('on_stop bug')

    actor = Broken.spawn(supervisor=sup)
    with pytest.raises(Custom):
        actor.ask('x', timeout=10)
    actor.tell('y')  # logged; the actor goes on
    with pytest.raises(Custom):
        actor.ask('z', timeout=10)
    still_works(sup)
    assert sup.stop(wait=5)
    assert not actor.is_alive()


@pytest.mark.parametrize('patched', [False, True], ids=['plain', 'patched'])
def test_workers_outliving_their_supervisor_end_quietly(patched: bool) -> None:
    from conftest import PATCHED, run_python
    if PATCHED and not patched:
        pytest.skip('covered by the plain run')
    proc = run_python('''
        import gatasker
        from gatasker._bridge import Latch
        sup = gatasker.TaskSupervisor()
        sup.start()
        ran = Latch()
        workers = [gatasker.BackgroundIntervalWorker(func=lambda **_: ran.set(),
                                                     interval=0.0001, supervisor=sup)
                   for _ in range(20)]
        workers += [gatasker.BackgroundWorker(func=lambda **_: None, supervisor=sup)
                    for _ in range(5)]
        for worker in workers:
            worker.start()
        assert ran.wait(10)
        sup.stop(stop_schedulers=False, wait=2)
        for worker in workers:
            worker._actor.stopped.wait(10)
        print(sum(worker.is_active() for worker in workers))
    ''', patched=patched)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == '0'
    assert proc.stderr == ''  # nothing printed around the logger
