"""The bridge: Latch and Inbox across OS threads and greenlets."""

from __future__ import annotations

import gevent
import pytest

from gatasker._bridge import Inbox, Latch, allocate_lock, real_thread_id, start_real_thread


def test_latch_set_from_a_thread_wakes_a_greenlet_and_the_hub_keeps_running() -> None:
    latch = Latch()
    ticks = []
    ticker = gevent.spawn(lambda: [ticks.append(gevent.sleep(0.001)) for _ in range(1000)])
    start_real_thread(lambda: (gevent.monkey.get_original('time', 'sleep')(0.05), latch.set()),
                      'setter')
    assert latch.wait(10)
    assert ticks, 'the hub did not run while the greenlet waited'
    ticker.kill()


def test_latch_wakes_plain_threads() -> None:
    latch = Latch()
    woke = []
    lock = allocate_lock()
    done = [Latch() for _ in range(4)]

    def waiter(i: int) -> None:
        assert latch.wait(10)
        with lock:
            woke.append(i)
        done[i].set()

    for i in range(4):
        start_real_thread(lambda i=i: waiter(i), f'waiter{i}')
    assert not latch.wait(0.01)
    assert latch.set() and not latch.set()
    assert all(d.wait(10) for d in done)
    assert sorted(woke) == [0, 1, 2, 3]


def test_latch_timeouts() -> None:
    latch = Latch()
    assert not latch.wait(0)
    assert not latch.wait(0.01)
    assert not latch.is_set()


def test_latch_cannot_wait_in_the_hub() -> None:
    latch = Latch()
    hub = gevent.get_hub()
    errors = []
    hub.loop.run_callback(lambda: errors.append(pytest.raises(RuntimeError, latch.wait, 1)))
    gevent.sleep(0)  # the callback queued before this yield runs first
    assert errors


def test_inbox_keeps_order_per_thread_and_loses_nothing() -> None:
    inbox = Inbox()
    finished = [Latch() for _ in range(4)]

    def producer(n: int) -> None:
        for i in range(2000):
            inbox.put((n, i))
        finished[n].set()

    for n in range(4):
        start_real_thread(lambda n=n: producer(n), f'producer{n}')
    for i in range(100):
        inbox.put(('local', i))
    got: list[tuple[object, int]] = []
    while len(got) < 8100:
        items = inbox.take()
        while items:
            got.append(items.popleft())
    inbox.close()
    assert all(f.wait(10) for f in finished)
    for n in list(range(4)) + ['local']:
        mine = [i for who, i in got if who == n]
        assert mine == sorted(mine) and len(mine) == (100 if n == 'local' else 2000)


def test_real_threads_are_real() -> None:
    seen = []
    done = Latch()
    start_real_thread(lambda: (seen.append(real_thread_id()), done.set()), 'probe')
    assert done.wait(10)
    assert seen[0] != real_thread_id()
