"""The process tier (TT_MP): the built-in pool, executors, workers, co_mp_apply."""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import os
import pathlib
import signal
import socket
import sys
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import gevent
import gevent.select
import mp_targets
import mp_warm_target
import policy_targets
import pytest
from conftest import PATCHED, run_python, settle

import gatasker
from gatasker import (
    TASK_CRITICAL,
    TASK_HIGH,
    TASK_LOW,
    TASK_NORMAL,
    TT_MP,
    ProcessPool,
    RemoteTraceback,
    TaskSupervisor,
    TaskTimeout,
    WorkerProcessDied,
)
from gatasker._bridge import Latch, real_thread_id

HERE = pathlib.Path(__file__).parent


class Gate:
    """Where gated tasks (mp_targets.gated) report that they run, and wait for a go."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(('127.0.0.1', 0))
        self.server.listen(64)
        self.server.settimeout(60)
        self.port = self.server.getsockname()[1]
        self.conns: list[socket.socket] = []

    def arrived(self) -> tuple[str, int]:
        """Wait for the next gated task to run; return its tag and process id."""
        conn, _ = self.server.accept()
        conn.settimeout(60)
        self.conns.append(conn)
        line = b''
        while not line.endswith(b'\n'):
            chunk = conn.recv(100)
            assert chunk, 'a gated task hung up'
            line += chunk
        tag, pid = line.decode().split()
        return tag, int(pid)

    def open(self) -> None:
        for conn in self.conns:
            try:
                conn.sendall(b'g')
            except OSError:
                pass

    def close(self) -> None:
        self.open()
        for conn in self.conns:
            conn.close()
        self.server.close()


@pytest.fixture
def gate() -> Iterator[Gate]:
    g = Gate()
    try:
        yield g
    finally:
        g.close()


@pytest.fixture
def mp_supervisor(supervisor: TaskSupervisor) -> TaskSupervisor:
    """conftest's started supervisor, with a built-in pool of 2 processes."""
    supervisor.create_mp_pool(processes=2)
    return supervisor


Make = Callable[..., TaskSupervisor]


@pytest.fixture
def make() -> Iterator[Make]:
    """Makes started supervisors: ``make(limits={...}, **create_mp_pool_kwargs)``;
    stops them at the end."""
    made: list[TaskSupervisor] = []

    def start(limits: dict[str, int] | None = None, **pool_kwargs: Any) -> TaskSupervisor:
        sup = TaskSupervisor()
        sup.create_mp_pool(**pool_kwargs)
        if limits:
            sup.set_mp_pool(**limits)
        sup.start()
        made.append(sup)
        return sup

    yield start
    for sup in made:
        sup.stop(wait=10)


# -- results, exceptions, callbacks -------------------------------------------------


def test_result_and_task_id(mp_supervisor: TaskSupervisor) -> None:
    task = mp_supervisor.put_task(mp_targets.add, (2, 3), tt=TT_MP)
    assert task.get(timeout=60) == (5, task.id)
    assert task.tt == TT_MP


def test_runs_in_another_process(mp_supervisor: TaskSupervisor) -> None:
    pids = gatasker.wait_completed(
        [mp_supervisor.put_task(mp_targets.pid, tt=TT_MP) for _ in range(6)], timeout=60)
    assert os.getpid() not in pids
    assert set(pids) <= set(mp_supervisor.mp_pool.pids)


def test_exception_completes_the_task_with_remote_traceback(
        mp_supervisor: TaskSupervisor, caplog: pytest.LogCaptureFixture) -> None:
    called = []
    task = mp_supervisor.put_task(mp_targets.fail, ('no luck',), tt=TT_MP,
                                  callback=called.append)
    with pytest.raises(ValueError, match='no luck') as info:
        task.get(timeout=60)
    assert isinstance(info.value.__cause__, RemoteTraceback)
    assert 'mp_targets.py' in str(info.value.__cause__)
    assert task.is_completed() and task.exception is info.value
    # the pool still works, the callback was not called, the failure was logged
    assert mp_supervisor.put_task(mp_targets.add, (1, 1), tt=TT_MP).get(timeout=60)[0] == 2
    assert called == []
    assert any('failed' in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)


