"""aloops: asyncio loops in their own OS threads; coroutine tasks and workers; async jobs."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import gevent
import pytest
from conftest import MODE, run_python
from zope.interface.verify import verifyObject

import gatasker
from gatasker import TT_COROUTINE, TT_GREENLET
from gatasker._bridge import Latch, allocate_lock, real_thread_name, start_real_thread


@pytest.fixture
def aloop(supervisor: gatasker.TaskSupervisor) -> Any:
    loop = supervisor.create_aloop('main', default=True)
    assert isinstance(loop, gatasker.ALoop)
    return loop


async def double(x: int) -> int:
    await asyncio.sleep(0)
    return x * 2


async def fail() -> None:
    await asyncio.sleep(0)
    raise KeyError('coroutine failed')


def test_create_run_and_thread_name(supervisor: gatasker.TaskSupervisor, aloop: Any) -> None:
    async def where() -> str:
        return threading.current_thread().name

    assert aloop.run(double(21)) == 42
    assert aloop.run(where()) == f'supervisor_{supervisor.id}_aloop_main'
    with pytest.raises(KeyError):
        aloop.run(fail())
    assert supervisor.get_aloop() is aloop and supervisor.get_aloop('main') is aloop
    assert isinstance(aloop.get_loop(), asyncio.AbstractEventLoop)
    assert 'main' in supervisor.get_info().aloops
    assert verifyObject(gatasker.IALoop, aloop)


def test_duplicate_name_logs_and_returns_false(supervisor: gatasker.TaskSupervisor, aloop: Any,
                                               caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger='gatasker'):
        assert supervisor.create_aloop('main') is False
    assert any('exists already' in r.getMessage() for r in caplog.records)


def test_run_from_a_plain_thread_and_from_the_loop_itself(aloop: Any) -> None:
    result: list[Any] = []
    done = Latch()
    start_real_thread(lambda: (result.append(aloop.run(double(4))), done.set()), 'runner')
    assert done.wait(10) and result == [8]

    async def nested() -> None:
        aloop.run(double(1))

    with pytest.raises(RuntimeError, match='itself'):
        aloop.run(nested())


def test_background_task_is_registered_and_completes_on_error_and_cancel(
        supervisor: gatasker.TaskSupervisor, aloop: Any) -> None:
    release = asyncio.Event()
    started = Latch()

    async def waits() -> str:
        started.set()
        await asyncio.wait_for(release.wait(), 30)
        return 'released'

    task = aloop.background_task(waits())
    assert started.wait(10)
    assert supervisor.get_task(task.id) is task and task.tt == TT_COROUTINE
    aloop.get_loop().call_soon_threadsafe(release.set)
    assert task.get(timeout=10) == 'released'
    failing = aloop.background_task(fail())
    assert failing.wait(10) and isinstance(failing.exception, KeyError)

    running = Latch()

    async def forever() -> None:
        running.set()
        await asyncio.sleep(3600)

    doomed = aloop.background_task(forever())
    assert running.wait(10)
    assert supervisor.stop_aloop('main', wait=False)
    assert doomed.wait(10) and isinstance(doomed.exception, asyncio.CancelledError)
    with pytest.raises(TypeError):
        aloop.background_task(double)


def test_background_task_decorator_and_tt_coroutine(supervisor: gatasker.TaskSupervisor,
                                                    aloop: Any) -> None:
    other = supervisor.create_aloop('other')

    async def where(x: int) -> tuple[int, str]:
        return x, threading.current_thread().name

    task = gatasker.background_task(where, supervisor=supervisor)(1)
    assert task.tt == TT_COROUTINE and task.get(timeout=10) == (1, aloop.thread_name)
    task = gatasker.background_task(where, loop='other', supervisor=supervisor)(2)
    assert task.get(timeout=10) == (2, other.thread_name)
    task = supervisor.put_task(double, (5,), tt=TT_COROUTINE, _pass_task_id=False)
    assert task.get(timeout=10) == 10


def test_no_aloop_is_an_error_at_the_call(supervisor: gatasker.TaskSupervisor) -> None:
    with pytest.raises(RuntimeError, match='aloop'):
        gatasker.background_task(double, supervisor=supervisor)(1)
    with pytest.raises(LookupError):
        gatasker.background_task(double, loop='missing', supervisor=supervisor)(1)
    assert supervisor.get_tasks() == {}


def test_workers_run_coroutine_executors_on_aloops(supervisor: gatasker.TaskSupervisor) -> None:
    seen: list[str] = []
    lock = allocate_lock()
    ran = Latch()

    async def tick(**kwargs: Any) -> None:
        with lock:
            seen.append(real_thread_name())
            if len(seen) >= 3:
                ran.set()

    worker = gatasker.BackgroundIntervalWorker(func=tick, interval=0.01, supervisor=supervisor)
    worker.start()  # no aloop at all: an internal one is created once
    assert ran.wait(10)
    worker.stop()
    assert set(seen) == {f'supervisor_{supervisor.id}_aloop___internal__'}
    assert isinstance(gatasker.background_worker(tick), gatasker.BackgroundAsyncWorker)


def test_supervisor_stop_stops_aloops(supervisor: gatasker.TaskSupervisor) -> None:
    loops = [supervisor.create_aloop(f'l{i}') for i in range(3)]
    pending = loops[0].background_task(asyncio.sleep(3600))
    supervisor.stop(wait=0.2)
    assert not any(loop.is_active() for loop in loops)
    assert pending.wait(10) and isinstance(pending.exception, asyncio.CancelledError)


def test_async_jobs(supervisor: gatasker.TaskSupervisor, aloop: Any) -> None:
    counts = {'limited': 0, 'endless': 0}
    limited_done = Latch()
    endless_ran = Latch()

    def limited() -> None:
        counts['limited'] += 1
        if counts['limited'] == 3:
            limited_done.set()

    async def endless() -> None:
        counts['endless'] += 1
        endless_ran.set()

    scheduler = supervisor.create_async_job_scheduler('jobs', aloop='main', default=True)
    assert scheduler and 'jobs' in supervisor.get_info().async_job_schedulers
    supervisor.create_async_job(target=limited, interval=0.01, number=3)
    job = supervisor.create_async_job(target=endless, interval=0.01)
    assert limited_done.wait(10) and endless_ran.wait(10)
    assert supervisor.cancel_async_job(job=job)
    assert aloop.run(double(0)) == 0  # the cancel was handled
    frozen = counts['endless']
    aloop.run(asyncio.sleep(0.05))
    assert counts['endless'] == frozen and counts['limited'] == 3
    with pytest.raises(ValueError):
        supervisor.create_async_job(target=limited, interval=-1)
    with pytest.raises(ValueError):
        supervisor.create_async_job(target=limited, interval=1, number=-2)


def test_the_hub_keeps_ticking_while_greenlets_wait_on_an_aloop(
        supervisor: gatasker.TaskSupervisor, aloop: Any) -> None:
    ticks: list[int] = []
    done = Latch()

    def heartbeat(**_: Any) -> None:
        while not done.is_set():
            ticks.append(1)
            gevent.sleep(0.01)

    async def nap() -> str:
        await asyncio.sleep(0.1)
        return 'rested'

    supervisor.set_greenlet_pool(pool_size=2000)
    beat = supervisor.put_task(heartbeat, tt=TT_GREENLET)
    sleepers = [supervisor.put_task(lambda **_: aloop.run(nap()), tt=TT_GREENLET)
                for _ in range(1000)]
    before = len(ticks)
    assert gatasker.wait_completed(sleepers, timeout=60) == ['rested'] * 1000
    assert len(ticks) > before  # the heartbeat greenlet ran while they waited
    done.set()
    beat.wait(10)


def test_async_interval_worker_runs_in_the_named_aloop_thread() -> None:
    proc = run_python('''
        import gatasker
        from gatasker._bridge import Latch, real_thread_name
        gatasker.task_supervisor.create_aloop('test1', default=True)
        seen, ran = [], Latch()

        @gatasker.background_worker(interval=0.01)
        async def tick(**kwargs):
            seen.append(real_thread_name())
            ran.set()

        tick.start()
        assert ran.wait(10)
        tick.stop()
        print(seen[0])
    ''', patched=(MODE == 'embedded'))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == 'supervisor_default_aloop_test1'


def test_script_with_aloops_exits_without_stop() -> None:
    proc = run_python('''
        import asyncio, gatasker
        loop = gatasker.task_supervisor.create_aloop('x', default=True)
        print(loop.run(asyncio.sleep(0, 'slept')))
        loop.background_task(asyncio.sleep(3600))
    ''', patched=(MODE == 'embedded'))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == 'slept'
