"""A Task as a future: gevent's wait protocol, await, concurrent.futures, as_completed.

Each protocol is used from a greenlet and from a plain OS thread (the module
runs plain and monkey-patched, see test_patched_mode.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Iterator
from typing import Any

import gevent
import pytest
from conftest import BASE_EXCEPTIONS, boom, call_from, echo

import gatasker
from gatasker import TT_GREENLET, TT_THREAD, TaskCancelled
from gatasker._bridge import Latch, allocate_lock, real_thread_id, start_real_thread
from gatasker._futures import future_outcome, settle_future

WHERE = ['greenlet', 'thread']




@pytest.fixture
def put(supervisor: gatasker.TaskSupervisor) -> Callable[..., gatasker.Task[Any]]:
    def put(target: Callable[..., Any], *args: Any, **kwargs: Any) -> gatasker.Task[Any]:
        return supervisor.put_task(target, args, _pass_task_id=False, **kwargs)
    return put


@pytest.fixture
def hub_thread(supervisor: gatasker.TaskSupervisor) -> int:
    """The OS thread of the supervisor's hub (greenlet tasks run there)."""
    return supervisor.put_task(real_thread_id, tt=TT_GREENLET, _pass_task_id=False).get(30)


# -- done / cancelled / running ----------------------------------------------------


def test_state_predicates(put: Callable[..., gatasker.Task[Any]]) -> None:
    gate = Latch()
    started = Latch()

    def held() -> str:
        started.set()
        assert gate.wait(30)
        return 'ok'

    task = put(held)
    assert started.wait(30)
    assert task.running() and not task.done() and not task.cancelled()
    gate.set()
    assert task.get(30) == 'ok'
    assert task.done() and not task.running() and not task.cancelled() and task.successful()
    delayed = put(echo, 1, delay=60)
    assert not delayed.running() and not delayed.done()
    assert delayed.cancel()
    assert delayed.cancelled() and delayed.done() and not delayed.successful()
    failed = put(boom, KeyError('x'))
    assert failed.wait(30) and not failed.successful()
    # result and exception stay the attributes atasker code reads
    assert task.result == 'ok' and isinstance(failed.exception, KeyError)


# -- gevent.wait / joinall / iwait -----------------------------------------------------


@pytest.mark.parametrize('where', WHERE)
def test_gevent_wait_and_joinall(where: str, put: Callable[..., gatasker.Task[Any]]) -> None:
    def waits() -> list[Any]:
        tasks = [put(echo, i) for i in range(5)]
        ready = gevent.wait(tasks, timeout=30)
        joined = gevent.joinall([put(echo, 'j')], timeout=30)
        return [sorted(t.result for t in ready), [t.result for t in joined]]

    assert call_from(where, waits) == [[0, 1, 2, 3, 4], ['j']]


@pytest.mark.parametrize('where', WHERE)
def test_joinall_raise_error_raises_the_task_exception(
        where: str, put: Callable[..., gatasker.Task[Any]]) -> None:
    def joins() -> None:
        tasks = [put(echo, 1), put(boom, KeyError('in task'))]
        gevent.joinall(tasks, timeout=30, raise_error=True)

    with pytest.raises(KeyError, match='in task'):
        call_from(where, joins)


@pytest.mark.parametrize('where', WHERE)
def test_iwait_yields_in_completion_order(where: str,
                                          put: Callable[..., gatasker.Task[Any]]) -> None:
    def iterates() -> list[Any]:
        gate = Latch()
        slow, fast = put(echo, 'slow', gate), put(echo, 'fast')
        order = []
        for task in gevent.iwait([slow, fast], timeout=30):
            order.append(task.result)
            gate.set()  # slow may end only once fast was seen
        return order

    assert call_from(where, iterates) == ['fast', 'slow']


