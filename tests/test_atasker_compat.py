"""atasker 0.7's public names exist with the same meaning; its helper examples run."""

from __future__ import annotations

import logging
import pathlib
import subprocess
import sys

import pytest
from conftest import MODE, PATCHED, run_python

import gatasker

# atasker 0.7.9's __init__, plus BackgroundAsyncWorker, which it forgot to export.
ATASKER_NAMES = [
    'TaskSupervisor', 'TASK_LOW', 'TASK_NORMAL', 'TASK_HIGH', 'TASK_CRITICAL', 'TT_THREAD',
    'TT_MP', 'TT_COROUTINE', 'task_supervisor', 'background_worker', 'BackgroundWorker',
    'BackgroundIntervalWorker', 'BackgroundQueueWorker', 'BackgroundEventWorker',
    'BackgroundAsyncWorker', 'FunctionCollection', 'TaskCollection', 'LocalProxy', 'Locker',
    'background_task', 'wait_completed', 'g', 'set_debug', 'co_mp_apply',
]


@pytest.mark.parametrize('name', ATASKER_NAMES)
def test_atasker_name_exists(name: str) -> None:
    assert hasattr(gatasker, name) and name in gatasker.__all__


def test_constants_keep_their_values() -> None:
    assert (gatasker.TASK_CRITICAL, gatasker.TASK_HIGH, gatasker.TASK_NORMAL,
            gatasker.TASK_LOW) == (0, 50, 100, 200)
    assert (gatasker.TT_COROUTINE, gatasker.TT_THREAD, gatasker.TT_MP) == (0, 1, 2)
    assert (gatasker.TASK_STATUS_QUEUED, gatasker.TASK_STATUS_DELAYED,
            gatasker.TASK_STATUS_STARTED, gatasker.TASK_STATUS_COMPLETED,
            gatasker.TASK_STATUS_CANCELED) == (0, 2, 100, 200, -1)


SEED_HELPERS = '''
import gatasker as atasker
from gatasker import FunctionCollection, TaskCollection, TASK_LOW, TASK_HIGH, g, Locker

errors = []
def error(**kwargs):
    errors.append(kwargs)

startup = FunctionCollection(on_error=error)

@startup
def f1():
    return 1

@startup(priority=TASK_HIGH)
def f2():
    return 2

@startup(priority=TASK_LOW)
def f3():
    return 3

result, all_ok = startup.execute()
assert all_ok and list(result.values()) == [2, 1, 3], result

tasks = TaskCollection(on_error=error)
tasks.append(f1)
tasks.append(f2, priority=TASK_HIGH)
assert tasks.run() == {'__main__.f2': 2, '__main__.f1': 1}

if not g.has('db'):
    g.set('db', 'connection')
assert g.get('db') == 'connection'

lock1 = Locker(mod='main', timeout=5)
broken = []
lock1.critical = lambda: broken.append(1)

@lock1
def test():
    return 'locked'

assert test() == 'locked'
with lock1:
    pass

import logging
logging.basicConfig(level=logging.DEBUG)
atasker.set_debug()
atasker.background_task(lambda: None)().wait()
atasker.set_debug(False)
print('seed helpers ok')
'''


def test_seed_helper_examples() -> None:
    proc = run_python(SEED_HELPERS, patched=(MODE == 'embedded'))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == 'seed helpers ok'
    assert 'queued' in proc.stderr and 'completed' in proc.stderr  # debug lines


def test_set_debug_logs_task_and_worker_life_cycles(supervisor: gatasker.TaskSupervisor,
                                                    caplog: pytest.LogCaptureFixture,
                                                    capfd: pytest.CaptureFixture[str]) -> None:
    gatasker.set_debug()
    try:
        with caplog.at_level(logging.DEBUG, logger='gatasker'):
            supervisor.put_task(lambda **_: None).wait(10)
            worker = gatasker.BackgroundWorker(func=lambda **_: False, supervisor=supervisor)
            worker.start()
            worker._actor.stopped.wait(10)
    finally:
        gatasker.set_debug(False)
    text = '\n'.join(r.getMessage() for r in caplog.records)
    for word in ('queued', 'started', 'completed', 'worker', 'stopped'):
        assert word in text, word
    out, err = capfd.readouterr()
    assert out == '' and err == ''  # nothing printed outside logging


