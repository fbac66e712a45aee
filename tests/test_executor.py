"""gatasker.Executor: a concurrent.futures.Executor over a supervisor."""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
from collections.abc import Iterator
from typing import Any

import gevent
import pytest
from conftest import BASE_EXCEPTIONS, boom, call_from, echo

import gatasker
from gatasker import TASK_HIGH, TASK_LOW, TASK_NORMAL, TT_GREENLET, TT_THREAD
from gatasker._bridge import Latch, allocate_lock

WHERE = ['greenlet', 'thread']



def add(a: int, b: int) -> int:
    return a + b



@pytest.fixture
def executor(supervisor: gatasker.TaskSupervisor) -> Iterator[gatasker.Executor]:
    with gatasker.Executor(supervisor) as ex:
        yield ex


@pytest.fixture
def one_slot() -> Iterator[gatasker.TaskSupervisor]:
    """A supervisor whose thread tier runs one task at a time."""
    sup = gatasker.TaskSupervisor(pool_size=1, reserve_normal=0, reserve_high=0)
    sup.start()
    try:
        yield sup
    finally:
        sup.stop(wait=5)


def test_is_a_concurrent_futures_executor(executor: gatasker.Executor) -> None:
    assert isinstance(executor, concurrent.futures.Executor)
    future = executor.submit(add, 1, b=2)
    assert isinstance(future, concurrent.futures.Future)
    assert future.result(30) == 3


@pytest.mark.parametrize('where', WHERE)
def test_submit_and_map(where: str, executor: gatasker.Executor) -> None:
    def use() -> list[Any]:
        futures = [executor.submit(add, i, 10) for i in range(5)]
        done, _ = concurrent.futures.wait(futures, timeout=30)
        return [sorted(f.result() for f in done), list(executor.map(add, range(5), [1] * 5,
                                                                    timeout=30))]

    assert call_from(where, use) == [[10, 11, 12, 13, 14], [1, 2, 3, 4, 5]]


def test_priority_and_tt_per_executor_and_per_call(supervisor: gatasker.TaskSupervisor) -> None:
    executor = gatasker.Executor(supervisor, priority=TASK_HIGH, tt=TT_GREENLET)
    task = executor.submit(echo, 1).task  # type: ignore[attr-defined]
    assert (task.priority, task.tt) == (TASK_HIGH, TT_GREENLET)
    low = executor.options(priority=TASK_LOW)
    task = low.submit(echo, 1).task  # type: ignore[attr-defined]
    assert (task.priority, task.tt) == (TASK_LOW, TT_GREENLET)
    task = executor.options(tt=TT_THREAD).submit(echo, 1).task  # type: ignore[attr-defined]
    assert (task.priority, task.tt) == (TASK_HIGH, TT_THREAD)
    seen: list[tuple[int, int]] = []
    lock = allocate_lock()

    def record(x: int) -> int:
        task = gatasker.current_task()
        assert task is not None
        with lock:
            seen.append((task.priority, task.tt))
        return x

    assert list(executor.map(record, [1, 2], priority=TASK_NORMAL, tt=TT_THREAD)) == [1, 2]
    assert seen == [(TASK_NORMAL, TT_THREAD)] * 2
    default = gatasker.Executor(supervisor).submit(echo, 1).task  # type: ignore[attr-defined]
    assert (default.priority, default.tt) == (TASK_NORMAL, supervisor.default_tt)
    low.shutdown()
    with pytest.raises(RuntimeError):
        executor.submit(echo, 1)  # a view shares the shut-down state


@pytest.mark.parametrize('exc', BASE_EXCEPTIONS, ids=lambda e: type(e).__name__)
def test_a_failing_call_fails_its_future_only(exc: BaseException,
                                              executor: gatasker.Executor) -> None:
    future = executor.submit(boom, exc)
    assert future.exception(30) is exc
    with pytest.raises(type(exc)):
        list(executor.map(boom, [exc], timeout=30))
    assert executor.submit(echo, 'still works').result(30) == 'still works'


@pytest.mark.parametrize('where', WHERE)
def test_map_timeout_cancels_the_rest(where: str, one_slot: gatasker.TaskSupervisor) -> None:
    gate = Latch()
    ran: list[int] = []
    executor = gatasker.Executor(one_slot, tt=TT_THREAD)

    def run(x: int, gate: Latch | None) -> int:
        ran.append(x)
        return echo(x, gate)  # type: ignore[no-any-return]

    def use() -> None:
        results = executor.map(run, [1, 2, 3], [gate, None, None], timeout=0.05)
        next(results)

    with pytest.raises(concurrent.futures.TimeoutError):  # builtin from 3.11 on
        call_from(where, use)
    gate.set()
    executor.shutdown(wait=True)
    assert ran == [1], 'the calls not started when the map timed out must not run'


