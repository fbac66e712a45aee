"""start() and stop() from several OS threads at once (the main one too), in both modes.

Patched, a thread other than the main one has a hub that runs only while that
thread waits in gevent, so start() there runs the supervisor in threaded mode
instead of binding it to that hub.
"""

from __future__ import annotations

from typing import Any

import gevent

import gatasker
from gatasker import TT_GREENLET
from gatasker._bridge import Latch, allocate_lock, start_real_thread

THREADS = 4
ROUNDS = 25
WAIT = 60


def test_start_from_a_foreign_thread_runs_threaded() -> None:
    sup = gatasker.TaskSupervisor()
    modes: list[Any] = []
    done = Latch()

    def foreign() -> None:
        try:
            assert sup.start()
            modes.append(sup.mode)
            modes.append(sup.put_task(lambda **_: 'ran', tt=TT_GREENLET).get(timeout=WAIT))
        finally:
            done.set()

    start_real_thread(foreign, 'foreign-start')
    assert done.wait(WAIT)
    # The foreign thread has ended: the supervisor must still run tasks.
    try:
        assert modes == ['threaded', 'ran']
        assert sup.put_task(lambda **_: 'still', tt=TT_GREENLET).get(timeout=WAIT) == 'still'
    finally:
        assert sup.stop()


def test_threads_start_and_stop_one_supervisor_at_once() -> None:
    sup = gatasker.TaskSupervisor()
    finished = [Latch() for _ in range(THREADS)]
    errors: list[BaseException] = []
    lock = allocate_lock()
    ran = [0]

    def churn(index: int) -> None:
        try:
            for _ in range(ROUNDS):
                sup.start()
                sum(range(50_000))  # busy outside gevent: this thread's hub does not run now
                try:
                    task = sup.put_task(lambda **_: 1, tt=TT_GREENLET)
                except gatasker.SupervisorNotRunning:
                    pass  # another thread stopped it in between
                else:
                    if task.wait(WAIT) and task.result == 1:
                        with lock:
                            ran[0] += 1
                sup.stop()
        except BaseException as exc:  # handed to the test
            errors.append(exc)
        finally:
            finished[index].set()

    for i in range(THREADS - 1):
        start_real_thread(lambda i=i: churn(i), f'churn-{i}')  # type: ignore[misc]
    churn(THREADS - 1)  # the main thread churns too
    for latch in finished:
        assert latch.wait(WAIT), 'a thread wedged in start() or stop()'
    assert errors == []
    assert ran[0] > 0
    # Whoever started it last, it still works from here.
    sup.stop()
    assert sup.start()
    try:
        assert sup.put_task(lambda **_: 'ok', tt=TT_GREENLET).get(timeout=WAIT) == 'ok'
        gevent.sleep(0)
    finally:
        assert sup.stop()
