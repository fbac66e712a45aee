"""gunicorn recipe: ``gunicorn -c examples/gunicorn_conf.py examples.wsgi_app:app``.

gunicorn's gevent worker monkey-patches each worker process before loading the
app, so gatasker runs embedded in that worker's hub. Start the default
supervisor per worker after the fork, never in the master.
"""

bind = '127.0.0.1:8000'
worker_class = 'gevent'
workers = 2


def post_fork(server, worker):
    import gatasker

    gatasker.task_supervisor.start()


def worker_exit(server, worker):
    import gatasker

    gatasker.task_supervisor.stop(wait=10)
