"""Web contenders: a small ``gevent.pywsgi`` app that queues one background task
per request, driven on 127.0.0.1 by ``benchmarks.loadgen`` in another process.

The app answers at once and the task runs after the response, which is how a
web app hands work off; the contenders differ only in how the task is queued.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

CONNECTIONS = 32  # the load generator's bound on requests in flight

Metrics = dict[str, tuple[float, str]]


def _serve(n: int, submit: Callable[[Callable[[], None]], Any]) -> Metrics:
    from gevent.pywsgi import WSGIServer
    handled = [0]

    def work(**_: Any) -> None:
        handled[0] += 1

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        submit(work)
        start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '2')])
        return [b'ok']

    server = WSGIServer(('127.0.0.1', 0), app, log=None, error_log=None)
    server.start()
    try:
        load = subprocess.run(
            [sys.executable, '-m', 'benchmarks.loadgen', str(server.server_port), str(n),
             str(CONNECTIONS)], capture_output=True, text=True, check=True)
    finally:
        server.stop()
    result = json.loads(load.stdout.strip().splitlines()[-1])
    return {'web_rate': (result['rate'], 'requests/s'), 'web_p99': (result['p99'], 'ms p99')}


def web_gatasker_patched(n: int) -> Metrics:
    import gatasker
    sup = gatasker.TaskSupervisor()
    sup.start()
    put = sup.put_task
    return _serve(n, lambda work: put(work, tt=gatasker.TT_GREENLET))


def web_bare_gevent_patched(n: int) -> Metrics:
    import gevent
    return _serve(n, gevent.spawn)
