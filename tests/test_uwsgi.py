"""Real uWSGI (``--gevent``, master + 2 workers, the app loaded in the master).

uWSGI forks its workers with the C fork(), which skips Python's at-fork
hooks; gatasker's uWSGI post-fork hook resets the supervisor there instead.
Runs only where the ``uwsgi`` binary is installed (``pip install uwsgi``
compiles it, so it is not part of the test extra). TT_MP is left out: the
process tier does not run under uWSGI yet (see docs/deployment.md).
"""

from __future__ import annotations

import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import pytest
from conftest import PATCHED
from test_gunicorn import free_port, get, gone

HERE = pathlib.Path(__file__).parent
UWSGI = shutil.which('uwsgi', path=str(pathlib.Path(sys.executable).parent)) or shutil.which('uwsgi')
KINDS = {'task': 2, 'actor': 1, 'queue': 3}
pytestmark = [pytest.mark.skipif(PATCHED, reason='uWSGI runs in its own processes'),
              pytest.mark.skipif(UWSGI is None, reason='uWSGI is not installed'),
              pytest.mark.slow, pytest.mark.timeout(300)]


def test_uwsgi_gevent_workers_run_tasks_actors_and_queue_workers(tmp_path: pathlib.Path) -> None:
    pytest.importorskip('flask', reason='flask comes with the test extra')
    port = free_port()
    base = f'http://127.0.0.1:{port}'
    log = tmp_path / 'uwsgi.log'
    assert UWSGI is not None
    command = [UWSGI, '--master', '--processes', '2', '--gevent', '100', '--gevent-monkey-patch',
               '--http-socket', f'127.0.0.1:{port}', '--module', 'gunicorn_app:app',
               '--need-app', '--die-on-term', '--disable-logging',
               # a worker sometimes stalls at exit (see the deploy notes): bounded here
               '--worker-reload-mercy', '15',
               '--pythonpath', str(HERE), '--virtualenv', sys.prefix]
    with log.open('wb') as out:
        server = subprocess.Popen(command, cwd=HERE, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    answers = []
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            try:
                get(base, '/task/0')
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)  # the port is not open yet
        for n in range(20):
            for kind, factor in KINDS.items():
                try:
                    answer = get(base, f'/{kind}/{n}')
                except OSError as exc:
                    raise AssertionError(f'/{kind}/{n}: {exc}\n{log.read_text()}') from None
                assert answer['value'] == factor * n and answer['pid'] == answer['worker']
                assert answer['worker'] != server.pid  # a worker, not the master
                answers.append(answer)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
    text = log.read_text()
    assert 'Traceback' not in text, text
    pids = {answer['worker'] for answer in answers}
    deadline = time.monotonic() + 30
    while not all(gone(pid) for pid in pids):
        assert time.monotonic() < deadline, [pid for pid in pids if not gone(pid)]
        time.sleep(0.1)