@pytest.mark.parametrize('where', WHERE)
def test_gevent_wait_timeout_unlinks(where: str, put: Callable[..., gatasker.Task[Any]]) -> None:
    gate = Latch()
    task = put(echo, 1, gate)
    assert call_from(where, lambda: gevent.wait([task], timeout=0.01)) == []
    assert not task._core.links, 'the timed-out wait left its link behind'
    gate.set()
    assert call_from(where, lambda: gevent.wait([task], timeout=30)) == [task]


@pytest.mark.parametrize('where', WHERE)
def test_gevent_wait_on_done_and_canceled_tasks(where: str,
                                                put: Callable[..., gatasker.Task[Any]]) -> None:
    done = put(echo, 1)
    assert done.wait(30)
    canceled = put(echo, 2, delay=60)
    assert canceled.cancel()
    assert set(call_from(where, lambda: gevent.wait([done, canceled], timeout=30))) == {
        done, canceled}


def test_rawlink_callback_errors_are_logged_and_the_hub_survives(
        put: Callable[..., gatasker.Task[Any]], caplog: pytest.LogCaptureFixture) -> None:
    calls = []
    gate = Latch()
    task = put(echo, 1, gate)
    with caplog.at_level(logging.ERROR, logger='gatasker'):
        for exc in BASE_EXCEPTIONS:
            task.rawlink(lambda _, exc=exc: (calls.append(exc), boom(exc)))
        gate.set()
        assert gevent.wait([task], timeout=30) == [task]
        gevent.sleep(0)  # links fire in hub callbacks queued before this wait ended
    assert len(calls) == len(BASE_EXCEPTIONS)
    assert len([r for r in caplog.records if r.exc_info]) == len(BASE_EXCEPTIONS)
    assert gevent.spawn(lambda: 'alive').get(timeout=30) == 'alive'


