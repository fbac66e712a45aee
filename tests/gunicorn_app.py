"""A Flask app for tests/test_gunicorn.py: every request uses one gatasker feature.

It starts an actor and a queue worker at import, as the README shows: under
``--preload`` that happens in gunicorn's master, before the workers fork.
"""

from __future__ import annotations

import concurrent.futures
import os
from typing import Any

import flask

import gatasker
from gatasker import TT_MP

app = flask.Flask(__name__)


@gatasker.background_task
def double(x: int) -> tuple[int, int]:
    return 2 * x, os.getpid()


class Echo(gatasker.Actor):
    def on_receive(self, message: Any) -> tuple[Any, int]:
        return message, os.getpid()


def triple(item: tuple[int, concurrent.futures.Future[tuple[int, int]]], **_: Any) -> None:
    n, future = item
    future.set_result((3 * n, os.getpid()))


echo = Echo.spawn()
tripler = gatasker.BackgroundQueueWorker(func=triple)
tripler.start()


@app.get('/task/<int:n>')
def task(n: int) -> Any:
    value, pid = double(n).get(timeout=30)
    return {'value': value, 'pid': pid, 'worker': os.getpid()}


@app.get('/actor/<int:n>')
def actor(n: int) -> Any:
    value, pid = echo.ask(n, timeout=30)
    return {'value': value, 'pid': pid, 'worker': os.getpid()}


@app.get('/queue/<int:n>')
def queue(n: int) -> Any:
    future: concurrent.futures.Future[tuple[int, int]] = concurrent.futures.Future()
    tripler.put((n, future))
    value, pid = future.result(timeout=30)
    return {'value': value, 'pid': pid, 'worker': os.getpid()}


@app.get('/mp/<int:n>')
def mp(n: int) -> Any:
    sup = gatasker.task_supervisor
    pid = sup.put_task(os.getpid, tt=TT_MP, _pass_task_id=False).get(timeout=60)
    return {'value': n, 'pid': pid, 'worker': os.getpid(), 'mode': sup.mode}
