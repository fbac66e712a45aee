"""atasker 0.7's public names exist with the same meaning; its helper examples run."""

from __future__ import annotations

import logging

import pytest
from conftest import MODE, run_python

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
