"""Issue 13, process tier: atasker programs that use TT_MP run unchanged.

Point 1: ``background_task(f, tt=TT_MP)`` and ``co_mp_apply`` call ``f`` with
exactly the arguments given; only ``put_task`` targets get ``_task_id``.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import pathlib
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from typing import Any

import gevent
import pytest
from compat_targets import fail_to_start, nap, pid_of, power, square, task_id_of
from conftest import PATCHED, settle

import gatasker
from gatasker import TT_MP, TaskSupervisor


def _builtin(sup: TaskSupervisor) -> Callable[[], None]:
    sup.create_mp_pool(processes=2)
    return lambda: None


def _process_pool_executor(sup: TaskSupervisor) -> Callable[[], None]:
    # spawn, not fork: this process runs threads (Python 3.12+ warns, fork may deadlock)
    executor = concurrent.futures.ProcessPoolExecutor(
        max_workers=2, mp_context=multiprocessing.get_context('spawn'))
    sup.mp_pool = executor
    return lambda: executor.shutdown(wait=True)


def _multiprocessing_pool(sup: TaskSupervisor) -> Callable[[], None]:
    pool = multiprocessing.get_context('spawn').Pool(processes=2)  # not fork: threads run here
    sup.mp_pool = pool

    def close() -> None:
        pool.terminate()
        pool.join()

    return close


def _thread_pool_executor(sup: TaskSupervisor) -> Callable[[], None]:
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    sup.mp_pool = executor
    return lambda: executor.shutdown(wait=True)


HANGS_PATCHED = pytest.mark.skipif(PATCHED, reason='the stdlib process pools hang under '
                                                   'patch_all(); the built-in pool is for that')
BACKENDS = [
    pytest.param(_builtin, id='builtin'),
    pytest.param(_process_pool_executor, id='ProcessPoolExecutor', marks=HANGS_PATCHED),
    pytest.param(_multiprocessing_pool, id='multiprocessing.Pool', marks=HANGS_PATCHED),
    pytest.param(_thread_pool_executor, id='ThreadPoolExecutor'),
]
ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(params=BACKENDS)
def mp_sup(request: pytest.FixtureRequest) -> Iterator[TaskSupervisor]:
    sup = TaskSupervisor()
    close = request.param(sup)
    sup.start()
    try:
        yield sup
    finally:
        sup.stop(wait=10)
        close()


def test_point1_background_task_passes_exactly_the_arguments(mp_sup: TaskSupervisor) -> None:
    task = gatasker.background_task(square, tt=TT_MP, supervisor=mp_sup)(7)
    assert task.get(timeout=60) == 49
    decorated = gatasker.background_task(tt=TT_MP, supervisor=mp_sup)(power)
    assert decorated(2, exponent=5).get(timeout=60) == 32


def test_point1_co_mp_apply_passes_exactly_the_arguments(mp_sup: TaskSupervisor) -> None:
    aloop = mp_sup.create_aloop('apply')
    assert aloop

    async def job() -> Any:
        plain = await gatasker.co_mp_apply(square, (6,), supervisor=mp_sup)
        keyed = await gatasker.co_mp_apply(power, (3,), {'exponent': 3}, supervisor=mp_sup)
        return plain, keyed

    assert aloop.run(job()) == (36, 27)


def test_point1_put_task_targets_still_get_their_id(mp_sup: TaskSupervisor) -> None:
    task = mp_sup.put_task(task_id_of, tt=TT_MP)
    assert task.get(timeout=60) == task.id
    with pytest.raises(TypeError, match='_task_id'):
        mp_sup.put_task(square, (2,), tt=TT_MP).get(timeout=60)


# -- point 3: creating the pool starts its processes ------------------------------------

def _wait_until(predicate: Callable[[], bool], timeout: float = 30) -> bool:
    """Poll *predicate* (the pool reports no event for a process coming up)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        if PATCHED:
            gevent.sleep(0.01)
        else:
            time.sleep(0.01)
    return True


def _ready_pids(pool: Any) -> set[int]:
    return {worker.pid for worker in list(pool._workers) if worker.ready}


@pytest.mark.parametrize('how', ['create_mp_pool', 'set_mp_pool'])
def test_point3_creating_the_pool_starts_its_processes(how: str) -> None:
    sup = TaskSupervisor()
    if how == 'create_mp_pool':
        sup.create_mp_pool(processes=2)
    else:
        sup.set_mp_pool(pool_size=1, reserve_normal=1, reserve_high=0)
    sup.start()
    try:
        pool = sup.mp_pool
        assert pool.processes == 2
        # no task queued: the processes come up by themselves
        assert _wait_until(lambda: len(_ready_pids(pool)) == 2), pool
        before = _ready_pids(pool)
        first = sup.put_task(pid_of, tt=TT_MP).get(timeout=60)
        assert first in before  # the first task ran on a process that was already up
    finally:
        sup.stop(wait=10)


