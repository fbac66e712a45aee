"""What atasker 0.7's own test suite (its tests/test.py) checks, in our words.

atasker's suite sleeps and then counts; these tests wait for events instead
and check the same outcomes: greenlet/thread-local ``g`` not crossing into a
task, a process task's callback, a process-tier interval worker whose
``process_result`` sees every run, a plain function given ``loop=``, and
idle counters in ``get_info()``. (Collections, workers, the Locker, aloop
thread names and ``wait_completed`` are covered by test_atasker_compat.py,
test_atasker_contract.py, test_workers.py and test_aloop.py.)
"""

from __future__ import annotations

from typing import Any

from compat_targets import Counting, add_keyword
from conftest import settle

import gatasker
from gatasker import TT_MP, TaskSupervisor
from gatasker._bridge import Latch


def test_g_does_not_cross_into_a_task(supervisor: TaskSupervisor) -> None:
    seen: dict[str, Any] = {}

    def task() -> None:
        seen['inside'] = gatasker.g.get('test', 222)
        gatasker.g.set('ttt', 333)

    gatasker.g.set('test', 1)
    gatasker.g.clear('test')
    assert not gatasker.g.has('test')
    gatasker.g.set('test', 999)
    gatasker.wait_completed(gatasker.background_task(task, supervisor=supervisor)(), timeout=20)
    assert seen['inside'] == 222
    assert gatasker.g.get('ttt') is None
    gatasker.g.clear('test')


def test_process_task_callback_gets_the_result(supervisor: TaskSupervisor) -> None:
    got: list[Any] = []
    called = Latch()

    def callback(result: Any) -> None:
        got.append(result)
        called.set()

    supervisor.create_mp_pool(processes=1)
    task = gatasker.background_task(add_keyword, tt=TT_MP, callback=callback,
                                    supervisor=supervisor)(3, x=7)
    assert task.get(timeout=60) == 10
    assert called.wait(30) and got == [10]


def test_process_interval_worker_reports_every_run(supervisor: TaskSupervisor) -> None:
    supervisor.set_mp_pool(pool_size=2, reserve_normal=0, reserve_high=0)
    worker = Counting(interval=0.02, supervisor=supervisor)
    worker.total, worker.wanted, worker.reached = 0, 5, Latch()
    worker.start()
    try:
        assert worker.reached.wait(60), worker.total
    finally:
        worker.stop()
    assert worker.total >= 5


def test_plain_function_with_a_loop_still_runs(supervisor: TaskSupervisor) -> None:
    def t1() -> int:
        return 555

    supervisor.create_aloop('test3')
    task = gatasker.background_task(t1, loop='test3', supervisor=supervisor)()
    assert gatasker.wait_completed([task], timeout=20) == [555]
    assert task.result == 555


def test_idle_counters(supervisor: TaskSupervisor) -> None:
    assert gatasker.wait_completed(
        gatasker.background_task(lambda: 1, supervisor=supervisor)(), timeout=20) == 1
    settle(supervisor)
    info = supervisor.get_info()
    assert (info.thread_tasks_count, info.mp_tasks_count) == (0, 0)
