"""Locker across greenlets and OS threads, with timeouts."""

from __future__ import annotations

import logging
from typing import Any

import gevent
import pytest

from gatasker import Locker
from gatasker._bridge import Latch, allocate_lock, start_real_thread


def test_decorator_and_with_serialise_and_are_reentrant() -> None:
    lock = Locker(mod='test', timeout=5)
    inside = []

    @lock
    def outer() -> str:
        with lock:  # relative=True: the owner may take it again
            inside.append(1)
        return 'done'

    assert outer() == 'done' and inside == [1]


def test_timeout_logs_critical_calls_critical_and_skips(caplog: pytest.LogCaptureFixture) -> None:
    lock = Locker(mod='mymod', timeout=0.05)
    calls: list[int] = []
    lock.critical = lambda: calls.append(1)  # type: ignore[method-assign]
    holder_has_it = Latch()
    release = Latch()

    def holder() -> None:
        with lock:
            holder_has_it.set()
            release.wait(10)

    start_real_thread(holder, 'holder')
    assert holder_has_it.wait(10)
    ran = []

    @lock
    def guarded() -> str:
        ran.append(1)
        return 'ran'

    with caplog.at_level(logging.CRITICAL, logger='gatasker'):
        assert guarded() is None
        with pytest.raises(TimeoutError):
            with lock:
                ran.append(2)
    release.set()
    assert ran == [] and calls == [1, 1]
    assert [r.levelno for r in caplog.records if 'mymod' in r.getMessage()] == [50, 50]


def test_non_relative_lock_is_not_reentrant() -> None:
    lock = Locker(timeout=0.05, relative=False)
    with lock:
        with pytest.raises(TimeoutError):
            with lock:
                pass


def test_a_greenlet_and_a_thread_contend() -> None:
    lock = Locker(timeout=10)
    counter = {'value': 0, 'max_inside': 0, 'inside': 0}
    guard = allocate_lock()
    real_sleep = gevent.monkey.get_original('time', 'sleep')

    def critical_section(cooperative: bool) -> None:
        with lock:
            with guard:
                counter['inside'] += 1
                counter['max_inside'] = max(counter['max_inside'], counter['inside'])
            if cooperative:
                gevent.sleep(0.001)
            else:
                real_sleep(0.001)
            counter['value'] += 1
            with guard:
                counter['inside'] -= 1

    done = Latch()
    start_real_thread(lambda: ([critical_section(False) for _ in range(50)], done.set()),
                      'contender')
    greenlets = [gevent.spawn(critical_section, True) for _ in range(50)]
    gevent.joinall(greenlets, timeout=30)
    assert done.wait(30)
    assert counter['value'] == 100 and counter['max_inside'] == 1


def test_waiting_greenlets_do_not_stop_the_hub() -> None:
    lock = Locker(timeout=30)
    ticks: list[Any] = []
    holding = Latch()
    release = gevent.event.Event()

    def holder() -> None:
        with lock:
            holding.set()
            release.wait()

    def heartbeat() -> None:
        while True:
            ticks.append(1)
            gevent.sleep(0.01)

    beat = gevent.spawn(heartbeat)
    hold = gevent.spawn(holder)
    assert holding.wait(10)
    waiters = [gevent.spawn(lambda: lock.__enter__() and lock.__exit__()) for _ in range(100)]
    before = len(ticks)
    gevent.sleep(0.1)  # the heartbeat must tick while 100 greenlets wait for the lock
    assert len(ticks) > before
    release.set()
    gevent.joinall([hold, *waiters], timeout=30)
    assert all(w.dead and w.successful() for w in waiters)
    beat.kill()


def test_release_by_a_stranger_is_an_error() -> None:
    lock = Locker()
    with pytest.raises(RuntimeError):
        lock.release()
    with pytest.raises(ValueError):
        Locker(timeout=-1)