def test_point3_a_pool_made_while_running_starts_its_processes(
        supervisor: TaskSupervisor) -> None:
    pool = supervisor.create_mp_pool(processes=1)
    assert _wait_until(lambda: len(_ready_pids(pool)) == 1), pool


def test_point3_the_lazy_default_pool_starts_nothing() -> None:
    sup = TaskSupervisor()
    sup.start()
    try:
        settle(sup)
        stats = sup.statistics().process_pool
        assert stats is not None and stats.alive == 0
    finally:
        sup.stop(wait=10)


# -- point 2: an unguarded main script -----------------------------------------------------

UNGUARDED = '''
import os
import sys

import gatasker as atasker
from gatasker import TT_MP, BackgroundQueueWorker, background_task, task_supervisor
from gatasker._bridge import Latch

print('body ran in', os.getpid(), flush=True)


def square(x):
    return x * x, os.getpid()


def cube(x, **kwargs):  # put_task targets get _task_id
    return x ** 3


class Doubler(BackgroundQueueWorker):
    @staticmethod
    def run(item, **kwargs):
        return item * 2

    def process_result(self, result):
        results.append(result)
        if len(results) == 2:
            done.set()


results = []
done = Latch()
task_supervisor.create_mp_pool(processes=2{start})
task_supervisor.start()
value, child = background_task(square, tt=TT_MP)(7).get(timeout=60)
assert value == 49 and child != os.getpid()
assert task_supervisor.put_task(cube, (3,), tt=TT_MP).get(timeout=60) == 27
worker = Doubler()
worker.start()
worker.put_threadsafe(5)
worker.put_threadsafe(6)
assert done.wait(60)
# (stop(wait=False) from process_result, then exiting, can crash the interpreter
# at exit: a known problem of stop() from inside, with or without this change)
task_supervisor.stop()
task_supervisor.block()  # returns at once: stopped
print('results', sorted(results), flush=True)
'''


def test_point2_unguarded_main_runs_its_body_once(tmp_path: pathlib.Path) -> None:
    script = tmp_path / 'main.py'
    script.write_text(UNGUARDED.replace('{start}', ''))
    proc = run_script(script)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len([line for line in lines if line.startswith('body ran')]) == 1, proc.stdout
    assert 'results [10, 12]' in lines, proc.stdout
    assert proc.stderr == ''


def test_point2_spawned_children_of_an_unguarded_main_fail_clearly(
        tmp_path: pathlib.Path) -> None:
    script = tmp_path / 'main.py'
    script.write_text(textwrap.dedent('''
        import gatasker
        from gatasker import TT_MP, WorkerProcessDied, task_supervisor

        def f():
            return 1

        task_supervisor.create_mp_pool(processes=1, start_method='spawn')
        task_supervisor.start()  # a spawned child importing this script fails here
        print('MAIN-STARTED', flush=True)
        for _ in range(2):
            try:
                task_supervisor.put_task(f, tt=TT_MP).get(timeout=60)
            except WorkerProcessDied as exc:
                print('failed:', exc, flush=True)
        task_supervisor.stop()
        task_supervisor.block()  # returns at once here; a child would hang in it
    '''))
    proc = run_script(script)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count('failed:') == 2, proc.stdout
    assert "if __name__ == '__main__'" in proc.stdout
    assert proc.stdout.count('MAIN-STARTED') == 1, proc.stdout


def test_point2_a_child_that_cannot_start_fails_every_task(supervisor: TaskSupervisor) -> None:
    supervisor.create_mp_pool(processes=1, initializer=fail_to_start)
    for _ in range(3):
        with pytest.raises(gatasker.WorkerProcessDied, match='could not start'):
            supervisor.put_task(pid_of, tt=TT_MP).get(timeout=60)


def test_point2_forked_children_keep_no_gevent_state(supervisor: TaskSupervisor) -> None:
    # A child forked from a hub must not run the parent's greenlets when its
    # target uses gevent (time.sleep is gevent.sleep when patched).
    supervisor.create_mp_pool(processes=1)
    assert supervisor.put_task(nap, tt=TT_MP).get(timeout=60) == 'slept'


def run_script(script: pathlib.Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run *script* as ``__main__`` in a fresh interpreter, patched first in patched mode."""
    prelude = 'from gevent import monkey; monkey.patch_all(); ' if PATCHED else ''
    runner = 'import runpy, sys; sys.argv.pop(0); runpy.run_path(sys.argv[0], run_name="__main__")'
    return subprocess.run([sys.executable, '-c', prelude + runner, str(script)],
                          capture_output=True, text=True, timeout=timeout, cwd=script.parent,
                          env={**os.environ, 'PYTHONPATH': str(ROOT)})