def test_callback_runs_in_the_hub(mp_supervisor: TaskSupervisor) -> None:
    seen: list[Any] = []
    latch = Latch()

    def callback(result: Any) -> None:
        seen.append((result, real_thread_id()))
        latch.set()

    mp_supervisor.put_task(mp_targets.add, (1, 2), tt=TT_MP, callback=callback)
    assert latch.wait(60)
    run = mp_supervisor._core.life.run
    assert run is not None
    assert seen[0][0][0] == 3
    assert seen[0][1] == run.hub.thread_ident


def test_background_task_with_tt_mp(mp_supervisor: TaskSupervisor) -> None:
    latch = Latch()
    results: list[Any] = []

    def done(result: Any) -> None:
        results.append(result)
        latch.set()

    task = gatasker.background_task(mp_targets.add, tt=TT_MP, callback=done,
                                    supervisor=mp_supervisor)(20, 22)
    assert task.get(timeout=60)[0] == 42
    assert latch.wait(60) and results[0][0] == 42


def test_large_arguments_and_results(mp_supervisor: TaskSupervisor) -> None:
    sizes = [mp_supervisor.put_task(mp_targets.size, (b'x' * (1 << 20),), tt=TT_MP)
             for _ in range(6)]
    blobs = [mp_supervisor.put_task(mp_targets.blob, (1 << 20,), tt=TT_MP) for _ in range(6)]
    assert gatasker.wait_completed(sizes, timeout=60) == [1 << 20] * 6
    assert all(b == b'r' * (1 << 20) for b in gatasker.wait_completed(blobs, timeout=60))


# -- priorities --------------------------------------------------------------------------


def test_strict_priority_and_critical_first(gate: Gate, make: Make) -> None:
    sup = make(processes=1, limits={'pool_size': 1, 'reserve_normal': 0, 'reserve_high': 0})
    blocker = sup.put_task(mp_targets.gated, (gate.port, 'blocker'), tt=TT_MP)
    assert gate.arrived()[0] == 'blocker'
    order = [(TASK_LOW, 'low1'), (TASK_NORMAL, 'normal1'), (TASK_LOW, 'low2'),
             (TASK_HIGH, 'high1'), (TASK_NORMAL, 'normal2'), (TASK_CRITICAL, 'critical1'),
             (TASK_HIGH, 'high2'), (TASK_CRITICAL, 'critical2')]
    tasks = [sup.put_task(mp_targets.stamp, (tag,), priority=p, tt=TT_MP)
             for p, tag in order]
    settle(sup)
    gate.open()
    assert blocker.get(timeout=60) == 'blocker'
    ran = sorted(gatasker.wait_completed(tasks, timeout=60), key=lambda r: r[1])
    assert [tag for tag, _ in ran] == ['critical1', 'critical2', 'high1', 'high2',
                                       'normal1', 'normal2', 'low1', 'low2']


def test_critical_goes_to_the_next_free_process_beyond_the_limits(gate: Gate,
                                                                   make: Make) -> None:
    sup = make(processes=2, limits={'pool_size': 1, 'reserve_normal': 0, 'reserve_high': 0})
    blocker = sup.put_task(mp_targets.gated, (gate.port, 'b'), tt=TT_MP)
    gate.arrived()
    # the tier's limit (1) is used up: NORMAL waits, CRITICAL runs on the free process
    normal = sup.put_task(mp_targets.stamp, ('n',), tt=TT_MP)
    critical = sup.put_task(mp_targets.stamp, ('c',), priority=TASK_CRITICAL, tt=TT_MP)
    assert critical.get(timeout=60)[0] == 'c'
    assert not normal.is_started()
    info = sup.get_info()
    assert info.mp_queued[TASK_NORMAL] == 1
    gate.open()
    assert normal.get(timeout=60)[0] == 'n'
    assert blocker.get(timeout=60) == 'b'


