"""The supervisor: priorities and reserves per tier, tasks, stop, schedulers."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import gevent
import gevent.monkey
import pytest
import zope.event
from conftest import MODE, Recorder, settle
from zope.interface.verify import verifyObject

import gatasker
from gatasker import (
    TASK_CRITICAL,
    TASK_HIGH,
    TASK_LOW,
    TASK_NORMAL,
    TASK_STATUS_CANCELED,
    TASK_STATUS_COMPLETED,
    TASK_STATUS_DELAYED,
    TASK_STATUS_STARTED,
    TT_GREENLET,
    TT_THREAD,
)
from gatasker._bridge import Latch, real_thread_id, real_thread_name, start_real_thread
from gatasker._core import SupervisorCore

TIERS = pytest.mark.parametrize('tt', [TT_THREAD, TT_GREENLET], ids=['thread', 'greenlet'])


def resize(sup: gatasker.TaskSupervisor, tt: int, **kwargs: Any) -> None:
    if tt == TT_THREAD:
        sup.set_thread_pool(**kwargs)
    else:
        sup.set_greenlet_pool(**kwargs)
    settle(sup)


def running(sup: gatasker.TaskSupervisor, tt: int) -> int:
    info = sup.get_info()
    return info.thread_tasks_count if tt == TT_THREAD else info.greenlet_tasks_count


@contextlib.contextmanager
def dispatch_order(sup: gatasker.TaskSupervisor) -> Iterator[list[object]]:
    """The first arguments of the tasks *sup* starts, in the order it starts them.

    Threads record their own start in whatever order the OS runs them; the
    TaskStarted events come from the hub, in dispatch order.
    """
    order: list[object] = []

    def on_event(event: object) -> None:
        if isinstance(event, gatasker.TaskStarted) and event.supervisor_id == sup.id:
            order.append(event.task.args[0])

    zope.event.subscribers.append(on_event)
    try:
        yield order
    finally:
        zope.event.subscribers.remove(on_event)


@TIERS
def test_reserves_per_priority(supervisor: gatasker.TaskSupervisor, tt: int) -> None:
    resize(supervisor, tt, pool_size=2, reserve_normal=1, reserve_high=1)
    rec = Recorder()
    tasks = []

    def put(n: int, priority: int, prefix: str) -> None:
        tasks.extend(supervisor.put_task(rec.run, (f'{prefix}{i}',), priority=priority, tt=tt)
                     for i in range(n))

    def put_and_expect_running(n: int, priority: int, prefix: str, expected: int) -> None:
        put(n, priority, prefix)
        rec.wait_started(expected)
        settle(supervisor)
        assert running(supervisor, tt) == expected

    with dispatch_order(supervisor) as started:
        put_and_expect_running(3, TASK_LOW, 'L', 2)
        put_and_expect_running(2, TASK_NORMAL, 'N', 3)
        put_and_expect_running(2, TASK_HIGH, 'H', 4)
        put_and_expect_running(2, TASK_CRITICAL, 'C', 6)
        info = supervisor.get_info()
        queued = info.thread_queued if tt == TT_THREAD else info.greenlet_queued
        assert queued == {TASK_CRITICAL: 0, TASK_HIGH: 1, TASK_NORMAL: 1, TASK_LOW: 1}
        assert sorted(rec.started) == ['C0', 'C1', 'H0', 'L0', 'L1', 'N0']
        rec.gate.set()
        assert gatasker.wait_completed(tasks, timeout=30) == [t.args[0] for t in tasks]
    # the waiting ones started most important first
    assert started[6:] == ['H1', 'N1', 'L2']


@TIERS
def test_freed_slot_goes_high_normal_low(supervisor: gatasker.TaskSupervisor, tt: int) -> None:
    resize(supervisor, tt, pool_size=1, reserve_normal=0, reserve_high=0)
    busy = Recorder()
    first = supervisor.put_task(busy.run, ('busy',), tt=tt, priority=TASK_LOW)
    busy.wait_started(1)
    rec = Recorder()
    rec.gate.set()
    tasks = [supervisor.put_task(rec.run, (p,), priority=p, tt=tt)
             for p in (TASK_LOW, TASK_NORMAL, TASK_HIGH, TASK_LOW, TASK_HIGH)]
    settle(supervisor)
    assert rec.started == []
    busy.gate.set()
    gatasker.wait_completed(tasks + [first], timeout=30)
    assert rec.started == [TASK_HIGH, TASK_HIGH, TASK_NORMAL, TASK_LOW, TASK_LOW]


@TIERS
def test_fifo_within_a_priority(supervisor: gatasker.TaskSupervisor, tt: int) -> None:
    resize(supervisor, tt, pool_size=1, reserve_normal=0, reserve_high=0)
    rec = Recorder()
    rec.gate.set()
    tasks = [supervisor.put_task(rec.run, (i,), tt=tt) for i in range(50)]
    gatasker.wait_completed(tasks, timeout=30)
    assert rec.started == list(range(50))


@TIERS
def test_pool_size_zero_is_unlimited(supervisor: gatasker.TaskSupervisor, tt: int) -> None:
    extra = {'max_size': 40} if tt == TT_THREAD else {}
    resize(supervisor, tt, pool_size=0, reserve_normal=0, reserve_high=0, **extra)
    rec = Recorder()
    tasks = [supervisor.put_task(rec.run, (i,), tt=tt, priority=TASK_LOW) for i in range(40)]
    rec.wait_started(40)
    rec.gate.set()
    gatasker.wait_completed(tasks, timeout=30)


def test_max_size_caps_threads_for_non_critical_tasks(supervisor: gatasker.TaskSupervisor) -> None:
    resize(supervisor, TT_THREAD, pool_size=0, reserve_normal=0, reserve_high=0, max_size=2)
    rec = Recorder()
    tasks = [supervisor.put_task(rec.run, (i,), tt=TT_THREAD, priority=TASK_HIGH)
             for i in range(5)]
    rec.wait_started(2)
    settle(supervisor)
    assert supervisor.get_info().thread_threads == 2
    assert len(rec.started) == 2
    rec.gate.set()
    assert gatasker.wait_completed(tasks, timeout=30) == list(range(5))


@TIERS
def test_growing_starts_waiting_tasks_and_shrinking_keeps_running_ones(
        supervisor: gatasker.TaskSupervisor, tt: int) -> None:
    resize(supervisor, tt, pool_size=1, reserve_normal=0, reserve_high=0)
    rec = Recorder()
    tasks = [supervisor.put_task(rec.run, (i,), tt=tt) for i in range(4)]
    rec.wait_started(1)
    resize(supervisor, tt, pool_size=3)
    rec.wait_started(3)
    resize(supervisor, tt, pool_size=1)
    assert running(supervisor, tt) == 3  # nobody was stopped
    settle(supervisor)
    assert len(rec.started) == 3
    rec.gate.set()
    gatasker.wait_completed(tasks, timeout=30)
    assert sorted(rec.started) == [0, 1, 2, 3]


@TIERS
def test_delayed_task_waits_outside_the_pool(supervisor: gatasker.TaskSupervisor, tt: int) -> None:
    resize(supervisor, tt, pool_size=1, reserve_normal=0, reserve_high=0)
    rec = Recorder()
    rec.gate.set()
    parked = supervisor.put_task(rec.run, ('parked',), tt=tt, delay=3600)
    settle(supervisor)
    assert parked.status == TASK_STATUS_DELAYED
    assert running(supervisor, tt) == 0
    now = supervisor.put_task(rec.run, ('now',), tt=tt)
    assert now.get(timeout=10) == 'now'
    soon = supervisor.put_task(rec.run, ('soon',), tt=tt, delay=0.05)
    assert soon.get(timeout=10) == 'soon'
    assert parked.cancel()
    assert parked.status == TASK_STATUS_CANCELED
    assert rec.started == ['now', 'soon']


def test_critical_grows_the_thread_pool_past_max_size(supervisor: gatasker.TaskSupervisor) -> None:
    resize(supervisor, TT_THREAD, pool_size=2, reserve_normal=0, reserve_high=0, max_size=2)
    rec = Recorder()
    tasks = [supervisor.put_task(rec.run, (i,), tt=TT_THREAD, priority=TASK_LOW) for i in range(2)]
    tasks += [supervisor.put_task(rec.run, (f'c{i}',), tt=TT_THREAD, priority=TASK_CRITICAL)
              for i in range(3)]
    rec.wait_started(5)  # all five block at once: five OS threads
    assert supervisor.get_info().thread_threads >= 5
    rec.gate.set()
    gatasker.wait_completed(tasks, timeout=30)


def test_min_size_prestarts_threads(supervisor: gatasker.TaskSupervisor) -> None:
    supervisor.set_thread_pool(min_size=3, max_size=10)
    settle(supervisor)
    assert supervisor.get_info().thread_threads >= 3
    assert supervisor.get_info().thread_min_size == 3


@pytest.mark.parametrize('kwargs, error', [
    ({'pool_size': -1}, ValueError),
    ({'pool_size': 1.5}, TypeError),
    ({'reserve_normal': '2'}, TypeError),
    ({'reserve_high': -3}, ValueError),
    ({'min_size': 5, 'max_size': 2}, ValueError),
    ({'max_size': -1}, ValueError),
    ({'poolsize': 3}, TypeError),
])
def test_bad_sizes_raise_and_change_nothing(supervisor: gatasker.TaskSupervisor,
                                            kwargs: dict[str, Any], error: type) -> None:
    before = vars(supervisor.get_info()).copy()
    with pytest.raises(error):
        supervisor.set_thread_pool(**kwargs)
    if 'min_size' not in kwargs and 'max_size' not in kwargs:
        with pytest.raises(error):
            supervisor.set_greenlet_pool(**kwargs)
    assert vars(supervisor.get_info()) == before
    assert supervisor.put_task(lambda **kw: 'still works').get(timeout=10) == 'still works'


@pytest.mark.parametrize('kwargs, error', [
    ({'priority': 75}, ValueError),
    ({'priority': '100'}, ValueError),
    ({'tt': 9}, ValueError),
    ({'delay': -1}, ValueError),
    ({'delay': 'soon'}, TypeError),
    ({'callback': 42}, TypeError),
    ({'kwargs': [1]}, TypeError),
])
def test_bad_task_arguments_raise_at_the_call(supervisor: gatasker.TaskSupervisor,
                                              kwargs: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        supervisor.put_task(lambda **kw: None, **kwargs)
    assert supervisor.get_tasks() == {}
    with pytest.raises(TypeError):
        supervisor.put_task('not callable')  # type: ignore[arg-type]
    assert supervisor.put_task(lambda **kw: 1).get(timeout=10) == 1


@TIERS
def test_task_fields_result_and_status(supervisor: gatasker.TaskSupervisor, tt: int) -> None:
    seen: dict[str, Any] = {}

    def target(a: int, b: int = 0, **kwargs: Any) -> int:
        seen.update(kwargs)
        seen['task'] = supervisor.get_task(kwargs['_task_id'])
        return a + b

    kwargs = {'b': 2}
    task = supervisor.put_task(target, (1,), kwargs, tt=tt, priority=TASK_HIGH)
    assert task.get(timeout=10) == 3
    assert kwargs == {'b': 2}  # the caller's dict is not mutated
    assert seen['_task_id'] == task.id and seen['task'] is task
    assert task.status == TASK_STATUS_COMPLETED and task.is_completed() and task.is_started()
    assert task.result == 3 and task.exception is None
    assert task.time_queued <= task.time_started <= task.time_completed  # type: ignore[operator]
    assert task.tt == tt and task.priority == TASK_HIGH
    assert supervisor.get_task(task.id) is None  # finished tasks are forgotten


@TIERS
def test_exception_is_stored_logged_and_reraised(supervisor: gatasker.TaskSupervisor, tt: int,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    def boom(**_: Any) -> None:
        raise KeyError('boom')

    with caplog.at_level(logging.ERROR, logger='gatasker'):
        task = supervisor.put_task(boom, tt=tt)
        assert task.wait(10)
        settle(supervisor)
    assert task.status == TASK_STATUS_COMPLETED
    assert isinstance(task.exception, KeyError)
    with pytest.raises(KeyError):
        task.get()
    records = [r for r in caplog.records if r.exc_info and r.exc_info[1] is task.exception]
    assert records, 'the failure was not logged with its traceback'


@TIERS
def test_sys_exit_in_a_task_ends_only_that_task(supervisor: gatasker.TaskSupervisor, tt: int) -> None:
    import sys
    task = supervisor.put_task(lambda **_: sys.exit(3), tt=tt)
    assert task.wait(10)
    assert isinstance(task.exception, SystemExit)
    assert supervisor.put_task(lambda **_: 'alive', tt=tt).get(timeout=10) == 'alive'


@TIERS
def test_cancel(supervisor: gatasker.TaskSupervisor, tt: int) -> None:
    resize(supervisor, tt, pool_size=1, reserve_normal=0, reserve_high=0)
    rec = Recorder()
    busy = supervisor.put_task(rec.run, ('busy',), tt=tt)
    rec.wait_started(1)
    waiting = supervisor.put_task(rec.run, ('never',), tt=tt)
    assert waiting.cancel() and waiting.cancel()
    assert waiting.status == TASK_STATUS_CANCELED and waiting.wait(0)
    with pytest.raises(gatasker.TaskCancelled):
        waiting.get()
    if tt == TT_THREAD:
        assert not busy.cancel()  # a thread cannot be stopped from outside
        assert busy.status == TASK_STATUS_STARTED
        rec.gate.set()
        assert busy.get(timeout=10) == 'busy'
    else:  # a running greenlet task is stopped: see test_policies.py
        assert busy.cancel()
        assert busy.wait(10) and busy.status == TASK_STATUS_CANCELED
        rec.gate.set()
    settle(supervisor)
    assert rec.started == ['busy']
    assert supervisor.get_info().thread_queued.get(TASK_NORMAL, 0) == 0


@TIERS
def test_a_canceled_task_is_gone_at_once_and_counted_by_the_hub(
        supervisor: gatasker.TaskSupervisor, tt: int) -> None:
    # Task.cancel() leaves the task table to the supervisor's hub (a posted
    # hook), yet the caller sees the task gone at once: its id is free again.
    resize(supervisor, tt, pool_size=1, reserve_normal=0, reserve_high=0)
    rec = Recorder()
    busy = supervisor.put_task(rec.run, ('busy',), tt=tt)
    rec.wait_started(1)
    waiting = supervisor.put_task(rec.run, ('never',), tt=tt, task_id='reused')
    assert waiting.cancel()
    assert supervisor.get_task('reused') is None
    assert 'reused' not in supervisor.get_tasks()
    again = supervisor.put_task(rec.run, ('again',), tt=tt, task_id='reused')
    assert supervisor.get_task('reused') is again
    rec.gate.set()
    assert again.get(timeout=10) == 'again' and busy.get(timeout=10) == 'busy'
    settle(supervisor)
    assert supervisor.get_tasks() == {}
    tier = supervisor.statistics().tiers['thread' if tt == TT_THREAD else 'greenlet']
    assert tier.cancelled == 1 and tier.completed == 2


def test_callbacks_run_once_in_the_supervisor_hub(supervisor: gatasker.TaskSupervisor) -> None:
    hub_thread = supervisor.put_task(lambda **_: real_thread_id(), tt=TT_GREENLET).get(timeout=10)
    calls: list[tuple[Any, int]] = []
    done = Latch()

    def callback(result: Any) -> None:
        calls.append((result, real_thread_id()))
        if len(calls) == 2:
            done.set()

    t1 = supervisor.put_task(lambda **_: 'thread', tt=TT_THREAD, callback=callback)
    t2 = supervisor.put_task(lambda **_: 'greenlet', tt=TT_GREENLET, callback=callback)
    failing = supervisor.put_task(lambda **_: 1 / 0, callback=callback)
    gatasker.wait_completed([t1, t2, failing], return_exceptions=True, timeout=10)
    assert done.wait(10)
    settle(supervisor)
    assert sorted(calls) == sorted([('thread', hub_thread), ('greenlet', hub_thread)])


def test_wait_completed_forms(supervisor: gatasker.TaskSupervisor) -> None:
    def square(x: int, **_: Any) -> int:
        return x * x

    tasks = [supervisor.put_task(square, (i,)) for i in range(5)]
    assert gatasker.wait_completed(tasks[0]) == 0
    assert gatasker.wait_completed(tasks, timeout=10) == [0, 1, 4, 9, 16]
    assert gatasker.wait_completed(t for t in tasks) == [0, 1, 4, 9, 16]
    assert gatasker.wait_completed(tuple(tasks)) == [0, 1, 4, 9, 16]
    bad = supervisor.put_task(lambda **_: [][1])
    with pytest.raises(IndexError):
        gatasker.wait_completed([tasks[1], bad])
    result = gatasker.wait_completed([tasks[1], bad], return_exceptions=True)
    assert result[0] == 1 and isinstance(result[1], IndexError)
    with pytest.raises(TypeError):
        gatasker.wait_completed([tasks[0], 'junk'])
    with pytest.raises(TypeError):
        gatasker.wait_completed(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        gatasker.wait_completed(tasks, timeout=-1)


@TIERS
def test_wait_completed_timeout(supervisor: gatasker.TaskSupervisor, tt: int) -> None:
    rec = Recorder()
    task = supervisor.put_task(rec.run, ('slow',), tt=tt)
    with pytest.raises(TimeoutError):
        gatasker.wait_completed([task], timeout=0)
    with pytest.raises(TimeoutError):
        gatasker.wait_completed(task, timeout=0.05)
    assert not task.wait(0.01)
    rec.gate.set()
    assert gatasker.wait_completed(task, timeout=10) == 'slow'


def test_wait_completed_from_foreign_threads_and_greenlets(
        supervisor: gatasker.TaskSupervisor) -> None:
    rec = Recorder()
    tasks = [supervisor.put_task(rec.run, (i,)) for i in range(10)]
    results: dict[str, Any] = {}
    finished = [Latch() for _ in range(3)]

    def in_thread(n: int) -> None:
        try:
            results[f'thread{n}'] = gatasker.wait_completed(tasks, timeout=30)
        except BaseException as exc:
            results[f'thread{n}'] = exc
        finally:
            finished[n].set()

    start_real_thread(lambda: in_thread(0), 'waiter0')
    start_real_thread(lambda: in_thread(1), 'waiter1')
    greenlet_result = supervisor.put_task(
        lambda **_: gatasker.wait_completed(tasks, timeout=30), tt=TT_GREENLET)
    thread_result = supervisor.put_task(
        lambda **_: gatasker.wait_completed(tasks, timeout=30), tt=TT_THREAD)
    rec.wait_started(5)
    rec.gate.set()
    expected = list(range(10))
    assert all(latch.wait(30) for latch in finished[:2])
    assert results == {'thread0': expected, 'thread1': expected}
    assert greenlet_result.get(timeout=30) == expected
    assert thread_result.get(timeout=30) == expected


def test_timeout_warning_and_critical(supervisor: gatasker.TaskSupervisor,
                                      caplog: pytest.LogCaptureFixture) -> None:
    supervisor.set_thread_pool(pool_size=1, reserve_normal=0, reserve_high=0)
    warned, critical = Latch(), Latch()
    seen: list[Any] = []
    supervisor.timeout_warning = 0.01
    supervisor.timeout_warning_func = lambda task: (seen.append(('w', task)), warned.set())
    supervisor.timeout_critical = 0.02
    supervisor.timeout_critical_func = lambda task: (seen.append(('c', task)), critical.set())
    rec = Recorder()
    with caplog.at_level(logging.WARNING, logger='gatasker'):
        busy = supervisor.put_task(rec.run, ('busy',), tt=TT_THREAD)
        rec.wait_started(1)
        late = supervisor.put_task(rec.run, ('late',), tt=TT_THREAD)
        assert warned.wait(10) and critical.wait(10)
        rec.gate.set()
        gatasker.wait_completed([busy, late], timeout=10)
        settle(supervisor)
    assert seen == [('w', late), ('c', late)]
    levels = [r.levelno for r in caplog.records if 'has not started' in r.getMessage()]
    assert levels == [logging.WARNING, logging.ERROR]


def test_mark_task_completed_is_a_compatible_no_op(supervisor: gatasker.TaskSupervisor) -> None:
    def target(**kwargs: Any) -> str:
        assert supervisor.mark_task_completed(task_id=kwargs['_task_id'])
        assert supervisor.mark_task_completed()
        return 'done'

    task = supervisor.put_task(target)
    assert task.get(timeout=10) == 'done'
    assert supervisor.mark_task_completed(task=task)
    assert supervisor.mark_task_completed(task_id=task.id)  # idempotent after the end
    with pytest.raises(LookupError):
        supervisor.mark_task_completed(task_id='no-such-task')


def test_duplicate_task_id_is_rejected(supervisor: gatasker.TaskSupervisor) -> None:
    rec = Recorder()
    first = supervisor.put_task(rec.run, ('a',), task_id='mine')
    with pytest.raises(ValueError):
        supervisor.put_task(rec.run, ('b',), task_id='mine')
    rec.gate.set()
    assert first.get(timeout=10) == 'a'


def test_get_tasks_lists_queued_and_running(supervisor: gatasker.TaskSupervisor) -> None:
    supervisor.set_thread_pool(pool_size=1, reserve_normal=0, reserve_high=0)
    rec = Recorder()
    tasks = [supervisor.put_task(rec.run, (i,), tt=TT_THREAD) for i in range(3)]
    rec.wait_started(1)
    assert supervisor.get_tasks() == {task.id: task for task in tasks}
    rec.gate.set()
    gatasker.wait_completed(tasks, timeout=10)
    settle(supervisor)
    assert supervisor.get_tasks() == {}


# -- life cycle --------------------------------------------------------------

def test_start_stop_start_and_context_manager() -> None:
    sup = gatasker.TaskSupervisor()
    assert sup.start() and not sup.start()
    assert sup.mode == MODE
    assert sup.put_task(lambda **_: 1).get(timeout=10) == 1
    assert sup.stop() and not sup.stop()
    with pytest.raises(gatasker.SupervisorNotRunning):
        sup.put_task(lambda **_: 1)
    assert sup.start()
    assert sup.put_task(lambda **_: 2).get(timeout=10) == 2
    sup.stop()
    with gatasker.TaskSupervisor() as sup2:
        assert sup2.is_started()
        assert sup2.put_task(lambda **_: 3).get(timeout=10) == 3
    assert not sup2.is_started()


def test_forced_modes() -> None:
    with pytest.raises(ValueError):
        gatasker.TaskSupervisor().start(mode='sideways')
    for mode in ('threaded', 'embedded'):
        sup = gatasker.TaskSupervisor()
        assert sup.start(mode=mode)
        try:
            assert sup.mode == mode
            assert sup.put_task(lambda **_: 'ok', tt=TT_THREAD).get(timeout=10) == 'ok'
            assert sup.put_task(lambda **_: 'ok', tt=TT_GREENLET).get(timeout=10) == 'ok'
        finally:
            sup.stop()


def test_threaded_mode_hub_thread_is_named() -> None:
    sup = gatasker.TaskSupervisor(supervisor_id='named')
    sup.start(mode='threaded')
    try:
        # Under patching threading.current_thread() names greenlets; ask the OS-thread view.
        name = sup.put_task(lambda **_: real_thread_name(), tt=TT_GREENLET)
        assert name.get(timeout=10) == 'supervisor_named_hub'
    finally:
        sup.stop()


def test_stop_runs_queued_tasks() -> None:
    sup = gatasker.TaskSupervisor(pool_size=1, reserve_normal=0, reserve_high=0)
    sup.start()
    rec = Recorder()
    tasks = [sup.put_task(rec.run, (i,), tt=TT_THREAD) for i in range(5)]
    rec.wait_started(1)
    stopper = Latch()
    start_real_thread(lambda: (sup.stop(), stopper.set()), 'stopper')
    rec.gate.set()
    assert stopper.wait(30)
    assert [t.status for t in tasks] == [TASK_STATUS_COMPLETED] * 5
    assert rec.started == [0, 1, 2, 3, 4]


@pytest.mark.parametrize('how', ['wait_false', 'cancel_tasks'])
def test_stop_without_waiting_cancels_queued_tasks(how: str) -> None:
    sup = gatasker.TaskSupervisor(pool_size=1, reserve_normal=0, reserve_high=0)
    sup.start()
    rec = Recorder()
    tasks = [sup.put_task(rec.run, (i,), tt=TT_THREAD) for i in range(5)]
    delayed = sup.put_task(rec.run, ('delayed',), delay=3600)
    rec.wait_started(1)
    if how == 'wait_false':
        sup.stop(wait=False)
    else:
        sup.stop(wait=5, cancel_tasks=True)
    assert [t.status for t in tasks[1:]] == [TASK_STATUS_CANCELED] * 4
    assert delayed.status == TASK_STATUS_CANCELED
    rec.gate.set()
    assert tasks[0].get(timeout=10) == 0  # the running one still ends normally
    assert rec.started == [0]


def test_stop_with_a_bound_cancels_what_did_not_start() -> None:
    sup = gatasker.TaskSupervisor(pool_size=1, reserve_normal=0, reserve_high=0)
    sup.start()
    rec = Recorder()
    tasks = [sup.put_task(rec.run, (i,), tt=TT_THREAD) for i in range(3)]
    rec.wait_started(1)
    assert sup.stop(wait=0.1)
    assert [t.status for t in tasks[1:]] == [TASK_STATUS_CANCELED] * 2
    rec.gate.set()
    assert tasks[0].get(timeout=10) == 0


def test_a_bounded_stop_warns_what_it_left_running_and_canceled(
        caplog: pytest.LogCaptureFixture) -> None:
    sup = gatasker.TaskSupervisor(pool_size=1, reserve_normal=0, reserve_high=0)
    sup.set_greenlet_pool(pool_size=1, reserve_normal=0, reserve_high=0)
    sup.start()
    rec = Recorder()
    tasks = [sup.put_task(rec.run, ('t',), tt=TT_THREAD, name=f'thread{i}') for i in range(3)]
    tasks += [sup.put_task(rec.run, ('g',), tt=TT_GREENLET, name=f'greenlet{i}')
              for i in range(8)]
    rec.wait_started(2)
    with caplog.at_level(logging.WARNING, logger='gatasker'):
        assert sup.stop(wait=0.1)
    rec.gate.set()
    gatasker.wait_completed([tasks[0], tasks[3]], timeout=10)
    lines = [r.getMessage() for r in caplog.records
             if r.levelno == logging.WARNING and 'stop left' in r.getMessage()]
    assert len(lines) == 1, caplog.text
    running, canceled = lines[0].split('; ')
    assert 'left running 2 tasks (thread: 1, greenlet: 1): ' in running
    assert 'thread0' in running and 'greenlet0' in running
    assert 'canceled before they started 9 tasks (thread: 2, greenlet: 7): ' in canceled
    # the first few names, then how many more
    assert 'thread1, thread2, greenlet1, greenlet2, greenlet3, ... 4 more' in canceled


def test_a_stop_that_finished_everything_warns_nothing(caplog: pytest.LogCaptureFixture) -> None:
    sup = gatasker.TaskSupervisor()
    sup.start()
    tasks = [sup.put_task(lambda **_: None) for _ in range(5)]
    with caplog.at_level(logging.WARNING, logger='gatasker'):
        assert sup.stop(wait=30)
    assert all(task.is_completed() for task in tasks)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_stop_from_inside_a_task_does_not_deadlock() -> None:
    sup = gatasker.TaskSupervisor()
    sup.start()
    task = sup.put_task(lambda **_: sup.stop(), tt=TT_THREAD)
    assert task.get(timeout=20) is True
    assert not sup.is_started()


def test_block_returns_when_stopped() -> None:
    sup = gatasker.TaskSupervisor()
    sup.start()
    blocked = Latch()

    def blocker() -> None:
        sup.block()
        blocked.set()

    start_real_thread(blocker, 'blocker')
    g = gevent.spawn(sup.block)
    assert not blocked.wait(0.05)
    sup.stop()
    assert blocked.wait(10)
    g.join(10)
    assert g.dead


def test_schedulers_are_run_and_stopped(supervisor: gatasker.TaskSupervisor) -> None:
    class Scheduler:
        def __init__(self) -> None:
            self.looping = Latch()
            self.stopped = Latch()

        def loop(self) -> None:
            self.looping.set()
            self.stopped.wait()

        def stop(self) -> None:
            self.stopped.set()

    class SyncScheduler:
        def __init__(self) -> None:
            self.stopped = Latch()

        def stop(self) -> None:
            self.stopped.set()

    sched, sync, forgotten = Scheduler(), SyncScheduler(), SyncScheduler()
    assert supervisor.register_scheduler(sched)
    assert supervisor.register_sync_scheduler(sync)
    assert supervisor.register_sync_scheduler(forgotten)
    assert supervisor.unregister_sync_scheduler(forgotten)
    assert sched.looping.wait(10)
    assert sched in supervisor.get_info().schedulers
    with pytest.raises(TypeError):
        supervisor.register_scheduler(object())
    supervisor.stop()
    assert sched.stopped.is_set() and sync.stopped.is_set()
    assert not forgotten.stopped.is_set()


def test_get_info(supervisor: gatasker.TaskSupervisor) -> None:
    supervisor.set_thread_pool(pool_size=7, reserve_normal=2, reserve_high=1)
    supervisor.set_greenlet_pool(pool_size=9)
    info = supervisor.get_info()
    assert info.id == supervisor.id and info.active and info.started and info.mode == MODE
    assert (info.thread_pool_size, info.thread_reserve_normal, info.thread_reserve_high) == (7, 2, 1)
    assert info.greenlet_pool_size == 9
    assert info.thread_tasks_count == 0 and info.greenlet_tasks_count == 0
    assert set(info.thread_queued) == {TASK_CRITICAL, TASK_HIGH, TASK_NORMAL, TASK_LOW}


def test_interfaces(supervisor: gatasker.TaskSupervisor) -> None:
    task = supervisor.put_task(lambda **_: None)
    task.wait(10)
    assert verifyObject(gatasker.ISupervisor, supervisor)
    assert verifyObject(gatasker.ITask, task)
    run = supervisor._core.life.run
    assert run is not None
    for tt in (TT_THREAD, TT_GREENLET):
        assert verifyObject(gatasker.ITier, run.tiers[tt])


def test_default_tt_follows_the_mode(supervisor: gatasker.TaskSupervisor) -> None:
    expected = TT_GREENLET if MODE == 'embedded' else TT_THREAD
    assert supervisor.default_tt == expected


def test_many_tasks_complete_exactly_once(supervisor: gatasker.TaskSupervisor) -> None:
    counts: dict[int, int] = {}

    def target(i: int, **_: Any) -> int:
        counts[i] = counts.get(i, 0) + 1
        return i

    tasks = [supervisor.put_task(target, (i,), tt=TT_GREENLET if i % 2 else TT_THREAD,
                                 priority=(TASK_LOW, TASK_NORMAL, TASK_HIGH)[i % 3])
             for i in range(3000)]
    assert gatasker.wait_completed(tasks, timeout=60) == list(range(3000))
    assert set(counts.values()) == {1} and len(counts) == 3000
    settle(supervisor)
    assert supervisor.get_tasks() == {}


def test_concurrent_first_use_of_a_lazily_started_supervisor() -> None:
    sup = gatasker.TaskSupervisor(_autostart=True)  # as the default supervisor
    results: list[Any] = []
    done = [Latch() for _ in range(6)]

    def use(i: int) -> None:
        try:
            results.append(sup.put_task(lambda **_: i).get(timeout=20))
        except BaseException as exc:
            results.append(exc)
        finally:
            done[i].set()

    for i in range(6):
        start_real_thread(lambda i=i: use(i), f'user{i}')
    try:
        assert all(d.wait(30) for d in done)
        assert sorted(results) == list(range(6))
    finally:
        sup.stop()


def test_a_failing_start_leaves_the_supervisor_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(core: SupervisorCore[Any], run: Any) -> None:  # the run's tiers cannot be made
        raise OSError('no threads for you')

    monkeypatch.setattr(SupervisorCore, 'open_tiers', broken)
    sup = gatasker.TaskSupervisor()
    for mode in ('threaded', 'embedded'):
        with pytest.raises(OSError):
            sup.start(mode=mode)
        assert not sup.is_started()


def test_tasks_that_cannot_run_fail_at_the_call(supervisor: gatasker.TaskSupervisor) -> None:
    async def coro() -> None:
        pass

    with pytest.raises(RuntimeError, match='aloop'):
        gatasker.background_task(coro, supervisor=supervisor)()
    with pytest.raises(TypeError, match='picklable'):
        supervisor.put_task(lambda **_: None, tt=gatasker.TT_MP)
    assert supervisor.get_tasks() == {}
