"""Load test: real gunicorn (``-k gevent``, the shipped recipe) on loopback.

    python scripts/gunicorn_load.py [--requests 20000] [--concurrency 50]
                                    [--workers 2] [--preload]

Starts gunicorn with ``examples/gunicorn_conf.py`` and ``tests/gunicorn_app.py``
(each request runs a background task, an actor ask, a queue worker item or
a TT_MP task, in turn), drives the requests from keep-alive connections,
checks every answer, then SIGTERMs gunicorn. Prints requests, failures,
p50/p99 latency and the exit status. Needs the ``test`` extra.
"""

# ruff: noqa: E402  (the imports follow monkey.patch_all())
from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # before anything imports socket

import argparse
import http.client
import json
import pathlib
import signal
import socket
import subprocess
import sys
import time

import gevent
import gevent.pool

ROOT = pathlib.Path(__file__).resolve().parent.parent
KINDS = {'task': 2, 'actor': 1, 'queue': 3, 'mp': 1}  # what each route does to n


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return int(sock.getsockname()[1])


def wait_serving(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f'gunicorn exited with {server.returncode}')
        try:
            conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
            conn.request('GET', '/task/0')
            if conn.getresponse().status == 200:
                return
        except OSError:
            gevent.sleep(0.1)
    sys.exit('gunicorn did not serve within 60 s')


def client(port: int, numbers: list[int], latencies: list[float], failures: list[str]) -> None:
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
    kinds = list(KINDS)
    for n in numbers:
        kind = kinds[n % len(kinds)]
        began = time.perf_counter()
        try:
            conn.request('GET', f'/{kind}/{n}')
            response = conn.getresponse()
            body = response.read()
            latencies.append(time.perf_counter() - began)
            if response.status != 200 or json.loads(body)['value'] != KINDS[kind] * n:
                failures.append(f'{kind}/{n}: {response.status} {body[:200]!r}')
        except (OSError, http.client.HTTPException, ValueError) as exc:
            failures.append(f'{kind}/{n}: {exc!r}')
            conn.close()
            conn = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--requests', type=int, default=20_000)
    parser.add_argument('--concurrency', type=int, default=50)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--preload', action='store_true')
    args = parser.parse_args()
    port = free_port()
    command = [sys.executable, '-m', 'gunicorn', '-c', str(ROOT / 'examples' / 'gunicorn_conf.py'),
               '--bind', f'127.0.0.1:{port}', '--workers', str(args.workers),
               '--log-level', 'warning', *(['--preload'] if args.preload else []),
               'gunicorn_app:app']
    server = subprocess.Popen(command, cwd=ROOT / 'tests')
    try:
        wait_serving(port, server)
        latencies: list[float] = []
        failures: list[str] = []
        began = time.perf_counter()
        pool = gevent.pool.Pool(args.concurrency)
        for i in range(args.concurrency):
            pool.spawn(client, port, list(range(i, args.requests, args.concurrency)),
                       latencies, failures)
        pool.join()
        elapsed = time.perf_counter() - began
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(60)
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    print(f'requests {args.requests}, failures {len(failures)}, '
          f'p50 {pct(0.50):.1f} ms, p99 {pct(0.99):.1f} ms, '
          f'{args.requests / elapsed:.0f} req/s, gunicorn exit {code} '
          f'(workers {args.workers}, concurrency {args.concurrency}, '
          f'preload {args.preload})')
    for failure in failures[:10]:
        print('  failed:', failure)
    sys.exit(1 if failures or code != 0 else 0)


if __name__ == '__main__':
    main()
