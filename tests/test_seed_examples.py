"""Every code example of atasker 0.7's documentation (the seed), run with
``import gatasker as atasker``.

Each example is written here again as a small program, with the seed's
placeholders (``<somefunc>``, ``<new_db_connection>``, ``# .....``) filled in
and with checks of what the example promises. The programs run in a fresh
interpreter, monkey-patched when this module runs in patched mode, so the
default ``task_supervisor`` starts from scratch each time. Where the seed's
code has a slip (``timeout_warning_func = warn`` names a function it never
defined; the event-worker executor ``f(task, **kwargs)`` gets no ``task``),
the program uses what the text means and says so.
"""

from __future__ import annotations

import pathlib
import textwrap

import pytest
from conftest import PATCHED, run_python
from test_atasker_process import run_script

PRELUDE = '''
import asyncio
import sys
import time
import gatasker as atasker
from gatasker import task_supervisor
from gatasker._bridge import Latch

def eventually(check, timeout=30):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, 'timed out'
        time.sleep(0.01)
'''

EXAMPLES = {
    'start_stop_and_background_tasks': '''
        from gatasker import background_task, TASK_LOW, TASK_HIGH, wait_completed

        # 6.1: pool sizes, start; block() returns once another thread stops it
        task_supervisor.set_thread_pool(pool_size=20, reserve_normal=5, reserve_high=5)
        task_supervisor.start()
        info = task_supervisor.get_info()
        assert (info.thread_pool_size, info.thread_reserve_normal) == (20, 5)

        # 6.2 and "Tasks": the decorator, and decorating by hand
        @background_task
        def mytask():
            print('I am working in the background!')
            return 777

        task = mytask()
        result = wait_completed(task)
        assert task.result == 777 and result == 777

        def mytask2():
            print('I am working in the background too!')

        task = background_task(mytask2, priority=TASK_HIGH)()
        wait_completed(task)

        def test():
            pass

        assert wait_completed(background_task(test, name='test', priority=TASK_HIGH)()) is None
        low = background_task(mytask2, name='mytask', priority=TASK_LOW)()
        assert low.name == 'mytask' and low.priority == TASK_LOW
        wait_completed([low], timeout=None)

        # "Task object": by id while it runs, None once it completed
        gate = Latch()
        held = background_task(lambda: gate.wait(30))()
        assert task_supervisor.get_task(held.id) is held
        gate.set()
        wait_completed(held)
        eventually(lambda: task_supervisor.get_task(held.id) is None)

        # "Poll delay" is accepted
        task_supervisor.poll_delay = 0.01

        # "Stopping task supervisor", from another thread while block() waits
        import threading
        threading.Timer(0.2, task_supervisor.stop,
                        kwargs=dict(wait=True, stop_schedulers=True, cancel_tasks=False)).start()
        task_supervisor.block()
        assert not task_supervisor.is_started()
    ''',
    'async_tasks_and_aloops': '''
        from gatasker import background_task, wait_completed

        # 6.3
        a1 = task_supervisor.create_aloop('myalooop', default=True)

        async def calc(a):
            print(a)
            await asyncio.sleep(1)
            print(a * 2)
            return a * 3

        task = background_task(calc)(1)
        assert wait_completed(task) == 3
        result = a1.run(calc(1))
        assert result == 3

        # "aloops": a stopped-at-first loop, started by name
        a = task_supervisor.create_aloop('myworkers', default=True, daemon=True)
        later = task_supervisor.create_aloop('later', start=False)
        assert not later.is_active()
        task_supervisor.start_aloop('later')
        assert later.is_active()

        async def coro(x):
            return x + 1

        aloop = a
        task = aloop.background_task(coro(1))
        assert wait_completed(task) == 2
        assert aloop.run(coro(2)) == 3

        # "Other supervisor methods"
        task_supervisor.set_default_aloop(a1)
        assert task_supervisor.get_aloop('myworkers') is a
        assert task_supervisor.default_aloop is a1
        assert isinstance(aloop.get_loop(), asyncio.AbstractEventLoop)
        task_supervisor.stop_aloop('later')
        assert not later.is_active()

        # 6.4.3 async jobs
        ran = []
        async def test1():
            ran.append(1)

        task_supervisor.create_aloop('jobs')
        task_supervisor.create_async_job_scheduler('default', aloop='jobs', default=True)
        job1 = task_supervisor.create_async_job(target=test1, interval=0.1)
        eventually(lambda: len(ran) >= 2)
        task_supervisor.cancel_async_job(job=job1)
        task_supervisor.stop()
    ''',
    'worker_examples': '''
        from gatasker import background_worker, TASK_HIGH, BackgroundIntervalWorker

        runs = {}
        def seen(name, value=True):
            runs.setdefault(name, []).append(value)

        # 6.4
        @background_worker
        def worker1(**kwargs):
            print('I am a simple background worker')
            seen('worker1')
            time.sleep(0.01)

        @background_worker
        async def worker_async(**kwargs):
            print('I am async background worker')
            seen('worker_async')
            await asyncio.sleep(0.01)

        @background_worker(interval=1)
        def worker2(**kwargs):
            print('I run every second!')
            seen('worker2')

        @background_worker(queue=True)
        def worker3(task, **kwargs):
            print('I run when there is a task in my queue')
            seen('worker3', task)

        @background_worker(event=True, priority=TASK_HIGH)
        def worker4(**kwargs):
            print('I run when triggered with high priority')
            seen('worker4', kwargs['_worker'].priority)

        worker1.start()
        worker_async.start()
        worker2.start()
        worker3.start()
        worker4.start()

        worker3.put('todo1')
        worker4.trigger()

        class MyWorker(BackgroundIntervalWorker):

            def run(self, **kwargs):
                print('I am custom worker class')
                seen('worker5', kwargs['_name'])

        worker5 = MyWorker(interval=0.1, name='worker5')
        worker5.start()

        for name in ('worker1', 'worker_async', 'worker2', 'worker3', 'worker4', 'worker5'):
            eventually(lambda: name in runs)
        assert runs['worker3'] == ['todo1'] and runs['worker4'] == [TASK_HIGH]
        assert runs['worker5'][0] == 'worker5'

        # "Overriding parameters at startup"
        worker5.stop()
        worker5.start(_name='worker1', _priority=atasker.TASK_LOW)
        assert (worker5.name, worker5.priority) == ('worker1', atasker.TASK_LOW)

        for worker in (worker1, worker_async, worker2, worker3, worker4):
            worker.stop()
        worker5.stop(wait=False)
        task_supervisor.stop()
    ''',
    'worker_kinds': '''
        from gatasker import (background_worker, BackgroundWorker, BackgroundAsyncWorker,
                              BackgroundQueueWorker, BackgroundEventWorker)

        got = []

        # BackgroundWorker
        @background_worker
        def myfunc(*args, **kwargs):
            print('I am background worker')
            got.append('myfunc')
            return False  # one run is enough here

        class MyWorker(BackgroundWorker):

            def run(self, *args, **kwargs):
                print('I am a worker too')
                got.append('MyWorker')
                return False

        myfunc.start()
        myworker2 = MyWorker()
        myworker2.start()
        eventually(lambda: {'myfunc', 'MyWorker'} <= set(got))
        myfunc.stop()
        myworker2.stop(wait=False)

        # BackgroundAsyncWorker
        @background_worker
        async def async_worker(**kwargs):
            print('I am async worker')
            got.append('async_worker')
            return False

        async_worker.start()

        class MyAsyncWorker(BackgroundAsyncWorker):

            async def run(self, *args, **kwargs):
                print('I am async worker too')
                got.append('MyAsyncWorker')
                return False

        worker = MyAsyncWorker()
        worker.start()
        eventually(lambda: {'async_worker', 'MyAsyncWorker'} <= set(got))

        # BackgroundQueueWorker
        @background_worker(q=True)
        def f(task, **kwargs):
            print('Got task from queue: {}'.format(task))
            got.append(task)

        @background_worker(q=asyncio.queues.PriorityQueue)
        def f2(task, **kwargs):
            print('Got task from queue too: {}'.format(task))
            got.append(task)

        class MyQueueWorker(BackgroundQueueWorker):

            def run(self, task, *args, **kwargs):
                print('my task is {}'.format(task))
                got.append(task)

        f.start()
        f2.start()
        worker3 = MyQueueWorker()
        worker3.start()
        f.put_threadsafe('task 1')
        f2.put_threadsafe('task 2')
        worker3.put_threadsafe('task 3')
        eventually(lambda: {'task 1', 'task 2', 'task 3'} <= set(got))

        # BackgroundEventWorker (the seed's f(task, **kwargs) gets no task: **kwargs only)
        @background_worker(e=True)
        def fe(**kwargs):
            print('happened')
            got.append('happened')

        class MyEventWorker(BackgroundEventWorker):

            def run(self, *args, **kwargs):
                print('happened')
                got.append('happened too')

        fe.start()
        worker4 = MyEventWorker()
        worker4.start()
        fe.trigger_threadsafe()
        worker4.trigger_threadsafe()
        eventually(lambda: {'happened', 'happened too'} <= set(got))

        # BackgroundIntervalWorker, sync and async, triggered at once as well
        @background_worker(interval=1)
        def every(**kwargs):
            print('I run every second!')
            got.append('every')

        @background_worker(interval=1)
        async def every_async(**kwargs):
            print('I run every second and I am async!')
            got.append('every_async')

        every.start()
        every_async.start()
        every.trigger_threadsafe()
        eventually(lambda: {'every', 'every_async'} <= set(got))
        task_supervisor.stop()
    ''',
    'supervisor_details': '''
        from gatasker import TaskSupervisor, TASK_NORMAL, TT_MP

        # "Timeouts" (the seed assigns an undefined `warn`: `warning` is meant)
        warned, critical_seen = [], []

        def warning(t):
            print('Task thread {} is not launched yet'.format(t))
            warned.append(t)

        def critical(t):
            print('All is worse than expected')
            critical_seen.append(t)

        task_supervisor.timeout_warning = 0.05
        task_supervisor.timeout_warning_func = warning
        task_supervisor.timeout_critical = 0.1
        task_supervisor.timeout_critical_func = critical
        task_supervisor.set_thread_pool(pool_size=1, reserve_normal=0, reserve_high=0)
        task_supervisor.start()
        gate = Latch()
        first = task_supervisor.put_task(lambda **_: gate.wait(30))
        waiting = task_supervisor.put_task(lambda **_: None)
        eventually(lambda: warned and critical_seen)
        gate.set()
        atasker.wait_completed([first, waiting])
        task_supervisor.timeout_warning = task_supervisor.timeout_critical = None

        # "Custom task supervisor"
        my_supervisor = TaskSupervisor(pool_size=100, reserve_normal=10, reserve_high=10)

        class MyTaskSupervisor(TaskSupervisor):
            pass

        my_supervisor2 = MyTaskSupervisor()
        with my_supervisor, my_supervisor2:
            assert my_supervisor.get_info().thread_pool_size == 100

        # "Putting own tasks"
        def myfunc(**kwargs):
            return 'mine'

        task = task_supervisor.put_task(target=myfunc, args=(), kwargs={},
                                        priority=TASK_NORMAL, delay=None)
        assert task.get(timeout=30) == 'mine'
        assert task_supervisor.mark_task_completed(task=task)

        def mytask(**kwargs):
            # ... perform calculations
            task_supervisor.mark_task_completed(task_id=kwargs['_task_id'])
            return kwargs['_task_id']

        task = task_supervisor.put_task(target=mytask)
        assert task.get(timeout=30) == task.id

        # "Creating own schedulers"
        class Scheduler:
            def __init__(self):
                self.looping, self.stopped = Latch(), Latch()

            async def loop(self):
                self.looping.set()
                while not self.stopped.is_set():
                    await asyncio.sleep(0.01)

            def stop(self):
                self.stopped.set()

        task_supervisor.create_aloop('schedulers', default=True)
        scheduler, sync = Scheduler(), Scheduler()
        task_supervisor.register_scheduler(scheduler)
        task_supervisor.register_sync_scheduler(sync)
        assert scheduler.looping.wait(30)
        assert task_supervisor.unregister_sync_scheduler(sync)
        task_supervisor.stop()
        assert scheduler.stopped.is_set() and not sync.stopped.is_set()
    ''',
    'collections_g_locker_debug': '''
        import logging
        from gatasker import FunctionCollection, TaskCollection, TASK_LOW, TASK_HIGH, g, Locker

        # 6.4.5 (the seed's error() prints a traceback: here it records the call)
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

        tasks = TaskCollection()
        tasks.append(f1)
        tasks.append(f3, priority=TASK_LOW)
        assert sorted(tasks.run().values()) == [1, 3]

        # 6.4.6: <new_db_connection> is any object
        if not g.has('db'):
            g.set('db', object())
        assert g.has('db')

        # 6.4.7: critical() would kill the process; here it records the call
        broken = []
        def critical_exception():
            broken.append(True)

        lock1 = Locker(mod='main', timeout=5)
        lock1.critical = critical_exception

        @lock1
        def test():
            return 'locked'

        assert test() == 'locked'
        with lock1:
            assert lock1.lock  # the lock the with block holds
        assert broken == []

        # 6.4.8
        logging.basicConfig(level=logging.DEBUG, stream=sys.stdout)
        atasker.set_debug()
        task_supervisor.start()
        assert atasker.wait_completed(atasker.background_task(f1)()) == 1
        task_supervisor.stop()
    ''',
}