def test_rawlink_rejects_what_is_not_callable(put: Callable[..., gatasker.Task[Any]]) -> None:
    task = put(echo, 1)
    with pytest.raises(TypeError):
        task.rawlink(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        task.add_done_callback(42)  # type: ignore[arg-type]
    task.unlink(print)  # never linked: nothing happens


# -- add_done_callback ----------------------------------------------------------------


@pytest.mark.parametrize('where', WHERE)
def test_add_done_callback_runs_once_in_the_supervisor_hub(
        where: str, put: Callable[..., gatasker.Task[Any]], hub_thread: int) -> None:
    gate = Latch()
    seen: list[tuple[Any, int]] = []
    called = Latch()

    def record(task: gatasker.Task[Any]) -> None:
        seen.append((task.result, real_thread_id()))
        called.set()

    task = put(echo, 'r', gate)
    call_from(where, lambda: task.add_done_callback(record))
    gate.set()
    assert called.wait(30)
    assert task.wait(30)
    assert seen == [('r', hub_thread)]


@pytest.mark.parametrize('where', WHERE)
def test_add_done_callback_on_a_done_task_runs_at_once_in_the_caller(
        where: str, put: Callable[..., gatasker.Task[Any]]) -> None:
    task = put(echo, 'r')
    assert task.wait(30)
    seen: list[tuple[Any, int]] = []

    def add() -> int:
        task.add_done_callback(lambda t: seen.append((t.result, real_thread_id())))
        return real_thread_id()

    caller = call_from(where, add)
    assert seen == [('r', caller)]


@pytest.mark.parametrize('where', WHERE)
def test_add_done_callback_after_a_cancel_from_any_thread_runs_in_the_hub(
        where: str, put: Callable[..., gatasker.Task[Any]], hub_thread: int) -> None:
    task = put(echo, 1, delay=60)
    seen = []
    called = Latch()
    task.add_done_callback(lambda t: (seen.append((t.cancelled(), real_thread_id())),
                                      called.set()))
    assert call_from(where, task.cancel)
    assert called.wait(30)
    assert seen == [(True, hub_thread)]


@pytest.mark.parametrize('exc', BASE_EXCEPTIONS, ids=lambda e: type(e).__name__)
def test_add_done_callback_errors_are_logged_and_later_callbacks_run(
        exc: BaseException, put: Callable[..., gatasker.Task[Any]],
        supervisor: gatasker.TaskSupervisor, caplog: pytest.LogCaptureFixture) -> None:
    gate = Latch()
    after = Latch()
    task = put(echo, 1, gate)
    with caplog.at_level(logging.ERROR, logger='gatasker'):
        task.add_done_callback(lambda _: boom(exc))
        task.add_done_callback(lambda _: after.set())
        gate.set()
        assert after.wait(30)
        done = put(echo, 2)
        assert done.get(30) == 2
        done.add_done_callback(lambda _: boom(exc))  # at once, in the caller: logged too
    failures = [r for r in caplog.records if r.exc_info and r.exc_info[1] is exc]
    assert len(failures) == 2
    assert supervisor.is_started()


# -- await ----------------------------------------------------------------------------


@pytest.mark.parametrize('where', WHERE)
def test_await_in_a_coroutine_does_not_block_the_loop(
        where: str, put: Callable[..., gatasker.Task[Any]]) -> None:
    async def main() -> list[Any]:
        gate = Latch()
        task = put(echo, 'awaited', gate)
        loop = asyncio.get_running_loop()
        # The task ends only after the loop ran another callback while we await.
        loop.call_soon(gate.set)
        return [await task, await put(echo, 'second')]

    assert call_from(where, lambda: asyncio.run(main())) == ['awaited', 'second']


@pytest.mark.parametrize('where', WHERE)
def test_await_raises_the_task_exception_and_task_cancelled(
        where: str, put: Callable[..., gatasker.Task[Any]]) -> None:
    async def main() -> list[type[BaseException]]:
        raised = []
        canceled = put(echo, 1, delay=60)
        canceled.cancel()
        for task in (put(boom, KeyError('k')), canceled):
            try:
                await task
            except BaseException as exc:  # recorded for the assertion
                raised.append(type(exc))
        return raised

    assert call_from(where, lambda: asyncio.run(main())) == [KeyError, TaskCancelled]


def test_cancelling_the_awaiting_coroutine_cancels_the_task(
        put: Callable[..., gatasker.Task[Any]]) -> None:
    task = put(echo, 1, delay=60)

    async def main() -> None:
        waiting = asyncio.ensure_future(asyncio.wait_for(task, 0.01))
        with pytest.raises(asyncio.TimeoutError):
            await waiting

    call_from('thread', lambda: asyncio.run(main()))
    assert task.cancelled()


def test_await_on_an_aloop(supervisor: gatasker.TaskSupervisor,
                           put: Callable[..., gatasker.Task[Any]]) -> None:
    aloop = supervisor.create_aloop('futures', default=True)

    async def main() -> Any:
        return await put(echo, 'on aloop')

    assert aloop.run(main()) == 'on aloop'


# -- concurrent.futures -----------------------------------------------------------------


@pytest.mark.parametrize('where', WHERE)
def test_future_works_with_concurrent_futures(where: str,
                                              put: Callable[..., gatasker.Task[Any]]) -> None:
    def use() -> list[Any]:
        gate = Latch()
        slow = put(echo, 'slow', gate).future()
        fast = put(echo, 'fast').future()
        failed = put(boom, KeyError('k')).future()
        assert isinstance(slow, concurrent.futures.Future)
        with pytest.raises(concurrent.futures.TimeoutError):  # builtin from 3.11 on
            slow.result(timeout=0.01)
        done, not_done = concurrent.futures.wait([fast, failed], timeout=30)
        assert done == {fast, failed} and not not_done
        order = []
        for future in concurrent.futures.as_completed([slow, fast], timeout=30):
            order.append(future.result())
            gate.set()
        return [order, slow.result(30), type(failed.exception(30))]

    assert call_from(where, use) == [['fast', 'slow'], 'slow', KeyError]


@pytest.mark.parametrize('where', WHERE)
def test_cancelling_the_future_cancels_the_task(where: str,
                                                put: Callable[..., gatasker.Task[Any]]) -> None:
    task = put(echo, 1, delay=60)
    future = task.future()
    assert task.future() is future
    assert call_from(where, future.cancel)
    assert task.cancelled() and future.cancelled()
    with pytest.raises(concurrent.futures.CancelledError):
        future.result(30)
    started = Latch()
    gate = Latch()
    running = put(lambda: (started.set(), echo(7, gate))[1])
    assert started.wait(30)
    assert not call_from(where, running.future().cancel), 'a started task cannot be cancelled'
    assert running.future().running()
    gate.set()
    assert running.future().result(30) == 7


def test_future_of_a_canceled_task(put: Callable[..., gatasker.Task[Any]]) -> None:
    task = put(echo, 1, delay=60)
    task.cancel()
    assert task.future().cancelled()


@pytest.mark.parametrize('where', WHERE)
def test_wrap_future_in_asyncio(where: str, put: Callable[..., gatasker.Task[Any]]) -> None:
    async def main() -> Any:
        return await asyncio.wrap_future(put(echo, 'wrapped').future())

    assert call_from(where, lambda: asyncio.run(main())) == 'wrapped'


def test_future_timeouts_are_checked(put: Callable[..., gatasker.Task[Any]]) -> None:
    future = put(echo, 1).future()
    with pytest.raises(ValueError):
        future.result(-1)
    with pytest.raises(TypeError):
        future.result('1')  # type: ignore[arg-type]
    assert future.result(float('inf')) == 1


# -- gatasker.as_completed --------------------------------------------------------------


@pytest.mark.parametrize('where', WHERE)
def test_as_completed_yields_in_completion_order(
        where: str, put: Callable[..., gatasker.Task[Any]]) -> None:
    def iterate() -> list[Any]:
        gate = Latch()
        done = put(echo, 'done')
        assert done.wait(30)
        slow, fast = put(echo, 'slow', gate), put(echo, 'fast')
        order = []
        for task in gatasker.as_completed([slow, done, fast, done], timeout=30):
            order.append(task.result)
            if task is fast:
                gate.set()
        return order

    assert call_from(where, iterate) == ['done', 'fast', 'slow']


@pytest.mark.parametrize('where', WHERE)
def test_as_completed_timeout(where: str, put: Callable[..., gatasker.Task[Any]]) -> None:
    gate = Latch()
    tasks = [put(echo, 1), put(echo, 2, gate)]

    def iterate() -> list[Any]:
        seen = []
        with pytest.raises(TimeoutError):
            for task in gatasker.as_completed(tasks, timeout=0.05):
                seen.append(task.result)
        return seen

    assert call_from(where, iterate) == [1]
    assert not tasks[1]._core.callbacks, 'the abandoned iteration left its callback behind'
    gate.set()


def test_as_completed_checks_its_arguments_at_the_call(
        put: Callable[..., gatasker.Task[Any]]) -> None:
    task = put(echo, 1)
    with pytest.raises(TypeError):
        gatasker.as_completed(task)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        gatasker.as_completed([task, 'x'])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        gatasker.as_completed(42)  # type: ignore[call-overload]
    with pytest.raises(ValueError):
        gatasker.as_completed([task], timeout=-1)
    assert list(gatasker.as_completed([])) == []


def test_as_completed_from_many_threads(put: Callable[..., gatasker.Task[Any]]) -> None:
    tasks = [put(echo, i) for i in range(20)]
    lock = allocate_lock()
    results: list[int] = []
    finished = [Latch() for _ in range(3)]

    def consume(i: int) -> None:
        got = [t.result for t in gatasker.as_completed(tasks, timeout=30)]
        with lock:
            results.extend(got)
        finished[i].set()

    for i in range(3):
        start_real_thread(lambda i=i: consume(i), f'consumer{i}')
    assert all(f.wait(30) for f in finished)
    assert sorted(results) == sorted(list(range(20)) * 3)


def _tasks_of(n: int, put: Callable[..., gatasker.Task[Any]]) -> Iterator[gatasker.Task[Any]]:
    return (put(echo, i) for i in range(n))


def test_as_completed_takes_a_generator(put: Callable[..., gatasker.Task[Any]]) -> None:
    assert sorted(t.result for t in gatasker.as_completed(_tasks_of(4, put), timeout=30)) == [
        0, 1, 2, 3]


def test_futures_made_while_tasks_end_all_settle(put: Callable[..., gatasker.Task[Any]]) -> None:
    # future() racing the task's end: whichever side settles the future, it settles once.
    tasks = [put(echo, i) for i in range(300)]
    futures = call_from('thread', lambda: [t.future() for t in tasks])
    assert [f.result(30) for f in futures] == list(range(300))
    assert all(t.future() is f for t, f in zip(tasks, futures, strict=True))


def test_an_await_that_gave_up_leaves_no_callback(put: Callable[..., gatasker.Task[Any]],
                                                  caplog: pytest.LogCaptureFixture) -> None:
    gate = Latch()
    started = Latch()
    task = put(lambda: (started.set(), echo('late', gate))[1])
    assert started.wait(30)

    async def main() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(task, 0.01)  # started: cannot be cancelled, keeps running

    with caplog.at_level(logging.ERROR, logger='gatasker'):
        call_from('thread', lambda: asyncio.run(main()))  # the loop is closed afterwards
        assert not task._core.callbacks
        gate.set()
        assert task.get(30) == 'late'
    assert not [r for r in caplog.records if r.exc_info], 'woke a closed loop'


def test_a_greenlet_task_waits_for_other_tasks_with_gevent(
        supervisor: gatasker.TaskSupervisor) -> None:
    # The waiter runs in the supervisor's own hub, the tasks it waits for in the thread tier.
    def waiter() -> list[int]:
        tasks = [supervisor.put_task(echo, (i,), tt=TT_THREAD, _pass_task_id=False)
                 for i in range(3)]
        return sorted(t.result for t in gevent.wait(tasks, timeout=30))

    task = supervisor.put_task(waiter, tt=TT_GREENLET, _pass_task_id=False)
    assert task.get(30) == [0, 1, 2]


def test_future_outcome_of_a_result_an_exception_and_a_cancel() -> None:
    done: concurrent.futures.Future[int] = concurrent.futures.Future()
    done.set_result(7)
    assert future_outcome(done, TaskCancelled) == (True, 7)
    failed: concurrent.futures.Future[int] = concurrent.futures.Future()
    error = KeyError('x')
    failed.set_exception(error)
    assert future_outcome(failed, TaskCancelled) == (False, error)
    canceled: concurrent.futures.Future[int] = concurrent.futures.Future()
    assert canceled.cancel()
    ok, value = future_outcome(canceled, lambda: TaskCancelled('gone'))
    assert not ok and isinstance(value, TaskCancelled) and str(value) == 'gone'


@pytest.mark.parametrize('exc', BASE_EXCEPTIONS)
def test_settle_future_gives_the_outcome_once(exc: BaseException) -> None:
    future: concurrent.futures.Future[object] = concurrent.futures.Future()
    assert settle_future(future, True, None)
    assert future.result(0) is None
    assert not settle_future(future, False, exc)  # already done: nothing changes
    assert future.result(0) is None
    failed: concurrent.futures.Future[object] = concurrent.futures.Future()
    assert settle_future(failed, False, exc)
    assert failed.exception(0) is exc
    canceled: concurrent.futures.Future[object] = concurrent.futures.Future()
    canceled.cancel()
    assert not settle_future(canceled, True, 1) and canceled.cancelled()
    with pytest.raises(TypeError):
        settle_future(concurrent.futures.Future(), False, 'not an exception')
