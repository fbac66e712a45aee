"""gunicorn recipe: ``gunicorn -c examples/gunicorn_conf.py examples.wsgi_app:app``.

gunicorn's gevent worker monkey-patches itself in ``init_process()``: after
the fork and after ``post_fork``, before it loads the app (unless
``preload_app``) and before ``post_worker_init``. So the supervisor starts
in ``post_worker_init``, where it runs embedded in the worker's hub; started
in ``post_fork`` it would run threaded in a process that is patched a moment
later. Started lazily (the default supervisor starts at its first use, in a
request) it is embedded too.

With ``preload_app = True`` the master imports the app; if that starts the
supervisor (a worker or actor started at import), each forked worker starts
it afresh at its first use in the worker, with those workers and actors (see
docs/deployment.md).
"""

import os

bind = '127.0.0.1:8000'
worker_class = 'gevent'
workers = 2
graceful_timeout = 30


def post_worker_init(worker):
    import gatasker

    gatasker.task_supervisor.start()  # False if the app's import started it already


def worker_exit(server, worker):
    # The arbiter also calls this hook in the master, for a worker that was
    # already gone: only the worker itself stops its supervisor.
    if worker.pid == os.getpid():
        import gatasker

        gatasker.task_supervisor.stop(wait=graceful_timeout - 5)