@pytest.mark.parametrize('where', WHERE)
def test_map_buffersize_reads_inputs_lazily(where: str, executor: gatasker.Executor) -> None:
    consumed = 0

    def endless() -> Iterator[int]:
        nonlocal consumed
        for i in itertools.count():
            consumed += 1
            yield i

    def use() -> list[int]:
        results = executor.map(echo, endless(), buffersize=3, timeout=30)
        got = []
        for value in results:
            got.append(value)
            # never more than buffersize calls submitted and not yet yielded
            assert consumed - len(got) <= 3
            if len(got) == 10:
                break
        results.close()  # type: ignore[attr-defined]
        return got

    assert call_from(where, use) == list(range(10))
    assert consumed <= 13


def test_map_checks_its_arguments_at_the_call(executor: gatasker.Executor) -> None:
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            executor.map(echo, [1], buffersize=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        executor.map(echo, [1], timeout=-1)
    with pytest.raises(ValueError):
        executor.map(echo, [1], priority=7)
    with pytest.raises(TypeError):
        executor.map(42, [1])  # type: ignore[arg-type]
    assert list(executor.map(echo, [])) == []


def test_bad_arguments(supervisor: gatasker.TaskSupervisor) -> None:
    with pytest.raises(TypeError):
        gatasker.Executor('sup')  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        gatasker.Executor(supervisor, priority=5)
    with pytest.raises(ValueError):
        gatasker.Executor(supervisor, tt=9)
    executor = gatasker.Executor(supervisor)
    with pytest.raises(ValueError):
        executor.options(tt=9)
    with pytest.raises(TypeError):
        executor.submit(None)  # type: ignore[arg-type]
    assert not executor._shared.tasks


@pytest.mark.parametrize('where', WHERE)
def test_shutdown_waits_and_refuses_new_calls(where: str,
                                              supervisor: gatasker.TaskSupervisor) -> None:
    gate = Latch()
    executor = gatasker.Executor(supervisor)
    future = executor.submit(echo, 'last', gate)
    gate_opener = gevent.spawn(gate.set)  # runs while shutdown waits
    call_from(where, executor.shutdown)
    assert future.done() and future.result() == 'last'
    gate_opener.join()
    with pytest.raises(RuntimeError):
        executor.submit(echo, 1)
    executor.shutdown()  # again: nothing happens
    assert supervisor.is_started(), 'shutdown() must not stop the supervisor'


def test_shutdown_cancel_futures(one_slot: gatasker.TaskSupervisor) -> None:
    gate = Latch()
    started = Latch()
    executor = gatasker.Executor(one_slot, tt=TT_THREAD)
    running = executor.submit(lambda: (started.set(), echo('ran', gate))[1])
    assert started.wait(30)
    queued = [executor.submit(echo, i) for i in range(3)]
    executor.shutdown(wait=False, cancel_futures=True)
    assert all(f.cancelled() for f in queued)
    gate.set()
    assert running.result(30) == 'ran'


def test_context_manager_waits(supervisor: gatasker.TaskSupervisor) -> None:
    gate = Latch()
    with gatasker.Executor(supervisor) as executor:
        futures = [executor.submit(echo, i, gate) for i in range(3)]
        gevent.spawn(gate.set)
    assert [f.result(0) for f in futures] == [0, 1, 2]


@pytest.mark.parametrize('where', WHERE)
def test_run_in_executor(where: str, executor: gatasker.Executor) -> None:
    async def main() -> list[Any]:
        loop = asyncio.get_running_loop()
        high = executor.options(priority=TASK_HIGH)
        return [await loop.run_in_executor(executor, add, 1, 2),
                await loop.run_in_executor(high, echo, 'high')]

    assert call_from(where, lambda: asyncio.run(main())) == [3, 'high']


def test_coroutine_functions_run_on_an_aloop(supervisor: gatasker.TaskSupervisor) -> None:
    supervisor.create_aloop('executor', default=True)

    async def double(x: int) -> int:
        await asyncio.sleep(0)
        return 2 * x

    with gatasker.Executor(supervisor) as executor:
        assert executor.submit(double, 4).result(30) == 8


def test_process_calls_through_the_executor(supervisor: gatasker.TaskSupervisor) -> None:
    # A library that takes an Executor gets gatasker's process tier with tt=TT_MP.
    supervisor.create_mp_pool(processes=1)
    with gatasker.Executor(supervisor, tt=gatasker.TT_MP) as executor:
        assert list(executor.map(pow, [2, 3], [5, 2], timeout=60)) == [32, 9]
        assert executor.submit(divmod, 7, 2).result(60) == (3, 1)  # no _task_id passed