@pytest.mark.parametrize('name', sorted(EXAMPLES))
def test_seed_example(name: str) -> None:
    code = PRELUDE + textwrap.dedent(EXAMPLES[name]) + "\nprint('example ok')\n"
    done = run_python(code, patched=PATCHED, timeout=120)
    assert done.returncode == 0 and done.stdout.rstrip().endswith('example ok'), \
        done.stdout[-2000:] + done.stderr[-4000:]


MP_MODULE = '''
def test(*args, **kwargs):
    print('test mp method {} {}'.format(args, kwargs))
    return 999
'''

MYWORKER = '''
from gatasker import BackgroundQueueWorker


class MyWorker(BackgroundQueueWorker):

    # executed in another process via task_supervisor
    @staticmethod
    def run(task, *args, **kwargs):
        # .. process task
        return '<task result>', task

    def process_result(self, result):
        # process result
        results.append(result)


results = []
'''

# The seed's main.py has no `if __name__ == '__main__':` guard; neither has this.
MAIN = '''
import gatasker as atasker
from gatasker import task_supervisor, TT_MP, TASK_HIGH, background_task, co_mp_apply
import myworker
import tests.mp
from myworker import MyWorker

print('main body runs once')

# "Multiprocessing": create_mp_pool, then set_mp_pool sizes
task_supervisor.create_mp_pool(processes=2)
task_supervisor.set_mp_pool(pool_size=20, reserve_normal=5, reserve_high=5)
task_supervisor.start()

# "Putting own tasks in multiprocessing pool": <somemodule.staticmethod>, <somefunc>
got = []
task = task_supervisor.put_task(target=tests.mp.test, callback=got.append, tt=TT_MP)
assert task.get(timeout=60) == 999
assert task_supervisor.mark_task_completed(task_id=task.id, tt=TT_MP)

# "Multiprocessing task": as a background task and from a coroutine
task = background_task(tests.mp.test, priority=TASK_HIGH, tt=TT_MP)(1, 2, 3, x=2)
assert atasker.wait_completed(task) == 999

async def f1():
    result = await co_mp_apply(tests.mp.test, args=(1, 2, 3), kwargs={'x': 2},
                               priority=TASK_HIGH)
    return result

aloop = task_supervisor.create_aloop('mp', default=True)
assert aloop.run(f1()) == 999

worker = MyWorker()
worker.start()
# .....
worker.put_threadsafe('task')
# .....
import time
deadline = time.monotonic() + 60
while not myworker.results:
    assert time.monotonic() < deadline
    time.sleep(0.01)
worker.stop()
assert myworker.results == [('<task result>', 'task')], myworker.results
assert got == [999], got
task_supervisor.stop()
print('example ok')
'''


