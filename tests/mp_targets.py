"""Targets for process-tier tests: module-level, so worker processes can import them."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from typing import Any

from gatasker import BackgroundQueueWorker
from gatasker._bridge import Latch


def add(a: int, b: int, **kwargs: Any) -> tuple[int, Any]:
    return a + b, kwargs.get('_task_id')


def fail(message: str, **_: Any) -> None:
    raise ValueError(message)


def exit_now(code: int, **_: Any) -> None:
    os._exit(code)


def size(data: bytes, **_: Any) -> int:
    return len(data)


def blob(n: int, **_: Any) -> bytes:
    return b'r' * n


def pid(**_: Any) -> int:
    return os.getpid()


def stamp(tag: Any, **_: Any) -> tuple[Any, int]:
    """The tag and when it ran (CLOCK_MONOTONIC is system-wide on Linux)."""
    return tag, time.monotonic_ns()


def unpicklable_result(**_: Any) -> Any:
    return threading.Lock()


def set_env(name: str, value: str) -> None:
    os.environ[name] = value


def get_env(name: str, **_: Any) -> str | None:
    return os.environ.get(name)


def spin(n: int, **_: Any) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def gated(port: int, tag: Any, **_: Any) -> Any:
    """Tell the test at *port* that we run (and our pid), then wait for its go."""
    with socket.create_connection(('127.0.0.1', port), timeout=60) as conn:
        conn.sendall(f'{tag} {os.getpid()}\n'.encode())
        conn.recv(1)
    return tag


def module_loaded(name: str, **_: Any) -> tuple[int, bool]:
    """This process's id, and whether module *name* was imported here before."""
    return os.getpid(), name in sys.modules


def note_loaded(name: str, variable: str) -> None:
    """A pool initializer: set environment *variable* to whether module *name* is here."""
    os.environ[variable] = str(name in sys.modules)


class SquareWorker(BackgroundQueueWorker):
    """A queue worker whose executor runs in worker processes."""

    def __init__(self, *args: Any, expected: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.results: list[Any] = []
        self.expected = expected
        self.all_done = Latch()

    @staticmethod
    def run(item: int, *args: Any, **kwargs: Any) -> Any:
        return item * item, os.getpid(), sorted(kwargs)

    def process_result(self, result: Any) -> Any:
        self.results.append(result)
        if len(self.results) >= self.expected:
            self.all_done.set()
        return None


def hang_up_and_stay(**_: Any) -> None:
    """Close this worker's end of its socket (the parent sees the stream end), then stay."""
    import stat
    for name in os.listdir('/proc/self/fd'):
        try:
            if stat.S_ISSOCK(os.fstat(int(name)).st_mode):
                os.close(int(name))
        except OSError:
            pass
    time.sleep(600)


def raise_kind(kind: str, **_: Any) -> None:
    """Raise the exception *kind* names (see tests/reliability/test_base_exceptions.py)."""
    import gevent
    from greenlet import GreenletExit
    kinds: dict[str, Any] = {
        'Exception': lambda: ValueError('boom'), 'SystemExit': lambda: SystemExit(3),
        'KeyboardInterrupt': KeyboardInterrupt, 'GreenletExit': GreenletExit,
        'Timeout': gevent.Timeout,
    }
    raise kinds[kind]()
