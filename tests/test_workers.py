"""Workers as actors: the five kinds, the executor contract, life cycle."""

from __future__ import annotations

import logging
import queue
from typing import Any

import pytest
from conftest import MODE, run_python
from zope.interface.verify import verifyObject

import gatasker
from gatasker import (
    TASK_HIGH,
    TT_GREENLET,
    TT_THREAD,
    BackgroundEventWorker,
    BackgroundIntervalWorker,
    BackgroundQueueWorker,
    BackgroundWorker,
    background_worker,
)
from gatasker._bridge import Latch, allocate_lock, real_thread_id, start_real_thread


class Log:
    """Thread-safe record of executor calls, with a latch per count reached."""

    def __init__(self) -> None:
        self.lock = allocate_lock()
        self.calls: list[Any] = []
        self._waiters: list[tuple[int, Latch]] = []
        self.running = 0
        self.overlaps = 0

    def add(self, value: Any) -> None:
        with self.lock:
            self.calls.append(value)
            for count, latch in self._waiters:
                if len(self.calls) >= count:
                    latch.set()

    def wait_for(self, count: int, timeout: float = 20) -> None:
        latch = Latch()
        with self.lock:
            if len(self.calls) >= count:
                return
            self._waiters.append((count, latch))
        assert latch.wait(timeout), f'{len(self.calls)} of {count} calls'


def test_executor_contract_and_control_kwargs(supervisor: gatasker.TaskSupervisor) -> None:
    log = Log()
    marker = object()

    def executor(*args: Any, **kwargs: Any) -> bool:
        log.add((args, kwargs))
        return False  # one run, then the worker stops

    worker = BackgroundWorker(func=executor, o=marker, supervisor=supervisor, name='w1')
    assert worker.start(1, 2, x=3, _priority=TASK_HIGH, _name='renamed')
    log.wait_for(1)
    worker._actor.stopped.wait(10)
    args, kwargs = log.calls[0]
    assert args == (1, 2)
    assert kwargs['x'] == 3 and kwargs['_worker'] is worker and kwargs['o'] is marker
    assert kwargs['_name'] == 'renamed' and '_task_id' in kwargs
    assert not any(k in kwargs for k in ('_priority', '_interval', '_delay', '_loop'))
    assert worker.is_stopped() and not worker.is_active()
    assert verifyObject(gatasker.IWorker, worker)


def test_exceptions_go_to_on_error_and_the_worker_goes_on(
        supervisor: gatasker.TaskSupervisor, caplog: pytest.LogCaptureFixture) -> None:
    log = Log()
    errors: list[Any] = []

    def executor(**_: Any) -> None:
        log.add(1)
        if len(log.calls) <= 2:
            raise ValueError('flaky')

    worker = BackgroundWorker(func=executor, on_error=lambda **kw: errors.append(kw),
                              on_error_kwargs={'who': 'me'}, supervisor=supervisor)
    with caplog.at_level(logging.ERROR, logger='gatasker'):
        worker.start()
        log.wait_for(5)
        worker.stop()
    assert errors[:2] == [{'who': 'me'}, {'who': 'me'}]
    failures = [r for r in caplog.records if 'executor failed' in r.getMessage()]
    assert len(failures) >= 2 and all(r.exc_info for r in failures)


@pytest.mark.parametrize('tt', [TT_THREAD, TT_GREENLET], ids=['thread', 'greenlet'])
def test_executor_runs_as_a_task_in_the_workers_tier(supervisor: gatasker.TaskSupervisor,
                                                     tt: int) -> None:
    log = Log()

    def executor(**kwargs: Any) -> bool:
        task = supervisor.get_task(kwargs['_task_id'])
        log.add((real_thread_id(), task.tt, task.priority, task.worker))
        return False

    hub = supervisor.put_task(lambda **_: real_thread_id(), tt=TT_GREENLET).get(timeout=10)
    worker = BackgroundWorker(func=executor, tt=tt, priority=TASK_HIGH, supervisor=supervisor)
    worker.start()
    log.wait_for(1)
    thread, task_tt, priority, owner = log.calls[0]
    assert (task_tt, priority, owner) == (tt, TASK_HIGH, worker)
    assert (thread == hub) == (tt == TT_GREENLET)