def test_seed_multiprocessing_examples(tmp_path: pathlib.Path) -> None:
    (tmp_path / 'tests').mkdir()
    (tmp_path / 'tests' / '__init__.py').write_text('')
    (tmp_path / 'tests' / 'mp.py').write_text(MP_MODULE)
    (tmp_path / 'myworker.py').write_text(MYWORKER)
    script = tmp_path / 'main.py'
    script.write_text(MAIN)
    done = run_script(script)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    lines = done.stdout.splitlines()
    assert lines.count('main body runs once') == 1 and lines[-1] == 'example ok', done.stdout


@pytest.mark.skipif(PATCHED, reason='multiprocessing.Pool hangs under patch_all()')
def test_seed_custom_multiprocessing_pool() -> None:
    code = PRELUDE + textwrap.dedent('''
        from multiprocessing import Pool
        from gatasker import TT_MP
        import operator

        pool = Pool(processes=4)
        task_supervisor.mp_pool = pool
        task_supervisor.start()
        assert atasker.background_task(operator.pow, tt=TT_MP)(2, 10).get(timeout=60) == 1024
        task_supervisor.stop()
        pool.terminate()
        print('example ok')
    ''')
    done = run_python(code, timeout=120)
    assert done.returncode == 0 and done.stdout.rstrip().endswith('example ok'), done.stderr
