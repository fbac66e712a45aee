"""DaskExecutor against real dask.distributed clusters, each process on 127.0.0.1.

Two clusters, started once for the module:

* ``main``: a scheduler and two nanny-managed workers, one thread each;
* ``solo``: a scheduler and one worker, with ``allowed-failures=1`` (a poison
  task ends after its second killed worker) and ``worker-saturation=inf``
  (every task goes straight to the worker's own priority queue).

Readiness comes from the scheduler's log (the lines it writes when a worker
registers or leaves), task progress from the rendezvous server below, which
targets in the workers call; nothing waits on time.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import IO, Any

import pytest
from conftest import PATCHED, run_python

distributed = pytest.importorskip('distributed',
                                  reason="needs the dask extra: pip install -e '.[dask]'")

import dask_targets  # noqa: E402

import gatasker  # noqa: E402
from gatasker import TASK_CRITICAL, TASK_HIGH, TASK_LOW, TASK_NORMAL, TT_MP  # noqa: E402
from gatasker._bridge import Latch  # noqa: E402
from gatasker.contrib.dask import DaskExecutor, dask_priority  # noqa: E402

HERE = pathlib.Path(__file__).parent
pytestmark = pytest.mark.timeout(120)
HAS_PROCESS_TIER = hasattr(gatasker.TaskSupervisor, 'mp_pool')


# -- the test's side of the world -------------------------------------------------------------

class Cluster:
    """A dask scheduler and its workers, each in its own process group.

    The scheduler's log is read line by line: it says where the scheduler
    listens and which workers joined or left, and :meth:`wait` waits on that.
    """

    def __init__(self, name: str, tmp: pathlib.Path, env: dict[str, str]) -> None:
        self.name = name
        self._tmp = tmp
        self._env = {**os.environ, **env,
                     'PYTHONPATH': os.pathsep.join(filter(None, [str(HERE),
                                                                 os.environ.get('PYTHONPATH')]))}
        self._procs: list[subprocess.Popen[bytes]] = []
        self._changed = threading.Condition()
        self._log: list[str] = []
        self._eof = False
        self.address = ''
        self.workers: set[str] = set()
        self.removed = 0
        self._worker_log = open(tmp / f'{name}-workers.log', 'wb')
        scheduler = self._spawn(
            'distributed.cli.dask_scheduler', '--host', '127.0.0.1', '--port', '0',
            '--dashboard-address', '127.0.0.1:0',
            '--scheduler-file', str(tmp / f'{name}-scheduler.json'), stderr=subprocess.PIPE)
        assert scheduler.stderr is not None
        threading.Thread(target=self._read_log, args=(scheduler.stderr,), daemon=True).start()

    def _spawn(self, module: str, *args: str, **streams: Any) -> subprocess.Popen[bytes]:
        streams.setdefault('stdout', self._worker_log)
        streams.setdefault('stderr', subprocess.STDOUT)
        # Niced, so that on a small machine the busy cluster does not starve the test's own hub.
        proc = subprocess.Popen([sys.executable, '-m', module, *args], env=self._env,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=lambda: os.nice(10), **streams)
        self._procs.append(proc)
        return proc

    def _read_log(self, stream: IO[bytes]) -> None:
        for raw in stream:
            line = raw.decode(errors='replace').rstrip()
            with self._changed:
                self._log.append(line)
                if 'Scheduler at:' in line:
                    self.address = line.split()[-1]
                elif 'Register worker addr:' in line:
                    self.workers.add(line.split('addr:')[1].split()[0])
                elif 'Remove worker addr:' in line:
                    self.workers.discard(line.split('addr:')[1].split()[0])
                    self.removed += 1
                self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    def wait(self, what: str, condition: Callable[[], object], timeout: float = 60) -> None:
        """Wait until *condition* holds for what the scheduler logged."""
        with self._changed:
            self._changed.wait_for(lambda: condition() or self._eof, timeout)
            if not condition():
                log = '\n'.join(self._log[-40:])
                raise AssertionError(f'{self.name} cluster: {what} did not happen:\n{log}')

    def start_workers(self, count: int) -> None:
        self.wait('the scheduler listening', lambda: self.address)
        for _ in range(count):
            self._spawn('distributed.cli.dask_worker', self.address, '--nworkers', '1',
                        '--nthreads', '1', '--host', '127.0.0.1', '--no-dashboard',
                        '--local-directory', str(self._tmp / self.name),
                        '--preload', 'dask_targets')

    def wait_workers(self, count: int) -> None:
        self.wait(f'{count} workers registered', lambda: len(self.workers) >= count)

    def close(self) -> None:
        for proc in self._procs:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for proc in self._procs:
            proc.wait(30)
        self._worker_log.close()


class Rendezvous:
    """Where targets check in from the workers: records each arrival and holds tasks on request.

    An arrival is a dict with ``tag``, ``pid``, ``worker`` (address) and ``hold``.
    A held task waits until :meth:`release` of its tag; later arrivals of a
    released tag pass at once.
    """

    def __init__(self) -> None:
        self._server = socket.create_server(('127.0.0.1', 0))
        self.address = self._server.getsockname()[:2]
        self._changed = threading.Condition()
        self.arrivals: list[dict[str, Any]] = []
        self._held: dict[str, list[socket.socket]] = {}
        self._released: set[str] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._meet, args=(conn,), daemon=True).start()

    def _meet(self, conn: socket.socket) -> None:
        with conn.makefile('rb') as stream:
            line = stream.readline()
        if not line:
            conn.close()
            return
        arrival = json.loads(line)
        with self._changed:
            self.arrivals.append(arrival)
            wait = arrival['hold'] and arrival['tag'] not in self._released
            if wait:
                self._held.setdefault(arrival['tag'], []).append(conn)
            self._changed.notify_all()
        if not wait:
            self._answer(conn)

    @staticmethod
    def _answer(conn: socket.socket) -> None:
        try:
            conn.sendall(b'go\n')
        except OSError:  # the worker died holding it
            pass
        conn.close()

    def of(self, tag: str) -> list[dict[str, Any]]:
        """The arrivals of *tag* so far."""
        with self._changed:
            return [a for a in self.arrivals if a['tag'] == tag]

    def tags(self, prefix: str) -> list[str]:
        """The tags starting with *prefix*, in the order they arrived."""
        with self._changed:
            return [a['tag'] for a in self.arrivals if a['tag'].startswith(prefix)]

    def wait_for(self, tag: str, count: int = 1, timeout: float = 60) -> list[dict[str, Any]]:
        """Wait until *tag* arrived *count* times; return its arrivals."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.of(tag)) >= count, timeout)
        arrivals = self.of(tag)
        assert len(arrivals) >= count, f'{tag!r} arrived {len(arrivals)} of {count} times'
        return arrivals

    def release(self, tag: str) -> None:
        with self._changed:
            self._released.add(tag)
            held = self._held.pop(tag, [])
        for conn in held:
            self._answer(conn)

    def close(self) -> None:
        with self._changed:
            self._released.update(self._held)
            held = [conn for conns in self._held.values() for conn in conns]
            self._held.clear()
        for conn in held:
            self._answer(conn)
        self._server.close()


