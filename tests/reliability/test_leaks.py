"""Start/stop cycles leave no OS thread and no file descriptor behind."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import gatasker
from gatasker import TT_GREENLET, TT_THREAD

CYCLES = 50


def _threads() -> int:
    return len(os.listdir('/proc/self/task'))


def _fds() -> int:
    return len(os.listdir('/proc/self/fd'))


async def _answer() -> int:
    return 42


def _cycle() -> None:
    sup = gatasker.TaskSupervisor()
    assert sup.start()
    try:
        # Several thread tasks at once, so the thread tier starts several threads.
        tasks = [sup.put_task(lambda **_: 1, tt=TT_THREAD) for _ in range(4)]
        assert gatasker.wait_completed(tasks, timeout=10) == [1] * 4
        assert sup.put_task(lambda **_: 2, tt=TT_GREENLET).get(timeout=10) == 2
        aloop = sup.create_aloop('leak', default=True)
        assert aloop.run(_answer(), timeout=10) == 42
    finally:
        assert sup.stop(wait=5)


def _settled(count: Callable[[], int], limit: int) -> int:
    # Pool threads may end just after stop() returned; give them a bounded moment
    # (a leak is one thread or fd per cycle and never settles).
    deadline = time.monotonic() + 10
    value = count()
    while value > limit and time.monotonic() < deadline:
        time.sleep(0.05)
        value = count()
    return value


def test_start_stop_cycles_leak_no_thread_and_no_fd() -> None:
    _cycle()  # first-use imports and lazily created helpers are not leaks
    threads, fds = _threads(), _fds()
    for _ in range(CYCLES):
        _cycle()
    assert _settled(_threads, threads) <= threads
    assert _settled(_fds, fds) <= fds
