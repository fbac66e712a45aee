"""background_task in its three forms, the default supervisor, and the seed's examples."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import MODE, run_python

import gatasker
from gatasker import TASK_HIGH, TASK_LOW, TT_GREENLET, TT_THREAD


def test_three_forms(supervisor: gatasker.TaskSupervisor) -> None:
    @gatasker.background_task(supervisor=supervisor)
    def add(a: int, b: int = 0) -> int:
        return a + b

    def mul(a: int, b: int) -> int:
        return a * b

    task = add(1, b=2)
    assert isinstance(task, gatasker.Task)
    assert task.get(timeout=10) == 3
    assert add.__name__ == 'add'
    task = gatasker.background_task(mul, priority=TASK_HIGH, supervisor=supervisor)(3, 4)
    assert task.get(timeout=10) == 12 and task.priority == TASK_HIGH
    deco = gatasker.background_task(priority=TASK_LOW, tt=TT_THREAD, supervisor=supervisor)
    task = deco(mul)(5, 6)
    assert task.get(timeout=10) == 30 and task.tt == TT_THREAD and task.priority == TASK_LOW


def test_target_gets_exactly_its_arguments(supervisor: gatasker.TaskSupervisor) -> None:
    seen: list[Any] = []

    @gatasker.background_task(supervisor=supervisor)
    def f(*args: Any, **kwargs: Any) -> None:
        seen.append((args, kwargs))

    kwargs = {'x': 1}
    f(1, 2, **kwargs).get(timeout=10)
    assert seen == [((1, 2), {'x': 1})]


def test_default_tt_and_callback(supervisor: gatasker.TaskSupervisor) -> None:
    results: list[Any] = []
    done = gatasker._bridge.Latch()

    def callback(result: Any) -> None:
        results.append(result)
        done.set()

    task = gatasker.background_task(lambda: 7, callback=callback, supervisor=supervisor)()
    assert task.get(timeout=10) == 7
    assert task.tt == (TT_GREENLET if MODE == 'embedded' else TT_THREAD)
    assert done.wait(10) and results == [7]


@pytest.mark.parametrize('kwargs, error', [
    ({'priority': 1}, ValueError),
    ({'tt': 'thread'}, ValueError),
    ({'delay': -0.5}, ValueError),
    ({'callback': 'nope'}, TypeError),
    ({'supervisor': 'default'}, TypeError),
])
def test_bad_decoration_raises_at_once(kwargs: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        gatasker.background_task(lambda: None, **kwargs)
    with pytest.raises(error):
        gatasker.background_task(**kwargs)
    with pytest.raises(TypeError):
        gatasker.background_task(42)


def test_default_supervisor_starts_lazily_and_script_exits() -> None:
    proc = run_python('''
        import gatasker
        assert not gatasker.task_supervisor.is_started()

        @gatasker.background_task
        def work(x):
            return x * 2

        print(gatasker.wait_completed([work(i) for i in range(5)]))
        print(gatasker.task_supervisor.is_started())
    ''', patched=(MODE == 'embedded'))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split('\n')[:2] == ['[0, 2, 4, 6, 8]', 'True']


def test_custom_supervisor_must_be_started() -> None:
    sup = gatasker.TaskSupervisor()
    with pytest.raises(gatasker.SupervisorNotRunning):
        gatasker.background_task(lambda: 1, supervisor=sup)()
    with pytest.raises(RuntimeError):  # SupervisorNotRunning is a RuntimeError
        sup.put_task(lambda **_: 1)


SEED_EXAMPLES = '''
import gatasker as atasker
from atasker import task_supervisor, background_task, TASK_LOW, TASK_HIGH, wait_completed
from atasker import TaskSupervisor, TASK_NORMAL

# start/stop and pool size
task_supervisor.set_thread_pool(pool_size=20, reserve_normal=5, reserve_high=5)
task_supervisor.start()
task_supervisor.poll_delay = 0.01

# background tasks, with annotation
@background_task
def mytask():
    return 777

task = mytask()
result = wait_completed(task)
assert task.result == 777 and result == 777

# manual decoration and priorities
def mytask2():
    return 'too'

task = background_task(mytask2, priority=TASK_HIGH)()
assert wait_completed(task) == 'too'

def test():
    pass

background_task(test, name='test', priority=TASK_HIGH)()
background_task(mytask2, name='mytask', priority=TASK_LOW)()

# put_task, with the atasker-style completion report
def myfunc(**kwargs):
    task_supervisor.mark_task_completed(task_id=kwargs['_task_id'])
    return kwargs['_task_id']

task = task_supervisor.put_task(target=myfunc, args=(), kwargs={}, priority=TASK_NORMAL, delay=None)
assert wait_completed([task], timeout=None) == [task.id]
assert task_supervisor.get_task(task.id) is None

# custom supervisors
my_supervisor = TaskSupervisor(pool_size=100, reserve_normal=10, reserve_high=10)
class MyTaskSupervisor(TaskSupervisor):
    pass
my_supervisor2 = MyTaskSupervisor()

# timeouts
task_supervisor.timeout_warning = 5
task_supervisor.timeout_warning_func = print
task_supervisor.timeout_critical = 10
task_supervisor.timeout_critical_func = print

# stop from any thread; block() returns once stopped
import threading
threading.Timer(0.05, task_supervisor.stop).start()
task_supervisor.block()
task_supervisor.stop(wait=True, stop_schedulers=True, cancel_tasks=False)
print('seed examples ok')
'''


def test_seed_examples_run_with_import_gatasker_as_atasker() -> None:
    proc = run_python(SEED_EXAMPLES.replace('from atasker import', 'from gatasker import'),
                      patched=(MODE == 'embedded'))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == 'seed examples ok'
