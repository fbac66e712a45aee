"""serve_inspect() and ``python -m gatasker inspect``, end to end against a running process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PATCHED, Recorder, settle

import gatasker
from gatasker import TT_GREENLET, SupervisorNotRunning
from gatasker._bridge import allocate_lock
from gatasker._inspect import fetch, parse_address, render

APP = '''
import sys
import gevent.socket
import gatasker
from gatasker._bridge import Latch

sup = gatasker.TaskSupervisor(supervisor_id='inspected')
sup.start()
sup.watch_hub(1.0)
sup.set_thread_pool(pool_size=1, reserve_normal=0, reserve_high=0)
gate = Latch()
busy = sup.put_task(lambda **_: gate.wait(60), tt=gatasker.TT_THREAD)
waiting = [sup.put_task(lambda **_: None, tt=gatasker.TT_THREAD, priority=gatasker.TASK_LOW)
           for _ in range(3)]


class Echo(gatasker.Actor):
    def on_receive(self, message):
        return message


echo = Echo.spawn(name='echo-actor', supervisor=sup)
echo.ask('hello', timeout=10)
address = sup.serve_inspect(sys.argv[1] if len(sys.argv) > 1 else ('127.0.0.1', 0))
print(address if isinstance(address, str) else f'{address[0]}:{address[1]}', flush=True)
# Until the test closes our stdin. Waited for cooperatively: a plain read would
# block the (watched) hub in a patched process and count as an incident.
gevent.socket.wait_read(sys.stdin.fileno())
gate.set()
echo.stop()
sup.stop()
print('stopped', flush=True)
'''


@pytest.fixture
def app(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Start the app (patched when the suite is) and yield ``start(argv) -> address``."""
    procs: list[subprocess.Popen[str]] = []
    script = tmp_path / 'app.py'
    prelude = 'from gevent import monkey; monkey.patch_all()\n' if PATCHED else ''
    script.write_text(prelude + textwrap.dedent(APP))

    def start(*argv: str) -> str:
        proc = subprocess.Popen([sys.executable, str(script), *argv], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line, proc.stderr.read() if proc.stderr else ''
        return line

    yield start
    for proc in procs:
        out, err = proc.communicate('', timeout=60)
        assert proc.returncode == 0, err
        assert out.strip() == 'stopped'


def run_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, '-m', 'gatasker', *argv], capture_output=True,
                          text=True, timeout=120)


def test_inspect_a_running_process_over_tcp(app: Any) -> None:
    address = app()
    result = run_cli('inspect', address, '--count', '2', '--interval', '0.01')
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count('supervisor inspected  running') == 2  # two refreshes
    assert 'hub lag p99' in out and 'incidents 0' in out
    thread_low = [line for line in out.splitlines() if line.split()[:2] == ['thread', 'L']]
    thread_normal = [line for line in out.splitlines() if line.split()[:2] == ['thread', 'N']]
    # columns: tier pri size running queued done failed cancel ...
    assert thread_low[0].split()[3:5] == ['0', '3']
    assert thread_normal[0].split()[3:5] == ['1', '0']
    assert 'echo-actor' in out and 'actor' in out


def test_inspect_over_a_unix_socket(app: Any, tmp_path: Path) -> None:
    path = str(tmp_path / 'inspect.sock')
    assert app(path) == path
    result = run_cli('inspect', path, '--once')
    assert result.returncode == 0, result.stderr
    assert 'supervisor inspected  running' in result.stdout


def test_inspect_reports_an_unreachable_address(tmp_path: Path) -> None:
    result = run_cli('inspect', str(tmp_path / 'nobody.sock'), '--once')
    assert result.returncode == 1
    assert 'cannot read' in result.stderr and result.stdout == ''


# -- in-process ---------------------------------------------------------------------------------

def test_serve_inspect_answers_and_closes_at_stop(tmp_path: Path) -> None:
    sup = gatasker.TaskSupervisor(supervisor_id='own')
    other = gatasker.TaskSupervisor(supervisor_id='other')
    sup.start()
    other.start()
    path = str(tmp_path / 's.sock')
    try:
        host, port = sup.serve_inspect('127.0.0.1:0')
        assert sup.serve_inspect(path) == path  # replaces the TCP endpoint
        with pytest.raises(OSError):
            fetch((host, port), timeout=5)
        data = fetch(path)
        assert [s['id'] for s in data['supervisors']][:1] == ['own']
        assert 'other' in [s['id'] for s in data['supervisors']]
        assert data['pid'] == os.getpid()
        assert 'supervisor own  running' in render(data)
    finally:
        other.stop()
        sup.stop()
    assert not os.path.exists(path)
    with pytest.raises(SupervisorNotRunning):
        sup.serve_inspect(path)


def test_serve_inspect_answers_while_the_hub_is_blocked() -> None:
    sup = gatasker.TaskSupervisor()
    sup.start('threaded')  # the hub in its own thread, so this test can look at it
    hog = allocate_lock()
    hog.acquire()
    rec = Recorder()
    try:
        address = sup.serve_inspect(('127.0.0.1', 0))
        task = sup.put_task(lambda **_: (rec.run('hog'), hog.acquire(True, 60)), tt=TT_GREENLET)
        rec.wait_started(1)
        data = fetch(address)  # the hub cannot run anything now
        greenlet = data['supervisors'][0]['tiers']['greenlet']
        assert greenlet['running'] == 1
        hog.release()
        rec.gate.set()
        task.wait(60)
    finally:
        sup.stop()


@pytest.mark.parametrize('address, error', [
    (('10.0.0.1', 80), ValueError), ('example.com:80', ValueError), (('127.0.0.1', -1), ValueError),
    (('127.0.0.1', 70000), ValueError), (5000, TypeError), (('127.0.0.1', '80'), TypeError),
    ('', ValueError), (('127.0.0.1', True), TypeError)])
def test_bad_addresses_are_refused_at_the_call(supervisor: gatasker.TaskSupervisor,
                                               address: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        supervisor.serve_inspect(address)


def test_address_forms() -> None:
    assert parse_address('127.0.0.1:8000') == (socket.AF_INET, ('127.0.0.1', 8000))
    assert parse_address('localhost:0') == (socket.AF_INET, ('127.0.0.1', 0))
    assert parse_address('[::1]:9') == (socket.AF_INET6, ('::1', 9))
    assert parse_address('/run/app.sock') == (socket.AF_UNIX, '/run/app.sock')
    assert parse_address(Path('app.sock')) == (socket.AF_UNIX, 'app.sock')


def test_a_busy_address_raises_and_keeps_the_old_endpoint(
        supervisor: gatasker.TaskSupervisor) -> None:
    address = supervisor.serve_inspect(('127.0.0.1', 0))
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen(1)
        with pytest.raises(OSError):
            supervisor.serve_inspect(taken.getsockname())
    assert fetch(address)['supervisors'][0]['id'] == supervisor.id
    settle(supervisor)


def test_a_failing_snapshot_is_logged_and_the_endpoint_keeps_serving(
        supervisor: gatasker.TaskSupervisor, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    address = supervisor.serve_inspect(('127.0.0.1', 0))
    calls = []

    def broken() -> Any:
        calls.append(1)
        raise RuntimeError('statistics bug')

    monkeypatch.setattr(supervisor, 'statistics', broken)
    with pytest.raises(ValueError):  # an empty answer is not JSON
        fetch(address)
    monkeypatch.undo()
    assert fetch(address)['supervisors'][0]['id'] == supervisor.id
    assert calls and 'answering failed' in caplog.text