def test_a_greenlet_tier_run_is_counted_by_the_tier_and_waits_for_a_slot(
        supervisor: gatasker.TaskSupervisor) -> None:
    import zope.event

    from gatasker._events import TaskQueued
    supervisor.set_greenlet_pool(pool_size=1, reserve_normal=0, reserve_high=0)
    order: list[Any] = []
    started, gate, queued = Latch(), Latch(), Latch()

    def block(**_: Any) -> None:
        started.set()
        gate.wait()
        order.append('blocker ended')

    def executor(**kwargs: Any) -> bool:
        task = supervisor.get_task(kwargs['_task_id'])
        order.append(('run', supervisor.get_info().greenlet_tasks_count, task.is_started()))
        return False

    def on_event(event: object) -> None:
        if isinstance(event, TaskQueued) and event.task.worker is worker:
            queued.set()

    blocker = supervisor.put_task(block, tt=TT_GREENLET)
    assert started.wait(10)
    worker = BackgroundWorker(func=executor, tt=TT_GREENLET, supervisor=supervisor)
    zope.event.subscribers.append(on_event)
    try:
        worker.start()
        assert queued.wait(10)  # the run is queued while the only slot is taken
    finally:
        zope.event.subscribers.remove(on_event)
    gate.set()
    blocker.wait(10)
    assert worker._actor.stopped.wait(10)
    # it waited for the slot, and ran counted as the tier's one running task
    assert order == ['blocker ended', ('run', 1, True)]
    # with the slot free it runs at once, counted the same
    order.clear()
    worker.start()
    assert worker._actor.stopped.wait(10)
    assert order == [('run', 1, True)]
    assert supervisor.get_info().greenlet_tasks_count == 0


def test_back_to_back_greenlet_runs_yield_to_the_hub(
        supervisor: gatasker.TaskSupervisor) -> None:
    runs = [0]
    other = Latch()

    def spin(**_: Any) -> None:
        runs[0] += 1

    worker = BackgroundWorker(func=spin, tt=TT_GREENLET, supervisor=supervisor)
    worker.start()
    try:
        # a never-yielding executor run back to back still lets other work in
        supervisor.put_task(lambda **_: other.set(), tt=TT_GREENLET)
        assert other.wait(10)
    finally:
        worker.stop()
    assert runs[0] > 0


def test_queue_worker_keeps_per_thread_fifo_from_four_threads(
        supervisor: gatasker.TaskSupervisor) -> None:
    log = Log()

    @background_worker(q=True, supervisor=supervisor, tt=TT_GREENLET)
    def consume(item: Any, **_: Any) -> None:
        log.add(item)

    assert isinstance(consume, BackgroundQueueWorker)
    consume.start()
    done = [Latch() for _ in range(4)]
    puts = [consume.tell, consume.put, consume.put_threadsafe, consume.put]

    def producer(n: int) -> None:
        for i in range(10_000):
            puts[n]((n, i))
        done[n].set()

    for n in range(4):
        start_real_thread(lambda n=n: producer(n), f'producer{n}')
    assert all(d.wait(60) for d in done)
    log.wait_for(40_000, timeout=120)
    consume.stop()
    assert len(log.calls) == 40_000
    for n in range(4):
        assert [i for who, i in log.calls if who == n] == list(range(10_000))


def test_priority_queue_worker_serves_the_smallest_first(
        supervisor: gatasker.TaskSupervisor) -> None:
    log = Log()
    gate = Latch()

    @background_worker(q=queue.PriorityQueue, supervisor=supervisor, tt=TT_THREAD)
    def consume(item: Any, **_: Any) -> None:
        if item == 0:
            gate.wait(30)
        log.add(item)

    consume.start()
    consume.put(0)
    for item in (5, 3, 9, 1, 3):
        consume.put(item)
    gate.set()
    log.wait_for(6)
    consume.stop()
    assert log.calls == [0, 1, 3, 3, 5, 9]


def test_queue_items_at_stop_run_with_drain_else_are_counted(
        supervisor: gatasker.TaskSupervisor, caplog: pytest.LogCaptureFixture) -> None:
    for drain in (True, False):
        log = Log()
        gate = Latch()
        taken = Latch()

        def consume(item: Any, **_: Any) -> None:
            if item == 'first':
                taken.set()
                gate.wait(30)
            log.add(item)

        worker = BackgroundQueueWorker(func=consume, supervisor=supervisor, tt=TT_THREAD)
        worker.start()
        worker.put('first')
        for i in range(3):
            worker.put(i)
        assert taken.wait(10)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger='gatasker'):
            assert worker.stop(wait=False, drain=drain)  # requested while 'first' runs
            gate.set()
            assert worker._actor.stopped.wait(20)
        if drain:
            assert log.calls == ['first', 0, 1, 2]
        else:
            assert log.calls == ['first']
            assert any('3 queued item(s) not run' in r.getMessage() for r in caplog.records)


