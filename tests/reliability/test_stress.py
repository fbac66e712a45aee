"""Many threads queuing while the pools resize: nothing lost, nothing doubled, limits held."""

from __future__ import annotations

import os
import random
from typing import Any

import gevent
import pytest
from gevent import monkey

import gatasker
from gatasker import TASK_CRITICAL, TASK_HIGH, TASK_LOW, TASK_NORMAL, TT_GREENLET, TT_THREAD
from gatasker._bridge import Latch, allocate_lock, start_real_thread

PRIORITIES = (TASK_LOW, TASK_NORMAL, TASK_HIGH)
PER_THREAD = int(os.environ.get('GATASKER_STRESS_TASKS', '10000'))
real_sleep = monkey.get_original('time', 'sleep')
SIZES = [(2, 1, 1), (6, 2, 2), (1, 0, 1), (10, 3, 3), (4, 4, 0)]


class Meter:
    """Counts runs per task and the highest concurrency seen by each priority."""

    def __init__(self) -> None:
        self.lock = allocate_lock()
        self.runs: dict[Any, int] = {}
        self.running = 0
        self.violations: list[str] = []
        self.limits: dict[int, int] = {}
        self.max_running = 0

    def target(self, key: Any, priority: int, cooperative: bool, **_: Any) -> Any:
        with self.lock:
            self.running += 1
            self.max_running = max(self.max_running, self.running)
            self.runs[key] = self.runs.get(key, 0) + 1
            limit = self.limits.get(priority)
            # Resizing lowers limits while tasks run; only check against the
            # largest limit ever allowed, which no start may exceed.
            if limit is not None and self.running > limit:
                self.violations.append(f'{self.running} running with a {priority} task, '
                                       f'limit {limit}')
        try:
            if key[1] % 10 == 0:  # hold the slot a little, so tasks overlap
                gevent.sleep(0.001) if cooperative else real_sleep(0.001)
            return key
        finally:
            with self.lock:
                self.running -= 1


@pytest.mark.timeout(600)
@pytest.mark.parametrize('tt', [TT_THREAD, TT_GREENLET], ids=['thread', 'greenlet'])
def test_eight_threads_queue_while_the_pool_resizes(tt: int) -> None:
    sup = gatasker.TaskSupervisor()
    sup.start()
    meter = Meter()
    resize = sup.set_thread_pool if tt == TT_THREAD else sup.set_greenlet_pool
    extra = {'max_size': 40} if tt == TT_THREAD else {}
    biggest = max(p + n + h for p, n, h in SIZES)
    meter.limits = {TASK_LOW: max(p for p, _, _ in SIZES),
                    TASK_NORMAL: max(p + n for p, n, _ in SIZES),
                    TASK_HIGH: biggest}
    resize(pool_size=2, reserve_normal=1, reserve_high=1, **extra)
    tasks: list[list[gatasker.Task]] = [[] for _ in range(8)]
    producers_done = [Latch() for _ in range(8)]
    stop_resizing = Latch()
    resizer_done = Latch()
    errors: list[BaseException] = []

    def producer(n: int) -> None:
        rng = random.Random(n)
        try:
            for i in range(PER_THREAD):
                priority = PRIORITIES[rng.randrange(3)] if i % 500 else TASK_CRITICAL
                tasks[n].append(sup.put_task(meter.target, ((n, i), priority, tt == TT_GREENLET),
                                             tt=tt, priority=priority))
        except BaseException as exc:
            errors.append(exc)
        finally:
            producers_done[n].set()

    def resizer() -> None:
        rng = random.Random(99)
        try:
            while not stop_resizing.wait(0.002):
                pool, normal, high = rng.choice(SIZES)
                resize(pool_size=pool, reserve_normal=normal, reserve_high=high, **extra)
        finally:
            resizer_done.set()

    start_real_thread(resizer, 'resizer')
    for n in range(8):
        start_real_thread(lambda n=n: producer(n), f'producer{n}')
    try:
        assert all(done.wait(300) for done in producers_done)
        assert not errors, errors
        everything = [task for mine in tasks for task in mine]
        results = gatasker.wait_completed(everything, timeout=300)
    finally:
        stop_resizing.set()
        assert resizer_done.wait(30)
        sup.stop(wait=30)
    assert len(results) == 8 * PER_THREAD
    assert results == [(n, i) for n in range(8) for i in range(PER_THREAD)]
    assert len(meter.runs) == 8 * PER_THREAD and set(meter.runs.values()) == {1}
    assert all(t.status == gatasker.TASK_STATUS_COMPLETED for t in everything)
    assert not meter.violations, meter.violations[:5]
    assert meter.max_running > 2  # the limits were really exercised
    assert sup.get_tasks() == {}


SECONDS = float(os.environ.get('GATASKER_STRESS_SECONDS', '20'))


@pytest.mark.timeout(600)
def test_threads_and_greenlets_put_tasks_tell_actors_and_resize_at_once() -> None:
    """8 OS threads and 100 greenlets for GATASKER_STRESS_SECONDS: every task and
    message is counted exactly once."""
    sup = gatasker.TaskSupervisor()
    sup.start()
    lock = allocate_lock()
    ran: dict[Any, int] = {}
    accepted: list[gatasker.Task] = []

    def target(key: Any, **_: Any) -> Any:
        with lock:
            ran[key] = ran.get(key, 0) + 1
        return key

    class Tally(gatasker.Actor):
        def on_start(self) -> None:
            self.seen: dict[Any, int] = {}

        def on_receive(self, message: Any) -> Any:
            self.seen[message] = self.seen.get(message, 0) + 1
            return len(self.seen)

    tally = Tally.spawn(supervisor=sup)
    told: list[Any] = []
    stop = Latch()

    def load(who: str, cooperative: bool) -> None:
        rng = random.Random(who)
        i = 0
        while not stop.is_set():
            key = (who, i)
            tt = TT_GREENLET if rng.random() < 0.5 else TT_THREAD
            task = sup.put_task(target, (key,), tt=tt, priority=PRIORITIES[i % 3])
            tally.tell(key)
            with lock:
                accepted.append(task)
                told.append(key)
            if i % 50 == 0:
                pool, normal, high = rng.choice(SIZES)
                sup.set_thread_pool(pool_size=pool, reserve_normal=normal, reserve_high=high)
                sup.set_greenlet_pool(pool_size=pool, reserve_normal=normal, reserve_high=high)
            if cooperative and i % 10 == 0:
                gevent.sleep(0)
            i += 1

    threads_done = [Latch() for _ in range(8)]
    for n in range(8):
        start_real_thread(lambda n=n: (load(f'thread{n}', False), threads_done[n].set()),
                          f'load{n}')
    greenlets = [gevent.spawn(load, f'greenlet{n}', True) for n in range(100)]
    gevent.sleep(SECONDS)
    stop.set()
    gevent.joinall(greenlets, timeout=60)
    assert all(done.wait(60) for done in threads_done)
    results = gatasker.wait_completed(accepted, timeout=300)
    distinct = tally.ask('barrier', timeout=60)
    sup.stop(wait=30)
    assert len(results) == len(accepted) == len(told) > 1000
    assert set(ran.values()) == {1} and len(ran) == len(accepted)
    assert all(t.status == gatasker.TASK_STATUS_COMPLETED for t in accepted)
    assert distinct == len(told) + 1
    assert set(tally.seen.values()) == {1}
    print(f'stress: {len(accepted)} tasks and {len(told)} messages, each exactly once')
