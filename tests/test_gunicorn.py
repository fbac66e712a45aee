"""Real gunicorn (``-k gevent``, 2 workers, the shipped recipe) with preload on and off.

Requests use a background task, an actor, a queue worker and a TT_MP task
(tests/gunicorn_app.py starts the actor and the worker at import, so with
``--preload`` they start in the master and the workers inherit them through
fork). Then SIGHUP (new workers) and SIGTERM: a clean exit, no traceback in
the log, no process left behind.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from conftest import PATCHED

pytest.importorskip('gunicorn', reason='gunicorn comes with the test extra')
pytest.importorskip('flask', reason='flask comes with the test extra')

HERE = pathlib.Path(__file__).parent
RECIPE = HERE.parent / 'examples' / 'gunicorn_conf.py'
KINDS = {'task': 2, 'actor': 1, 'queue': 3, 'mp': 1}  # what each route does to n
PER_KIND = 25
pytestmark = [pytest.mark.skipif(PATCHED, reason='gunicorn runs in its own processes'),
              pytest.mark.slow, pytest.mark.timeout(300)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return int(sock.getsockname()[1])


def get(base: str, path: str) -> dict[str, Any]:
    with urllib.request.urlopen(base + path, timeout=60) as response:
        assert response.status == 200
        return json.loads(response.read())  # type: ignore[no-any-return]


def wait_until_serving(base: str, server: subprocess.Popen[bytes], log: pathlib.Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            get(base, '/task/0')
            return
        except OSError:
            time.sleep(0.1)  # the port is not open yet: nothing to wait on but the port
    raise AssertionError('gunicorn did not serve within 60 s:\n' + log.read_text())


def drive(base: str) -> list[dict[str, Any]]:
    """PER_KIND requests of every kind, 8 at a time; each must answer correctly."""
    paths = [(kind, n) for n in range(PER_KIND) for kind in KINDS]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda p: get(base, f'/{p[0]}/{p[1]}'), paths))
    for (kind, n), answer in zip(paths, answers, strict=True):
        assert answer['value'] == KINDS[kind] * n, (kind, n, answer)
        if kind == 'mp':
            assert answer['pid'] != answer['worker'] and answer['mode'] == 'embedded'
        else:
            assert answer['pid'] == answer['worker']  # it ran in the worker that answered
    return answers


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie is gone too: it waits only for its parent to reap it
        return pathlib.Path(f'/proc/{pid}/stat').read_text().split(')')[1].split()[0] == 'Z'
    except OSError:
        return True


@pytest.mark.parametrize('preload', [False, True], ids=['no_preload', 'preload'])
def test_gunicorn_gevent_workers_run_every_kind_of_work(preload: bool,
                                                        tmp_path: pathlib.Path) -> None:
    port = free_port()
    base = f'http://127.0.0.1:{port}'
    log = tmp_path / 'gunicorn.log'
    command = [sys.executable, '-m', 'gunicorn', '-c', str(RECIPE), '--bind', f'127.0.0.1:{port}',
               '--workers', '2', '--worker-class', 'gevent', '--graceful-timeout', '30',
               *(['--preload'] if preload else []), 'gunicorn_app:app']
    with log.open('wb') as out:
        server = subprocess.Popen(command, cwd=HERE, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        wait_until_serving(base, server, log)
        first = drive(base)
        old_workers = {answer['worker'] for answer in first}
        server.send_signal(signal.SIGHUP)
        # new workers take over; the old ones finish what they serve and exit
        deadline = time.monotonic() + 60
        while not all(gone(pid) for pid in old_workers):
            assert time.monotonic() < deadline, 'the old workers did not exit after SIGHUP'
            time.sleep(0.1)
        second = drive(base)
        assert not {answer['worker'] for answer in second} & old_workers
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0, log.read_text()
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
    text = log.read_text()
    assert 'Traceback' not in text and 'Exception ignored' not in text, text
    assert 'Shutting down: Master' in text, text
    # no process left behind: gunicorn workers, their process-tier processes
    pids = {answer[key] for answer in first + second for key in ('pid', 'worker')}
    deadline = time.monotonic() + 30
    while not all(gone(pid) for pid in pids):
        assert time.monotonic() < deadline, [pid for pid in pids if not gone(pid)]
        time.sleep(0.1)
    with pytest.raises(ProcessLookupError):
        os.killpg(server.pid, 0)