def test_event_worker_coalesces_triggers(supervisor: gatasker.TaskSupervisor) -> None:
    log = Log()
    gate = Latch()
    started = Latch()

    @background_worker(e=True, priority=TASK_HIGH, supervisor=supervisor, tt=TT_THREAD)
    def on_event(**_: Any) -> None:
        log.add(1)
        if len(log.calls) == 1:
            started.set()
            gate.wait(30)

    assert isinstance(on_event, BackgroundEventWorker)
    on_event.start()
    on_event.trigger()
    assert started.wait(10)
    on_event.trigger()  # dropped: it is running
    on_event.trigger_threadsafe()  # dropped too
    on_event.trigger(force=True)  # one more run after this one
    on_event.trigger(force=True)  # coalesces with the previous
    gate.set()
    log.wait_for(2)
    on_event.trigger(force=True)  # runs whether run 2 is still going or not
    log.wait_for(3)
    on_event.stop()
    assert len(log.calls) == 3


def test_interval_worker_runs_never_overlap(supervisor: gatasker.TaskSupervisor) -> None:
    log = Log()
    lock = allocate_lock()
    state = {'running': 0, 'overlap': 0}
    import gevent

    def tick(**_: Any) -> None:
        with lock:
            state['running'] += 1
            state['overlap'] = max(state['overlap'], state['running'])
        gevent.sleep(0.03)  # longer than the interval
        with lock:
            state['running'] -= 1
        log.add(1)

    worker = BackgroundIntervalWorker(func=tick, interval=0.01, supervisor=supervisor,
                                      tt=TT_GREENLET)
    worker.start()
    log.wait_for(5)
    worker.stop()
    assert state['overlap'] == 1


def test_an_interval_run_never_starts_before_its_grid_point(
        supervisor: gatasker.TaskSupervisor) -> None:
    # A first run that holds the hub (no yield) leaves the hub's loop time
    # behind the clock; a timer counted from it would fire the next run early.
    log = Log()

    def tick(**_: Any) -> None:
        import time
        log.add(time.monotonic())
        if len(log.calls) == 1:
            ends = time.monotonic() + 0.1
            while time.monotonic() < ends:  # busy: holds the hub
                pass

    worker = BackgroundIntervalWorker(func=tick, interval=0.2, supervisor=supervisor,
                                      tt=TT_GREENLET)
    worker.start()
    log.wait_for(3)
    worker.stop()
    first = log.calls[0]
    # the grid starts where the first run started, a moment before tick() read
    # the clock: 50 ms of slack for that moment on a loaded machine
    assert log.calls[1] - first > 0.15
    assert log.calls[2] - first > 0.35


def test_decorator_forms() -> None:
    def f(**_: Any) -> None:
        pass

    async def coro(**_: Any) -> None:
        pass

    assert type(background_worker(f)) is BackgroundWorker
    assert background_worker(f).name == 'f'
    assert isinstance(background_worker(interval=1)(f), BackgroundIntervalWorker)
    assert isinstance(background_worker(delay=1)(f), BackgroundIntervalWorker)
    assert isinstance(background_worker(delay_before=1)(f), BackgroundIntervalWorker)
    assert isinstance(background_worker(q=True)(f), BackgroundQueueWorker)
    assert isinstance(background_worker(queue=True)(f), BackgroundQueueWorker)
    assert isinstance(background_worker(e=True, priority=TASK_HIGH)(f), BackgroundEventWorker)
    assert isinstance(background_worker(event=True)(f), BackgroundEventWorker)
    assert isinstance(background_worker(coro), gatasker.BackgroundAsyncWorker)
    with pytest.raises(ValueError):
        background_worker(interval=1, delay=2)(f)
    with pytest.raises(ValueError):
        background_worker(interval=-1)(f)
    with pytest.raises(ValueError):
        background_worker(priority=7)(f)
    with pytest.raises(TypeError):
        background_worker(bogus=1)(f)


@pytest.mark.parametrize('cls, extra', [
    (BackgroundWorker, {}), (BackgroundQueueWorker, {'q': True}), (BackgroundEventWorker, {}),
    (BackgroundIntervalWorker, {'interval': 1}), (gatasker.BackgroundAsyncWorker, {}),
])
def test_every_kind_takes_name_and_func_positionally_and_the_rest_by_keyword(
        cls: type[BackgroundWorker], extra: dict[str, Any]) -> None:
    def f(**_: Any) -> None:
        pass

    worker = cls('named', f, priority=TASK_HIGH, tt=TT_GREENLET, o='obj', **extra)
    assert (worker.name, worker.executor, worker.priority, worker.tt, worker.o) == (
        'named', f, TASK_HIGH, TT_GREENLET, 'obj')
    assert cls(func=f, **extra).name == 'f'
    with pytest.raises(TypeError):
        cls(func=f, bogus=1, **extra)
    with pytest.raises(TypeError):
        cls('named', 'not callable', **extra)
    with pytest.raises(ValueError):
        cls('named', f, priority=7, **extra)