@pytest.fixture(scope='module')
def clusters(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    tmp = tmp_path_factory.mktemp('dask')
    main = Cluster('main', tmp, {})
    solo = Cluster('solo', tmp, {'DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES': '1',
                                 'DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION': 'inf'})
    try:
        main.start_workers(2)
        solo.start_workers(1)
        main.wait_workers(2)
        solo.wait_workers(1)
        yield SimpleNamespace(main=main, solo=solo)
    finally:
        main.close()
        solo.close()


@pytest.fixture(scope='module')
def rendezvous() -> Iterator[Rendezvous]:
    server = Rendezvous()
    yield server
    server.close()


@pytest.fixture(scope='module')
def executor(clusters: SimpleNamespace, rendezvous: Rendezvous) -> Iterator[DaskExecutor]:
    with DaskExecutor(clusters.main.address) as ex:
        yield ex
        rendezvous.close()  # frees anything a failed test left held


@pytest.fixture(scope='module')
def solo_executor(clusters: SimpleNamespace, rendezvous: Rendezvous) -> Iterator[DaskExecutor]:
    with DaskExecutor(clusters.solo.address) as ex:
        yield ex
        rendezvous.close()


# -- construction --------------------------------------------------------------------------

@pytest.mark.parametrize('args, kwargs', [
    ((), {}),
    (('tcp://127.0.0.1:8786',), {'client': object()}),
    ((), {'client': object(), 'timeout': 5}),
    (('tcp://127.0.0.1:8786',), {'asynchronous': False}),
    (('tcp://127.0.0.1:8786',), {'loop': None}),
    (('',), {}),
])
def test_needs_exactly_one_of_address_or_client(args: tuple[Any, ...],
                                                kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        DaskExecutor(*args, **kwargs)


def test_an_unreachable_scheduler_fails_the_constructor() -> None:
    with socket.create_server(('127.0.0.1', 0)) as probe:
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    with pytest.raises(OSError):
        DaskExecutor(f'tcp://127.0.0.1:{port}', timeout=1)


def test_priority_mapping() -> None:
    assert [dask_priority(p) for p in (TASK_CRITICAL, TASK_HIGH, TASK_NORMAL, TASK_LOW)] == \
        [100, 50, 0, -100]


# -- results, errors, keys ------------------------------------------------------------------

def test_results_come_back(executor: DaskExecutor) -> None:
    assert executor.submit(dask_targets.add, 2, 3).result(30) == 5
    assert list(executor.map(dask_targets.add, range(5), range(5), timeout=30)) == \
        [0, 2, 4, 6, 8]
    done, _ = concurrent.futures.wait([executor.submit(dask_targets.add, i, 1)
                                       for i in range(10)], timeout=30)
    assert sorted(f.result() for f in done) == list(range(1, 11))


def test_exceptions_keep_their_type_and_message(executor: DaskExecutor) -> None:
    with pytest.raises(dask_targets.TargetError, match=r'^bad input 42$'):
        executor.submit(dask_targets.boom, 'bad input 42').result(30)
    error = executor.submit(divmod, 1, 0).exception(30)
    assert type(error) is ZeroDivisionError


def test_an_argument_that_cannot_be_sent_fails_its_future(executor: DaskExecutor) -> None:
    future = executor.submit(dask_targets.add, (n for n in range(3)), 1)
    assert future.exception(30) is not None
    assert executor.submit(dask_targets.add, 1, 1).result(30) == 2


def test_identical_calls_each_run_under_their_own_key(executor: DaskExecutor) -> None:
    keys = [f.result(30) for f in [executor.submit(dask_targets.current_key) for _ in range(5)]]
    assert len(set(keys)) == 5
    assert all(re.fullmatch(r'current_key-[0-9a-f]{32}', key) for key in keys), keys
    named = executor.submit_task(dask_targets.current_key, name='nightly-report').result(30)
    assert re.fullmatch(r'nightly-report-[0-9a-f]{32}', named)


def test_keywords_named_like_dask_options_reach_the_function(executor: DaskExecutor) -> None:
    kwargs = {'priority': 7, 'key': 'mine', 'pure': True, 'retries': 3, 'workers': ['nowhere'],
              'resources': {'GPU': 1}, 'allow_other_workers': False, 'actor': True}
    assert executor.submit(dask_targets.echo_kwargs, **kwargs).result(30) == kwargs
    assert executor.submit_task(dask_targets.echo_kwargs, (), kwargs,
                                priority=TASK_HIGH).result(30) == kwargs


def test_canceling_a_future_cancels_it_and_the_executor_goes_on(
        executor: DaskExecutor, rendezvous: Rendezvous) -> None:
    future = executor.submit(dask_targets.hold, rendezvous.address, 'cancel-me')
    rendezvous.wait_for('cancel-me')
    assert future.cancel()
    assert future.cancelled()
    assert executor.submit(dask_targets.add, 1, 1).result(30) == 2
    rendezvous.release('cancel-me')


def test_the_client_answers_blocking_calls(executor: DaskExecutor) -> None:
    assert executor.client.scheduler_info()['workers']


# -- priorities and failures ------------------------------------------------------------------

def test_a_busy_worker_takes_queued_tasks_by_priority(solo_executor: DaskExecutor,
                                                      rendezvous: Rendezvous) -> None:
    blocker = solo_executor.submit_task(dask_targets.hold_until_queued,
                                        (rendezvous.address, 'prio-blocker', 4))
    rendezvous.wait_for('prio-blocker')  # the worker's only thread is taken
    queued = [solo_executor.submit_task(dask_targets.report, (rendezvous.address, f'prio-{label}'),
                                        priority=priority, name=f'prio-{label}')
              for label, priority in (('low', TASK_LOW), ('normal', TASK_NORMAL),
                                      ('high', TASK_HIGH), ('critical', TASK_CRITICAL))]
    for future in [blocker, *queued]:
        future.result(60)
    assert rendezvous.tags('prio-') == ['prio-blocker', 'prio-critical', 'prio-high',
                                        'prio-normal', 'prio-low']


def test_a_task_that_keeps_killing_workers_ends_with_killed_worker(
        solo_executor: DaskExecutor, clusters: SimpleNamespace) -> None:
    removed = clusters.solo.removed
    future = solo_executor.submit(dask_targets.die)
    error = future.exception(90)
    assert isinstance(error, distributed.KilledWorker), repr(error)
    # allowed-failures=1: it killed two workers; the nanny starts a third.
    clusters.solo.wait('the worker restarted',
                       lambda: clusters.solo.removed >= removed + 2 and clusters.solo.workers)
    assert solo_executor.submit(dask_targets.add, 1, 2).result(60) == 3


def test_a_task_whose_worker_dies_runs_again_on_another(
        executor: DaskExecutor, rendezvous: Rendezvous, clusters: SimpleNamespace) -> None:
    future = executor.submit(dask_targets.hold, rendezvous.address, 'victim')
    first = rendezvous.wait_for('victim')[0]
    os.kill(first['pid'], signal.SIGKILL)
    second = rendezvous.wait_for('victim', 2)[1]
    rendezvous.release('victim')
    assert future.result(60) == second['pid'] != first['pid']
    assert second['worker'] != first['worker']
    main = clusters.main
    main.wait('the killed worker removed', lambda: first['worker'] not in main.workers)
    main.wait_workers(2)  # its nanny started a new one


# -- shutting down -----------------------------------------------------------------------------

def test_shutdown_waits_for_running_work_then_closes_its_client(
        clusters: SimpleNamespace, rendezvous: Rendezvous) -> None:
    ex = DaskExecutor(clusters.main.address)
    future = ex.submit(dask_targets.hold, rendezvous.address, 'shutdown-wait')
    rendezvous.wait_for('shutdown-wait')
    returned = Latch()

    def shut() -> None:
        ex.shutdown(wait=True)
        returned.set()

    threading.Thread(target=shut, daemon=True).start()
    assert not returned.is_set()  # the held task cannot be done yet
    rendezvous.release('shutdown-wait')
    assert returned.wait(30)
    assert future.result() == rendezvous.of('shutdown-wait')[0]['pid']
    assert ex.client.status == 'closed'
    with pytest.raises(RuntimeError, match='after shutdown'):
        ex.submit(dask_targets.add, 1, 2)


def test_shutdown_without_wait_lets_running_work_finish(
        clusters: SimpleNamespace, rendezvous: Rendezvous) -> None:
    ex = DaskExecutor(clusters.main.address)
    future = ex.submit(dask_targets.hold, rendezvous.address, 'shutdown-nowait')
    rendezvous.wait_for('shutdown-nowait')
    ex.shutdown(wait=False)
    assert not future.done()
    with pytest.raises(RuntimeError, match='after shutdown'):
        ex.submit(dask_targets.add, 1, 2)
    rendezvous.release('shutdown-nowait')
    assert future.result(30) == rendezvous.of('shutdown-nowait')[0]['pid']
    ex.shutdown()  # again: now waits for the client to close
    assert ex.client.status == 'closed'


def test_shutdown_can_cancel_what_is_not_done(clusters: SimpleNamespace,
                                              rendezvous: Rendezvous) -> None:
    ex = DaskExecutor(clusters.main.address)
    held = ex.submit(dask_targets.hold, rendezvous.address, 'shutdown-cancel')
    rendezvous.wait_for('shutdown-cancel')
    more = [ex.submit(dask_targets.add, i, i) for i in range(3)]
    ex.shutdown(cancel_futures=True)
    assert held.cancelled()
    assert all(f.done() for f in more)
    assert ex.client.status == 'closed'
    rendezvous.release('shutdown-cancel')


@pytest.mark.skipif(PATCHED, reason='a synchronous dask Client needs an unpatched process')
def test_a_client_passed_in_is_used_and_left_open(clusters: SimpleNamespace) -> None:
    client = distributed.Client(clusters.main.address, set_as_default=False)
    try:
        with DaskExecutor(client=client) as ex:
            assert ex.client is client
            assert ex.submit(dask_targets.add, 2, 3).result(30) == 5
        assert client.status == 'running'
        assert client.submit(dask_targets.add, 1, 1).result(30) == 2
    finally:
        client.close()


# -- through a supervisor (TT_MP) ---------------------------------------------------------

needs_process_tier = pytest.mark.skipif(not HAS_PROCESS_TIER, reason='the process tier is not in')


@needs_process_tier
def test_a_supervisor_runs_tt_mp_tasks_on_the_cluster(
        executor: DaskExecutor, supervisor: gatasker.TaskSupervisor) -> None:
    supervisor.mp_pool = executor
    assert supervisor.put_task(dask_targets.add, (2, 3), tt=TT_MP,
                               priority=TASK_HIGH).get(timeout=30) == 5
    with pytest.raises(dask_targets.TargetError, match='from the cluster'):
        supervisor.put_task(dask_targets.boom, ('from the cluster',), tt=TT_MP).get(timeout=30)
    key = supervisor.put_task(dask_targets.current_key, tt=TT_MP, name='nightly').get(timeout=30)
    assert key.startswith('nightly-')
    assert supervisor.mp_pool is executor


@needs_process_tier
def test_a_supervisor_hands_its_priorities_to_dask(
        solo_executor: DaskExecutor, rendezvous: Rendezvous,
        supervisor: gatasker.TaskSupervisor) -> None:
    supervisor.set_mp_pool(executor=solo_executor, pool_size=0)  # all go to dask at once
    blocker = supervisor.put_task(dask_targets.hold_until_queued,
                                  (rendezvous.address, 'sup-blocker', 4), tt=TT_MP)
    rendezvous.wait_for('sup-blocker')
    tasks = [supervisor.put_task(dask_targets.report, (rendezvous.address, f'sup-{label}'),
                                 tt=TT_MP, priority=priority)
             for label, priority in (('low', TASK_LOW), ('normal', TASK_NORMAL),
                                     ('high', TASK_HIGH), ('critical', TASK_CRITICAL))]
    for task in [blocker, *tasks]:
        task.get(timeout=60)
    assert rendezvous.tags('sup-') == ['sup-blocker', 'sup-critical', 'sup-high', 'sup-normal',
                                       'sup-low']


# -- monkey-patched ----------------------------------------------------------------------------

def patched_checks(address: str) -> dict[str, Any]:
    """The basics in a monkey-patched process, with a 10 ms heartbeat greenlet watching the hub.

    Returns what happened, with how often the heartbeat ticked while this
    greenlet waited for 200 results: a client that blocked the hub while
    waiting would keep it at zero. How long the hub may stall is a benchmark
    (``python -m benchmarks --only heartbeat``), not a test.
    """
    import gevent
    assert PATCHED or gevent.monkey.is_module_patched('threading')
    beats = 0
    beating = True

    def heartbeat() -> None:
        nonlocal beats
        while beating:
            gevent.sleep(0.01)
            beats += 1

    out: dict[str, Any] = {}
    with DaskExecutor(address) as ex:
        ex.submit(dask_targets.add, 0, 0).result(60)
        beat = gevent.spawn(heartbeat)
        gevent.sleep(0)
        futures = []
        for i in range(200):
            futures.append(ex.submit(dask_targets.add, i, i))
            if i % 20 == 19:
                gevent.sleep(0)  # a real application yields between requests
        before = beats
        out['sum'] = sum(f.result(60) for f in futures)
        out['beats_while_waiting'] = beats - before
        try:
            ex.submit(dask_targets.boom, 'patched error').result(30)
        except dask_targets.TargetError as exc:
            out['error'] = str(exc)
        out['kwargs'] = ex.submit(dask_targets.echo_kwargs, priority=1, key='k').result(30)
        if HAS_PROCESS_TIER:
            with gatasker.TaskSupervisor() as sup:
                sup.mp_pool = ex
                tasks = [sup.put_task(dask_targets.add, (i, 1), tt=TT_MP, priority=priority)
                         for i, priority in enumerate((TASK_LOW, TASK_NORMAL, TASK_HIGH))]
                out['tasks'] = [t.get(timeout=60) for t in tasks]
    beating = False
    beat.join()
    return out


def check_patched_results(out: dict[str, Any]) -> None:
    assert out['sum'] == 2 * sum(range(200))
    assert out['error'] == 'patched error'
    assert out['kwargs'] == {'priority': 1, 'key': 'k'}
    if HAS_PROCESS_TIER:
        assert out['tasks'] == [1, 2, 3]
    assert out['beats_while_waiting'] > 0, 'the hub stood still while waiting for dask'


@pytest.mark.skipif(not PATCHED, reason='runs in the monkey-patched run of this module')
def test_in_a_patched_process_the_hub_keeps_running(clusters: SimpleNamespace) -> None:
    check_patched_results(patched_checks(clusters.main.address))


@pytest.mark.skipif(PATCHED, reason='starts its own monkey-patched interpreter')
@pytest.mark.patched
def test_in_a_fresh_patched_process_the_hub_keeps_running(clusters: SimpleNamespace) -> None:
    proc = run_python(f"""
        import json, sys
        sys.path.insert(0, {str(HERE)!r})
        import test_contrib_dask
        # A fresh process, nothing else keeps its hub alive: the futures must.
        from gatasker.contrib.dask import DaskExecutor
        with DaskExecutor({clusters.main.address!r}) as ex:
            assert ex.submit(divmod, 7, 2).result(30) == (3, 1)
        out = test_contrib_dask.patched_checks({clusters.main.address!r})
        print('RESULT ' + json.dumps(out))
        """, patched=True, timeout=100, env={'PYTHONPATH': str(HERE)})
    lines = [line for line in proc.stdout.splitlines() if line.startswith('RESULT ')]
    assert proc.returncode == 0 and lines, proc.stdout + proc.stderr
    check_patched_results(json.loads(lines[-1][len('RESULT '):]))