# The seed's multiprocessing examples, with atasker's module layout: targets in
# importable modules (tests/mp.py, myworker.py), the main script guarded.
SEED_MP_MODULE = '''
def test(*args, **kwargs):
    return sum(args) + kwargs.get('x', 0), '_task_id' in kwargs
'''

SEED_MP_WORKER = '''
import os
from gatasker import BackgroundQueueWorker


class MyWorker(BackgroundQueueWorker):

    # executed in another process via task_supervisor
    @staticmethod
    def run(task, *args, **kwargs):
        return task.upper(), os.getpid()

    def process_result(self, result):
        self.results.append(result)
        if len(self.results) == 3:
            self.done.set()
'''

SEED_MP_MAIN = '''
import os
import sys

import gatasker as atasker
from gatasker import task_supervisor, TT_MP, TASK_HIGH, background_task, co_mp_apply
from gatasker._bridge import Latch

import tests.mp
from myworker import MyWorker


def main():
    task_supervisor.create_mp_pool(processes=2)
    if sys.argv[1] == 'plain':  # multiprocessing.Pool hangs under patch_all()
        from multiprocessing import Pool
        pool = Pool(processes=2)
        task_supervisor.mp_pool = pool
        assert task_supervisor.put_task(target=tests.mp.test, args=(1, 2),
                                        tt=TT_MP).get(timeout=60) == (3, True)
        task_supervisor.mp_pool = None
        pool.terminate()
    task_supervisor.set_mp_pool(pool_size=20, reserve_normal=5, reserve_high=5)
    task_supervisor.start()

    got = Latch()
    results = []
    def somefunc(result):
        results.append(result)
        got.set()

    task = task_supervisor.put_task(target=tests.mp.test, callback=somefunc, tt=TT_MP)
    task.wait(60)
    assert task_supervisor.mark_task_completed(task_id=task.id, tt=TT_MP)
    assert got.wait(60) and results == [(0, True)], results

    task = background_task(tests.mp.test, priority=TASK_HIGH, tt=TT_MP)(1, 2, 3, x=2)
    assert task.get(timeout=60) == (8, False)  # exactly its arguments

    async def f1():
        result = await co_mp_apply(tests.mp.test, args=(1, 2, 3), kwargs={'x': 2},
                                   priority=TASK_HIGH)
        return result
    aloop = task_supervisor.create_aloop('mp', default=True)
    assert aloop.run(f1()) == (8, False)

    worker = MyWorker()
    worker.results, worker.done = [], Latch()
    worker.start()
    for item in ('a', 'b', 'c'):
        worker.put_threadsafe(item)
    assert worker.done.wait(60)
    worker.stop()
    assert sorted(r[0] for r in worker.results) == ['A', 'B', 'C']
    assert all(r[1] != os.getpid() for r in worker.results)
    task_supervisor.stop()
    print('seed mp ok')


if __name__ == '__main__':
    main()
'''


def test_seed_multiprocessing_examples(tmp_path: pathlib.Path) -> None:
    (tmp_path / 'tests').mkdir()
    (tmp_path / 'tests' / '__init__.py').write_text('')
    (tmp_path / 'tests' / 'mp.py').write_text(SEED_MP_MODULE)
    (tmp_path / 'myworker.py').write_text(SEED_MP_WORKER)
    (tmp_path / 'main.py').write_text(SEED_MP_MAIN)
    cmd = [sys.executable]
    if PATCHED:
        cmd += ['-c', 'from gevent import monkey; monkey.patch_all(); import runpy, sys; '
                      'sys.argv.pop(0); runpy.run_path(sys.argv[0], run_name="__main__")']
    proc = subprocess.run(cmd + ['main.py', 'patched' if PATCHED else 'plain'],
                          capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == 'seed mp ok'
