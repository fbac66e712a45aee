"""Real uWSGI (``--gevent``, master + 2 workers) as docs/deployment.md shows it.

Requests use a background task, an actor, a queue worker and a TT_MP task
(tests/gunicorn_app.py starts the actor and the worker at import).

uWSGI forks its workers with the C fork(). Without ``--py-call-uwsgi-fork-hooks``
it forks without taking the GIL: a worker forked while a supervisor's thread
in the master holds the GIL waits for it forever (it never serves and is
killed at shutdown after ``--worker-reload-mercy``), so gatasker refuses to
start in such a master. The two supported set-ups run here: the app loaded
in the master with the fork hooks, and ``--lazy-apps``. Runs only where the
``uwsgi`` binary is installed (``pip install uwsgi`` compiles it, so it is not
in the test extra); .ci/run installs it for one Python version.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import PATCHED
from test_gunicorn import free_port, get, gone

HERE = pathlib.Path(__file__).parent
UWSGI = shutil.which('uwsgi', path=str(pathlib.Path(sys.executable).parent)) or shutil.which('uwsgi')
KINDS = {'task': 2, 'actor': 1, 'queue': 3, 'mp': 1}  # what each route does to n
MERCY = 15  # seconds uWSGI gives a worker to exit before it kills it
# .ci/run installs uWSGI for one Python version and sets this: no silent skip there
REQUIRED = bool(os.environ.get('GATASKER_REQUIRE_UWSGI'))
pytestmark = [pytest.mark.skipif(PATCHED, reason='uWSGI runs in its own processes'),
              pytest.mark.skipif(UWSGI is None and not REQUIRED, reason='uWSGI is not installed'),
              pytest.mark.slow, pytest.mark.timeout(300)]


def start_uwsgi(port: int, log: pathlib.Path, *options: str) -> subprocess.Popen[bytes]:
    """uWSGI serving tests/gunicorn_app.py (an actor and a worker started at import)."""
    pytest.importorskip('flask', reason='flask comes with the test extra')
    assert UWSGI is not None, 'GATASKER_REQUIRE_UWSGI is set, but no uwsgi binary was found'
    command = [UWSGI, '--master', '--processes', '2', '--gevent', '100', '--gevent-monkey-patch',
               '--http-socket', f'127.0.0.1:{port}', '--module', 'gunicorn_app:app',
               '--need-app', '--die-on-term', '--disable-logging',
               '--worker-reload-mercy', str(MERCY),
               '--pythonpath', str(HERE), '--virtualenv', sys.prefix, *options]
    with log.open('wb') as out:
        return subprocess.Popen(command, cwd=HERE, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def wait_until_both_workers_serve(base: str, server: subprocess.Popen[bytes],
                                  log: pathlib.Path) -> None:
    """Send requests, 8 at a time, until both workers have answered.

    A worker hung at its fork never answers (the bug this module guards
    against). And with --lazy-apps a worker imports the app after the fork:
    a SIGTERM that comes while it does is lost by uWSGI (the worker enters its
    loop afterwards and is killed after the mercy; seen under load), so the
    test stops the server only once both serve.
    """
    def answer() -> int | None:
        try:
            return int(get(base, '/task/0')['worker'])
        except OSError:
            return None  # the port is not open yet

    workers: set[int | None] = set()
    deadline = time.monotonic() + 90
    with ThreadPoolExecutor(8) as pool:
        while len(workers - {None}) < 2:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f'answered: {workers}\n' + log.read_text()
            workers.update(pool.map(lambda _: answer(), range(8)))
            time.sleep(0.1)  # nothing to wait on but the port and the other worker's import


@pytest.mark.parametrize(('options', 'mode'), [
    (['--py-call-uwsgi-fork-hooks'], 'embedded'),  # restarted in the patched worker
    (['--lazy-apps'], 'threaded'),  # the app is imported before uWSGI patches
    (['--lazy-apps', '--gevent-early-monkey-patch'], 'embedded'),
], ids=['app_in_master_fork_hooks', 'lazy_apps', 'lazy_apps_early_patch'])
def test_uwsgi_gevent_workers_run_every_kind_of_work(options: list[str], mode: str,
                                                     tmp_path: pathlib.Path) -> None:
    port = free_port()
    base = f'http://127.0.0.1:{port}'
    log = tmp_path / 'uwsgi.log'
    server = start_uwsgi(port, log, *options)
    answers = []
    try:
        wait_until_both_workers_serve(base, server, log)
        for n in range(20):
            for kind, factor in KINDS.items():
                try:
                    answer = get(base, f'/{kind}/{n}')
                except OSError as exc:
                    raise AssertionError(f'/{kind}/{n}: {exc}\n{log.read_text()}') from None
                assert answer['value'] == factor * n, (kind, n, answer)
                assert answer['worker'] != server.pid  # a worker, not the master
                if kind == 'mp':  # a process of the worker's pool, in the worker's mode
                    assert answer['pid'] not in (answer['worker'], server.pid)
                    assert answer['mode'] == mode, answer
                else:
                    assert answer['pid'] == answer['worker']
                answers.append(answer)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=MERCY + 45)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
    text = log.read_text()
    assert 'Traceback' not in text, text
    # Both workers left their loop on SIGTERM, none was killed after the mercy.
    for worker in (1, 2):
        assert f'goodbye to the gevent Hub on worker {worker} ' in text, text
    assert 'taking too much time to die' not in text, text
    # no process left behind: the workers and their process-tier processes
    pids = {answer[key] for answer in answers for key in ('pid', 'worker')}
    deadline = time.monotonic() + 30
    while not all(gone(pid) for pid in pids):
        assert time.monotonic() < deadline, [pid for pid in pids if not gone(pid)]
        time.sleep(0.1)


def test_uwsgi_master_without_fork_hooks_refuses_to_start_gatasker(tmp_path: pathlib.Path) -> None:
    """The app loaded in a master that forks without the GIL: a clear error, not a hung worker."""
    log = tmp_path / 'uwsgi.log'
    server = start_uwsgi(free_port(), log)
    try:
        returncode = server.wait(timeout=60)  # --need-app: no app, no server
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
    text = log.read_text()
    assert returncode != 0, text
    assert 'GataskerError' in text and '--py-call-uwsgi-fork-hooks' in text, text
    assert 'spawned uWSGI worker' not in text, text