def test_a_soft_limit_that_passed_while_the_task_waited_stops_it_once_it_starts(
        gate: Gate, make: Make) -> None:
    # One process, but the tier lets two tasks through: the second waits in the pool.
    sup = make(processes=1, limits={'pool_size': 2, 'reserve_normal': 0, 'reserve_high': 0})
    blocker = sup.put_task(mp_targets.gated, (gate.port, 'b'), tt=TT_MP)
    gate.arrived()
    passed = Latch()

    class SoftLimitPassed(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if 'soft time limit' in record.getMessage():
                passed.set()

    handler = SoftLimitPassed()
    gatasker.logger.addHandler(handler)
    try:
        waiting = sup.put_task(policy_targets.sleep_long, tt=TT_MP, soft_timeout=0.05)
        assert passed.wait(60), 'the soft limit never passed'
    finally:
        gatasker.logger.removeHandler(handler)
    assert not waiting.is_completed()
    gate.open()
    assert blocker.get(timeout=60) == 'b'
    assert waiting.wait(60), 'the soft limit was lost: the task ran on'
    assert isinstance(waiting.exception, TaskTimeout)
    assert isinstance(waiting.exception.__cause__, TimeoutError)  # raised in the process


def test_a_process_started_later_imports_the_modules_tasks_needed(make: Make) -> None:
    # spawned: nothing of this process is there; one task per process: the
    # second task runs in a process started after the first task ended
    sup = make(processes=1, maxtasksperchild=1, start_method='spawn')
    first = sup.put_task(mp_warm_target.ping, tt=TT_MP).get(timeout=60)
    second, loaded = sup.put_task(mp_targets.module_loaded, ('mp_warm_target',),
                                  tt=TT_MP).get(timeout=60)
    assert second != first
    assert loaded


# -- never frozen -------------------------------------------------------------------------


def test_killed_worker_fails_its_task_and_is_replaced(gate: Gate, make: Make) -> None:
    sup = make(processes=2)
    pool = sup.mp_pool
    victim = sup.put_task(mp_targets.gated, (gate.port, 'victim'), tt=TT_MP)
    _, victim_pid = gate.arrived()
    others = [sup.put_task(mp_targets.add, (i, 1), tt=TT_MP) for i in range(30)]
    os.kill(victim_pid, signal.SIGKILL)
    with pytest.raises(WorkerProcessDied, match='SIGKILL'):
        victim.get(timeout=60)
    assert [r[0] for r in gatasker.wait_completed(others, timeout=60)] == \
        [i + 1 for i in range(30)]
    assert len(pool.pids) == 2 and victim_pid not in pool.pids
    more = [sup.put_task(mp_targets.pid, tt=TT_MP) for _ in range(10)]
    assert victim_pid not in gatasker.wait_completed(more, timeout=60)
    stats = sup.statistics().process_pool
    assert stats is not None
    assert (stats.processes, stats.alive, stats.replaced) == (2, 2, 1)


def test_a_target_that_exits_the_process(mp_supervisor: TaskSupervisor) -> None:
    task = mp_supervisor.put_task(mp_targets.exit_now, (3,), tt=TT_MP)
    with pytest.raises(WorkerProcessDied, match='exit code 3'):
        task.get(timeout=60)
    assert mp_supervisor.put_task(mp_targets.add, (1, 2), tt=TT_MP).get(timeout=60)[0] == 3



@pytest.mark.parametrize('start_method', ['spawn', 'fork'])
def test_a_threaded_supervisor_starts_and_reaps_worker_processes(start_method: str) -> None:
    """A hub in its own thread runs a loop that is not gevent's default one.

    In the patched run gevent's posix_spawn watched the new process with a
    child watcher, which only the default loop has: every spawned TT_MP task
    failed with TypeError (so under uWSGI too, where the app is imported
    before uWSGI patches, and the supervisor runs threaded). Now the original
    spawns there; but gevent's SIGCHLD handling in the main thread's hub may
    reap the process first, and then its exit code is lost.
    """
    died = r'died \(exit code (3|unknown)\)' if PATCHED else r'died \(exit code 3\)'
    sup = TaskSupervisor()
    sup.create_mp_pool(processes=1, start_method=start_method)
    sup.start(mode='threaded')
    try:
        assert sup.put_task(mp_targets.pid, tt=TT_MP).get(timeout=60) != os.getpid()
        with pytest.raises(WorkerProcessDied, match=died):
            sup.put_task(mp_targets.exit_now, (3,), tt=TT_MP).get(timeout=60)
        assert sup.put_task(mp_targets.add, (1, 2), tt=TT_MP).get(timeout=60)[0] == 3
    finally:
        sup.stop(wait=10)

def test_idle_worker_killed_is_replaced(mp_supervisor: TaskSupervisor) -> None:
    pool = mp_supervisor.mp_pool
    pids = gatasker.wait_completed(
        [mp_supervisor.put_task(mp_targets.pid, tt=TT_MP) for _ in range(4)], timeout=60)
    victim = pids[0]
    os.kill(victim, signal.SIGKILL)
    # every later task completes, none on the dead process
    later = gatasker.wait_completed(
        [mp_supervisor.put_task(mp_targets.pid, tt=TT_MP) for _ in range(10)], timeout=60)
    assert victim not in later
    assert len(pool.pids) == 2


def test_unpicklable_target_is_an_error_at_the_call(mp_supervisor: TaskSupervisor) -> None:
    def local(**_: Any) -> int:
        return 1

    for target in (lambda **_: 1, local):
        with pytest.raises(TypeError, match='picklable'):
            mp_supervisor.put_task(target, tt=TT_MP)
    assert mp_supervisor.get_tasks() == {}


def test_unpicklable_argument_is_the_tasks_exception(mp_supervisor: TaskSupervisor) -> None:
    task = mp_supervisor.put_task(mp_targets.size, (gevent.lock.Semaphore(),), tt=TT_MP)
    with pytest.raises(TypeError, match='picklable'):
        task.get(timeout=60)
    assert mp_supervisor.put_task(mp_targets.add, (1, 2), tt=TT_MP).get(timeout=60)[0] == 3


def test_unpicklable_result_is_the_tasks_exception(mp_supervisor: TaskSupervisor) -> None:
    task = mp_supervisor.put_task(mp_targets.unpicklable_result, tt=TT_MP)
    with pytest.raises(Exception, match='could not send the task'):
        task.get(timeout=60)
    assert mp_supervisor.put_task(mp_targets.add, (1, 2), tt=TT_MP).get(timeout=60)[0] == 3


def test_stop_with_a_wait_kills_a_task_that_never_ends(gate: Gate) -> None:
    sup = TaskSupervisor()
    pool = sup.create_mp_pool(processes=1)
    sup.start()
    task = sup.put_task(mp_targets.gated, (gate.port, 'stuck'), tt=TT_MP)
    _, pid = gate.arrived()
    assert sup.stop(wait=0.5)
    with pytest.raises(WorkerProcessDied, match='stopped'):
        task.get(timeout=30)
    assert not sup.is_started()
    sup.start()  # the pool is usable again after a restart
    try:
        assert sup.put_task(mp_targets.add, (1, 2), tt=TT_MP).get(timeout=60)[0] == 3
        assert pid not in pool.pids
    finally:
        sup.stop(wait=10)
    assert pool.pids == []


def test_stop_ends_the_worker_processes(mp_supervisor: TaskSupervisor) -> None:
    pids = set(gatasker.wait_completed(
        [mp_supervisor.put_task(mp_targets.pid, tt=TT_MP) for _ in range(4)], timeout=60))
    assert mp_supervisor.stop(wait=10)
    for pid in pids:
        assert wait_exited(pid, 30), f'worker process {pid} still runs after stop()'


def wait_exited(pid: int, timeout: float) -> bool:
    """Wait (on a pidfd: an event, not a poll) until process *pid* exited."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True  # already reaped
    try:
        return bool(gevent.select.select([fd], [], [], timeout)[0])
    finally:
        os.close(fd)


def test_max_tasks_per_child_replaces_processes(make: Make) -> None:
    sup = make(processes=1, maxtasksperchild=2)
    pids = gatasker.wait_completed([sup.put_task(mp_targets.pid, tt=TT_MP)
                                    for _ in range(6)], timeout=60)
    assert len(set(pids)) == 3
    assert pids[0] == pids[1] != pids[2] == pids[3]


def test_initializer_runs_in_each_process(make: Make) -> None:
    sup = make(processes=2, initializer=mp_targets.set_env,
               initargs=('GATASKER_TEST_INIT', 'yes'))
    task = sup.put_task(mp_targets.get_env, ('GATASKER_TEST_INIT',), tt=TT_MP)
    assert task.get(timeout=60) == 'yes'


# -- configuration -----------------------------------------------------------------------


def test_sizes_and_info() -> None:
    sup = TaskSupervisor()
    sup.set_mp_pool(pool_size=3, reserve_normal=1, reserve_high=1)
    assert sup.mp_pool.processes == 5
    sup.start()
    try:
        info = sup.get_info()
        assert (info.mp_pool_size, info.mp_reserve_normal, info.mp_reserve_high) == (3, 1, 1)
        assert info.mp_processes == 5
        sup.set_mp_pool(pool_size=1)
        settle(sup)
        assert sup.get_info().mp_pool_size == 1
        assert sup.mp_pool.processes == 3
        assert sup.statistics().tiers['mp'].pool_size == 1
    finally:
        sup.stop(wait=10)


@pytest.mark.parametrize('call, exc', [
    (lambda s: s.create_mp_pool(processes=0), ValueError),
    (lambda s: s.create_mp_pool(processes=-1), ValueError),
    (lambda s: s.create_mp_pool(processes='2'), TypeError),
    (lambda s: s.create_mp_pool(processes=2, frobnicate=1), TypeError),
    (lambda s: s.create_mp_pool(processes=2, initializer=3), TypeError),
    # a spawned process gets the initializer by pickle (a forked one has it already)
    (lambda s: s.create_mp_pool(processes=2, initializer=lambda: None, start_method='spawn'),
     TypeError),
    (lambda s: s.create_mp_pool(processes=2, start_method='thread'), ValueError),
    (lambda s: s.create_mp_pool(processes=2, maxtasksperchild=0), ValueError),
    (lambda s: s.set_mp_pool(pool_size=-1), ValueError),
    (lambda s: s.set_mp_pool(size=3), TypeError),
    (lambda s: s.set_mp_pool(executor='junk'), TypeError),
    (lambda s: setattr(s, 'mp_pool', 42), TypeError),
])
def test_bad_configuration_is_refused_before_anything_changes(call: Any, exc: type) -> None:
    sup = TaskSupervisor()
    before = (sup.statistics().tiers['mp'], sup.mp_pool)
    with pytest.raises(exc):
        call(sup)
    assert (sup.statistics().tiers['mp'], sup.mp_pool) == before


# -- executors ------------------------------------------------------------------------------


class RecordingExecutor(concurrent.futures.ThreadPoolExecutor):
    """An executor with the optional submit_task hook: it sees priorities."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.seen: list[tuple[int, str]] = []

    def submit_task(self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                    priority: int, name: str) -> concurrent.futures.Future[Any]:
        self.seen.append((priority, name))
        return self.submit(fn, *args, **kwargs)


def test_any_executor_backs_the_tier() -> None:
    sup = TaskSupervisor()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as executor:
        sup.set_mp_pool(executor=executor, pool_size=2)
        assert sup.mp_pool is executor
        sup.start()
        try:
            assert sup.put_task(mp_targets.add, (1, 2), tt=TT_MP).get(timeout=60)[0] == 3
            with pytest.raises(ValueError, match='bad'):
                sup.put_task(mp_targets.fail, ('bad',), tt=TT_MP).get(timeout=60)
            # no pickling for an executor that does not need it
            assert sup.put_task(lambda **_: 7, tt=TT_MP).get(timeout=60) == 7
        finally:
            sup.stop(wait=10)


def test_executor_with_submit_task_gets_priorities() -> None:
    sup = TaskSupervisor()
    executor = RecordingExecutor()
    sup.start()
    try:
        sup.mp_pool = executor
        tasks = [sup.put_task(mp_targets.stamp, (p,), priority=p, tt=TT_MP, name=f'job{p}')
                 for p in (TASK_HIGH, TASK_LOW)]
        gatasker.wait_completed(tasks, timeout=60)
        assert sorted(executor.seen) == [(TASK_HIGH, f'job{TASK_HIGH}'),
                                         (TASK_LOW, f'job{TASK_LOW}')]
    finally:
        sup.stop(wait=10)
        executor.shutdown()


def test_swapping_the_backend_while_running(mp_supervisor: TaskSupervisor) -> None:
    first = mp_supervisor.put_task(mp_targets.pid, tt=TT_MP).get(timeout=60)
    old = mp_supervisor.mp_pool
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        mp_supervisor.mp_pool = executor
        assert mp_supervisor.put_task(mp_targets.pid, tt=TT_MP).get(timeout=60) == os.getpid()
        mp_supervisor.mp_pool = None  # back to a built-in pool
        assert mp_supervisor.put_task(mp_targets.pid, tt=TT_MP).get(timeout=60) != os.getpid()
    assert first != os.getpid() and isinstance(old, ProcessPool)


@pytest.mark.skipif(PATCHED, reason='ProcessPoolExecutor hangs under patch_all(); use the '
                                    'built-in pool there')
def test_process_pool_executor_backs_the_tier() -> None:
    sup = TaskSupervisor()
    # spawn, not fork: this process runs threads (Python 3.12 warns, fork may deadlock)
    with concurrent.futures.ProcessPoolExecutor(
            max_workers=2, mp_context=multiprocessing.get_context('spawn')) as executor:
        sup.mp_pool = executor
        sup.start()
        try:
            tasks = [sup.put_task(mp_targets.add, (i, i), tt=TT_MP) for i in range(20)]
            assert [r[0] for r in gatasker.wait_completed(tasks, timeout=60)] == \
                [2 * i for i in range(20)]
            with pytest.raises(ValueError, match='x'):
                sup.put_task(mp_targets.fail, ('x',), tt=TT_MP).get(timeout=60)
        finally:
            sup.stop(wait=10)


@pytest.mark.skipif(PATCHED, reason='multiprocessing.Pool hangs under patch_all()')
def test_multiprocessing_pool_as_in_atasker() -> None:
    sup = TaskSupervisor()
    pool = multiprocessing.get_context('spawn').Pool(processes=2)  # not fork: threads run here
    try:
        sup.mp_pool = pool
        sup.start()
        try:
            assert sup.put_task(mp_targets.add, (4, 5), tt=TT_MP).get(timeout=60)[0] == 9
            with pytest.raises(ValueError, match='mp'):
                sup.put_task(mp_targets.fail, ('mp',), tt=TT_MP).get(timeout=60)
        finally:
            sup.stop(wait=10)
    finally:
        pool.terminate()
        pool.join()


# -- workers and coroutines --------------------------------------------------------------


def test_staticmethod_run_worker_runs_in_processes(mp_supervisor: TaskSupervisor) -> None:
    worker = mp_targets.SquareWorker(supervisor=mp_supervisor, expected=5)
    worker.start()
    try:
        for i in range(5):
            worker.put_threadsafe(i)
        assert worker.all_done.wait(60)
    finally:
        worker.stop()
    assert sorted(r[0] for r in worker.results) == [0, 1, 4, 9, 16]
    assert all(r[1] != os.getpid() for r in worker.results)
    assert '_worker' not in worker.results[0][2] and '_task_id' in worker.results[0][2]


def test_co_mp_apply_on_an_aloop(mp_supervisor: TaskSupervisor) -> None:
    aloop = mp_supervisor.create_aloop('mp', default=True)

    async def job() -> Any:
        ok = await gatasker.co_mp_apply(mp_targets.add, args=(3, 4), priority=TASK_HIGH,
                                        supervisor=mp_supervisor)
        try:
            await gatasker.co_mp_apply(mp_targets.fail, args=('co',),
                                       supervisor=mp_supervisor)
        except ValueError as exc:
            return ok, str(exc)
        return ok, None

    result, error = aloop.run(job())
    assert result[0] == 7 and error == 'co'


# -- main scripts -----------------------------------------------------------------------------


def test_targets_defined_in_a_guarded_main_script(tmp_path: pathlib.Path) -> None:
    script = tmp_path / 'job.py'
    script.write_text(textwrap.dedent('''
        import os
        import gatasker

        def where(**kwargs):
            return os.getpid()

        if __name__ == '__main__':
            with gatasker.TaskSupervisor() as sup:
                pid = sup.put_task(where, tt=gatasker.TT_MP).get(timeout=60)
            print('ran in', 'child' if pid != os.getpid() else 'parent')
    '''))
    proc = run_script(script)
    assert proc.returncode == 0, proc.stderr
    assert 'ran in child' in proc.stdout


def test_an_unguarded_main_script_gets_a_clear_error_when_spawning(
        tmp_path: pathlib.Path) -> None:
    # (forked worker processes, the default, run it: test_atasker_process.py)
    script = tmp_path / 'noguard.py'
    script.write_text(textwrap.dedent('''
        import gatasker

        def f(**kwargs):
            return 1

        with gatasker.TaskSupervisor() as sup:
            sup.create_mp_pool(processes=1, start_method='spawn')
            try:
                sup.put_task(f, tt=gatasker.TT_MP).get(timeout=60)
            except gatasker.WorkerProcessDied as exc:
                print('error:', exc)
    '''))
    proc = run_script(script)
    assert proc.returncode == 0, proc.stderr
    assert "if __name__ == '__main__'" in proc.stdout


def run_script(script: pathlib.Path) -> Any:
    import subprocess
    cmd = [sys.executable]
    if PATCHED:
        cmd += ['-c', 'from gevent import monkey; monkey.patch_all(); import runpy, sys; '
                      'sys.argv.pop(0); runpy.run_path(sys.argv[0], run_name="__main__")']
    return subprocess.run(cmd + [str(script)], capture_output=True, text=True, timeout=120,
                          cwd=script.parent)


# -- under load, monkey-patched -----------------------------------------------------------------


@pytest.mark.skipif(PATCHED, reason='starts its own monkey-patched interpreter')
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_patched_load_never_blocks_the_hub() -> None:
    """A heartbeat greenlet keeps running while the pool moves 2,000 x 100 KB and 40 x 1 MiB.

    The check is on the order of events, not on durations: the completions are
    cut into five equal runs, and the heartbeat must have ticked inside each of
    them. A pool that read or wrote its frames without yielding would keep the
    heartbeat out of a whole run. How long the hub may stall is measured by
    ``python -m benchmarks --only heartbeat``.
    """
    proc = run_python('''
        import gevent
        import gatasker, mp_targets

        events = []  # 'beat' or 'done', in the order the hub saw them
        stop = False

        def heartbeat():
            while not stop:
                gevent.sleep(0.01)
                events.append('beat')

        def done(_result):
            events.append('done')

        if __name__ == '__main__':
            sup = gatasker.TaskSupervisor()
            sup.create_mp_pool(processes=2)
            sup.start()
            assert sup.mode == 'embedded'
            small_data, big_data = b's' * 100_000, b'b' * (1 << 20)
            beat = gevent.spawn(heartbeat)
            small = [sup.put_task(mp_targets.size, (small_data,), tt=gatasker.TT_MP,
                                  callback=done) for _ in range(2000)]
            big = [sup.put_task(mp_targets.size, (big_data,), tt=gatasker.TT_MP,
                                callback=done) for _ in range(40)]
            assert gatasker.wait_completed(small, timeout=200) == [100_000] * 2000
            assert gatasker.wait_completed(big, timeout=200) == [1 << 20] * 40
            stop = True
            beat.join()
            sup.stop(wait=30)
            done_at = [i for i, e in enumerate(events) if e == 'done']
            cuts = [done_at[len(done_at) * k // 5] for k in range(5)] + [done_at[-1]]
            runs = [events[a:b].count('beat') for a, b in zip(cuts, cuts[1:])]
            print('dones', len(done_at), 'beats-per-fifth', *runs)
    ''', patched=True, timeout=280, env={'PYTHONPATH': str(HERE)})
    assert proc.returncode == 0, proc.stderr[-5000:]
    line = proc.stdout.split('dones')[1].split()
    assert line[0] == '2040', proc.stdout
    beats = [int(n) for n in line[2:7]]
    assert all(beats), f'the hub did not run the heartbeat during a fifth of the load: {beats}'


def test_a_reader_failure_fails_the_task_and_replaces_the_worker(
        mp_supervisor: TaskSupervisor, monkeypatch: pytest.MonkeyPatch) -> None:
    from gatasker import _process_worker
    pool = mp_supervisor.mp_pool
    first = gatasker.wait_completed(
        [mp_supervisor.put_task(mp_targets.pid, tt=TT_MP) for _ in range(2)], timeout=60)
    real = _process_worker._load_outcome
    calls: list[int] = []

    def broken(frame: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError('a bug while reading a result')
        return real(frame)

    monkeypatch.setattr(_process_worker, '_load_outcome', broken)
    with pytest.raises(WorkerProcessDied):
        mp_supervisor.put_task(mp_targets.add, (1, 2), tt=TT_MP).get(timeout=60)
    monkeypatch.setattr(_process_worker, '_load_outcome', real)
    later = gatasker.wait_completed(
        [mp_supervisor.put_task(mp_targets.pid, tt=TT_MP) for _ in range(6)], timeout=60)
    assert len(pool.pids) == 2
    assert set(later) <= set(pool.pids) and set(first) != set(pool.pids)


@pytest.mark.skipif(not hasattr(os, 'pidfd_open') or not os.path.isdir('/proc/self/fd'),
                    reason='needs Linux')
def test_a_process_that_hangs_up_but_stays_is_killed(
        mp_supervisor: TaskSupervisor, monkeypatch: pytest.MonkeyPatch) -> None:
    from gatasker import _process_worker
    monkeypatch.setattr(_process_worker, 'EXIT_TIMEOUT', 0.5)
    task = mp_supervisor.put_task(mp_targets.hang_up_and_stay, tt=TT_MP)
    with pytest.raises(WorkerProcessDied, match='SIGKILL'):
        task.get(timeout=60)
    assert mp_supervisor.put_task(mp_targets.add, (1, 2), tt=TT_MP).get(timeout=60)[0] == 3
