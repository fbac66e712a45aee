"""A monkey-patched gevent.pywsgi app that queues background work per request.

    python examples/wsgi_app.py [PORT]        # 0 (default) picks a free port

POST /jobs?n=N   queue a job (sum of range(N), with a little cooperative I/O)
GET  /jobs/ID    the job's status and result (421 if another process queued it)
GET  /stats      the supervisor's statistics

The supervisor runs embedded in the server's hub: greenlet tasks share it
with the requests, and none of them blocks the others.

Jobs live in this process's memory. Under several server processes (gunicorn
``-w 2``) a lookup may reach a process that did not queue the job: task ids
are unique across processes (``'<process prefix>-<n>'``), so the app tells
that case apart from an unknown or forgotten id and says so.
"""

from gevent import monkey

monkey.patch_all()

import json
import sys
from collections import OrderedDict
from urllib.parse import parse_qs

import gevent
from gevent.pywsgi import WSGIServer

import gatasker
from gatasker import TT_GREENLET, background_task

jobs: 'OrderedDict[str, gatasker.Task]' = OrderedDict()
KEEP = 10_000  # finished jobs remembered for status queries
made_here: set[str] = set()  # id prefixes of this process (a new one after a fork)


def id_prefix(task_id: str) -> str:
    return task_id.rpartition('-')[0]


@background_task(tt=TT_GREENLET)
def crunch(n: int) -> int:
    gevent.sleep(0.01)  # stands for a cooperative call: a database, an HTTP API ...
    return sum(range(n))


def reply(start_response, status, body):
    data = json.dumps(body).encode()
    start_response(status, [('Content-Type', 'application/json'),
                            ('Content-Length', str(len(data)))])
    return [data]


def app(environ, start_response):
    method, path = environ['REQUEST_METHOD'], environ['PATH_INFO']
    if method == 'POST' and path == '/jobs':
        query = parse_qs(environ.get('QUERY_STRING', ''))
        try:
            n = int(query.get('n', ['0'])[0])
        except ValueError:
            return reply(start_response, '400 Bad Request', {'error': 'n must be an int'})
        task = crunch(n)
        key = str(task.id)
        made_here.add(id_prefix(key))
        jobs[key] = task
        while len(jobs) > KEEP:
            jobs.popitem(last=False)
        return reply(start_response, '202 Accepted', {'id': key})
    if method == 'GET' and path.startswith('/jobs/'):
        key = path.rsplit('/', 1)[1]
        task = jobs.get(key)
        if task is None and id_prefix(key) not in made_here:
            return reply(start_response, '421 Misdirected Request', {
                'error': 'job queued by another server process; jobs live in the memory '
                         'of the process that queued them'})
        if task is None:
            return reply(start_response, '404 Not Found', {'error': 'unknown job'})
        status = 'done' if task.is_completed() else 'pending'
        return reply(start_response, '200 OK', {'id': str(task.id), 'status': status,
                                                'result': task.result})
    if method == 'GET' and path == '/stats':
        stats = gatasker.task_supervisor.statistics()
        tier = stats.tiers['greenlet']
        return reply(start_response, '200 OK', {'mode': stats.mode, 'running': tier.running,
                                                'completed': tier.completed})
    return reply(start_response, '404 Not Found', {'error': 'no such route'})


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    gatasker.task_supervisor.start()  # embedded: this process is monkey-patched
    server = WSGIServer(('127.0.0.1', port), app, log=None)
    server.start()
    print(f'listening on 127.0.0.1:{server.server_port}', flush=True)
    server.serve_forever()


if __name__ == '__main__':
    main()
