"""Every example runs and checks itself; the WSGI app is driven over real HTTP."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import PATCHED

EXAMPLES = pathlib.Path(__file__).parent.parent / 'examples'
SCRIPTS = ['priorities.py', 'workers.py', 'actor_pipeline.py', 'aloops.py', 'helpers.py',
           'process_tasks.py', 'dask_scaleout.py', 'interop.py', 'supervision.py',
           'observability.py']
pytestmark = pytest.mark.skipif(PATCHED, reason='examples run in their own processes once')


@pytest.mark.parametrize('script', SCRIPTS)
def test_example_runs(script: str) -> None:
    proc = subprocess.run([sys.executable, str(EXAMPLES / script)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _assert_runs_monkey_patched(script: str) -> None:
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), '--patched'],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'mode: embedded' in proc.stdout and proc.stdout.rstrip().endswith('ok')


def test_process_example_runs_monkey_patched() -> None:
    _assert_runs_monkey_patched('process_tasks.py')


def test_interop_example_runs_monkey_patched() -> None:
    _assert_runs_monkey_patched('interop.py')


def test_supervision_example_runs_monkey_patched() -> None:
    _assert_runs_monkey_patched('supervision.py')


def test_observability_example_runs_monkey_patched() -> None:
    _assert_runs_monkey_patched('observability.py')


def test_every_example_is_covered() -> None:
    present = {p.name for p in EXAMPLES.glob('*.py')}
    assert present == set(SCRIPTS) | {'wsgi_app.py', 'gunicorn_conf.py'}


def call(base: str, method: str, path: str) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(base + path, method=method, data=b'' if method == 'POST'
                                     else None)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_wsgi_app_does_the_work_behind_concurrent_requests() -> None:
    server = subprocess.Popen([sys.executable, str(EXAMPLES / 'wsgi_app.py'), '0'],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline() if server.stdout else ''
        assert line.startswith('listening on '), line + (server.stderr.read()
                                                         if server.stderr else '')
        base = 'http://' + line.split()[-1]
        with ThreadPoolExecutor(20) as pool:
            posted = list(pool.map(lambda n: call(base, 'POST', f'/jobs?n={n}'), range(200)))
        assert all(status == 202 for status, _ in posted)
        ids = [body['id'] for _, body in posted]
        results = {}
        for job_id, n in zip(ids, range(200), strict=True):
            for _ in range(500):
                status, body = call(base, 'GET', f'/jobs/{job_id}')
                if body['status'] == 'done':
                    results[n] = body['result']
                    break
        assert results == {n: sum(range(n)) for n in range(200)}
        status, stats = call(base, 'GET', '/stats')
        assert status == 200 and stats['mode'] == 'embedded' and stats['completed'] >= 200
        # An id of this process that it does not hold is unknown; one made by
        # another process (another gunicorn worker) is misdirected, and says so.
        own_prefix = str(ids[0]).rpartition('-')[0]
        assert call(base, 'GET', f'/jobs/{own_prefix}-999999999')[0] == 404
        status, body = call(base, 'GET', '/jobs/0123456789abcdef-1')
        assert status == 421 and 'another server process' in str(body['error'])
    except OSError as exc:
        # Say whether the server died, and what it printed (a reset was seen
        # once in CI under heavy load and could not be reproduced).
        died = server.poll()  # None: still running
        server.kill()
        _, err = server.communicate(timeout=10)
        raise AssertionError(f'{exc!r}; server exit code before the kill {died}, '
                             f'stderr: {err[-3000:]}') from exc
    finally:
        server.kill()
        server.wait(10)
