"""Process-tier targets written the way atasker users write them: no ``**kwargs``."""

from __future__ import annotations

import os
import time
from typing import Any

from gatasker import BackgroundIntervalWorker


def square(x: int) -> int:
    return x * x


def power(base: int, exponent: int = 2) -> int:
    return int(base ** exponent)


def task_id_of(**kwargs: Any) -> Any:
    return kwargs.get('_task_id')


def pid_of(**_: Any) -> int:
    return os.getpid()


def fail_to_start() -> None:
    raise RuntimeError('this initializer always fails')


def nap(**_: Any) -> str:
    time.sleep(0.05)  # gevent.sleep in a patched parent's forked child
    return 'slept'


def add_keyword(a: int, x: int, **_: Any) -> int:
    return a + x


class Counting(BackgroundIntervalWorker):
    """A process-tier interval worker (a ``@staticmethod run``) counting results."""

    @staticmethod
    def run(**_: Any) -> int:
        return 1

    def process_result(self, result: int) -> None:
        self.total += result
        if self.total >= self.wanted:
            self.reached.set()