def test_subclass_and_spawn(supervisor: gatasker.TaskSupervisor) -> None:
    log = Log()

    class Ticker(BackgroundIntervalWorker):
        def run(self, *args: Any, **kwargs: Any) -> None:
            log.add(args)

    worker = Ticker(interval=0.01, supervisor=supervisor, name='ticker')
    assert worker.start('a')
    assert not worker.start('a')
    log.wait_for(3)
    assert 'ticker' in supervisor.get_info().workers
    worker.stop()
    assert log.calls[0] == ('a',)
    spawned = Ticker.spawn(interval=0.01, supervisor=supervisor, name='spawned')
    assert spawned.is_active() and spawned.supervisor is supervisor
    assert 'spawned' in supervisor.get_info().workers
    spawned.stop()


def test_stop_never_hangs(supervisor: gatasker.TaskSupervisor) -> None:
    # a full pool: the executor task waits for a slot and is canceled by stop()
    supervisor.set_thread_pool(pool_size=1, reserve_normal=0, reserve_high=0)
    gate = Latch()
    blocker = supervisor.put_task(lambda **_: gate.wait(30), tt=TT_THREAD)
    worker = BackgroundWorker(func=lambda **_: None, supervisor=supervisor, tt=TT_THREAD)
    worker.start()
    assert worker.stop(wait=10)
    gate.set()
    blocker.wait(10)
    # after an error and after returning False
    for body in (lambda **_: 1 / 0, lambda **_: False):
        w = BackgroundWorker(func=body, supervisor=supervisor)
        w.start()
        w.stop(wait=10)
        assert w.is_stopped()


def test_restart_keeps_one_schedule(supervisor: gatasker.TaskSupervisor) -> None:
    log = Log()
    worker = BackgroundIntervalWorker(func=lambda **_: log.add(1), interval=0.01,
                                      supervisor=supervisor, tt=TT_GREENLET)
    worker.start()
    log.wait_for(2)
    first_timer = worker._timer
    assert worker.restart()
    log.wait_for(len(log.calls) + 2)
    assert worker._timer is not first_timer
    assert first_timer is None or not first_timer.active
    worker.stop()
    assert worker._timer is None


def test_an_interval_worker_that_fails_leaves_no_timer(
        supervisor: gatasker.TaskSupervisor) -> None:
    log = Log()

    def fail(**_: Any) -> None:
        log.add(1)
        raise RuntimeError('boom')

    worker = BackgroundIntervalWorker(func=fail, interval=0.01, supervisor=supervisor,
                                      tt=TT_GREENLET)
    worker.fail_on_error = True  # the failure ends the worker without a stop()
    worker.start()
    log.wait_for(1)
    assert worker._actor.stopped.wait(20)
    assert worker.is_stopped()
    assert worker._timer is None  # not re-armed, nor left armed to fire on an ended worker
    assert log.calls == [1]


def test_supervisor_stop_stops_workers() -> None:
    sup = gatasker.TaskSupervisor()
    sup.start()
    log = Log()
    worker = BackgroundIntervalWorker(func=lambda **_: log.add(1), interval=0.01, supervisor=sup)
    worker.start()
    log.wait_for(2)
    sup.stop()
    assert worker.is_stopped()


SEED_WORKERS = '''
import gatasker as atasker
from gatasker import background_worker, TASK_HIGH, BackgroundIntervalWorker
from gatasker._bridge import Latch

ran = {name: Latch() for name in ('worker1', 'worker2', 'worker3', 'worker4', 'worker5',
                                  'worker_async')}

@background_worker
def worker1(**kwargs):
    ran['worker1'].set()

@background_worker
async def worker_async(**kwargs):
    ran['worker_async'].set()

@background_worker(interval=0.01)
def worker2(**kwargs):
    ran['worker2'].set()

@background_worker(queue=True)
def worker3(task, **kwargs):
    assert task == 'todo1'
    ran['worker3'].set()

@background_worker(event=True, priority=TASK_HIGH)
def worker4(**kwargs):
    ran['worker4'].set()

worker1.start()
worker_async.start()
worker2.start()
worker3.start()
worker4.start()
worker3.put('todo1')
worker4.trigger()

class MyWorker(BackgroundIntervalWorker):
    def run(self, **kwargs):
        ran['worker5'].set()

worker5 = MyWorker(interval=0.1, name='worker5')
worker5.start()
assert all(latch.wait(10) for latch in ran.values())
for w in (worker1, worker_async, worker2, worker3, worker4):
    w.stop()
worker5.stop(wait=False)
print('seed workers ok')
'''


def test_seed_worker_examples() -> None:
    proc = run_python(SEED_WORKERS, patched=(MODE == 'embedded'))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == 'seed workers ok'
