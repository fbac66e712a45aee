"""stop() with 10,000 queued tasks: completes them, cancels them, or bounds the wait."""

from __future__ import annotations

from typing import Any

import pytest

import gatasker
from gatasker import TASK_STATUS_CANCELED, TASK_STATUS_COMPLETED, TT_GREENLET, TT_THREAD
from gatasker._bridge import Latch

N = 10_000


def loaded(tt: int) -> tuple[gatasker.TaskSupervisor, list[gatasker.Task], Latch, list[int]]:
    sup = gatasker.TaskSupervisor(pool_size=4, reserve_normal=0, reserve_high=0)
    sup.set_greenlet_pool(pool_size=4, reserve_normal=0, reserve_high=0)
    sup.start()
    gate = Latch()
    ran: list[int] = []

    def work(i: int, **_: Any) -> int:
        if i < 4:
            gate.wait(30)
        ran.append(i)
        return i

    tasks = [sup.put_task(work, (i,), tt=tt) for i in range(N)]
    return sup, tasks, gate, ran


@pytest.mark.parametrize('tt', [TT_THREAD, TT_GREENLET], ids=['thread', 'greenlet'])
def test_stop_completes_queued_tasks(tt: int) -> None:
    sup, tasks, gate, ran = loaded(tt)
    gate.set()
    assert sup.stop()
    assert all(t.status == TASK_STATUS_COMPLETED for t in tasks)
    assert sorted(ran) == list(range(N))
    assert not sup.stop()  # a second stop is harmless


@pytest.mark.parametrize('tt', [TT_THREAD, TT_GREENLET], ids=['thread', 'greenlet'])
def test_stop_without_waiting_cancels_them(tt: int) -> None:
    sup, tasks, gate, ran = loaded(tt)
    assert sup.stop(wait=False)
    gate.set()
    gatasker.wait_completed(tasks, return_exceptions=True, timeout=30)
    canceled = [t for t in tasks if t.status == TASK_STATUS_CANCELED]
    completed = [t for t in tasks if t.status == TASK_STATUS_COMPLETED]
    assert len(canceled) + len(completed) == N  # nothing lost
    assert len(completed) <= 4 and sorted(ran) == sorted(t.result for t in completed)


@pytest.mark.parametrize('tt', [TT_THREAD, TT_GREENLET], ids=['thread', 'greenlet'])
def test_stop_with_a_bound_returns_and_cancels_the_rest(tt: int) -> None:
    sup, tasks, gate, _ = loaded(tt)
    assert sup.stop(wait=0.5)  # the four running tasks hold the pool the whole time
    assert not sup.is_started()
    gate.set()
    gatasker.wait_completed(tasks, return_exceptions=True, timeout=30)
    statuses = {t.status for t in tasks}
    assert statuses <= {TASK_STATUS_CANCELED, TASK_STATUS_COMPLETED}
    assert sum(t.status == TASK_STATUS_CANCELED for t in tasks) >= N - 4
    assert not sup.stop()
