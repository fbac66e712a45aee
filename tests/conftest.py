"""Shared fixtures. The suite runs twice: plain, and monkey-patched (see test_patched_mode.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import gevent
import gevent.monkey
import pytest
from greenlet import GreenletExit

import gatasker

PATCHED = bool(gevent.monkey.is_module_patched('threading'))
MODE = 'embedded' if PATCHED else 'threaded'


def pytest_report_header(config: pytest.Config) -> str:
    return f'gatasker runtime mode: {MODE} (monkey-patched: {PATCHED})'


@pytest.fixture
def supervisor() -> Iterator[gatasker.TaskSupervisor]:
    """A fresh supervisor in the process's default mode, stopped afterwards."""
    sup = gatasker.TaskSupervisor(supervisor_id=f'test{os.getpid()}')
    assert sup.start()
    try:
        yield sup
    finally:
        sup.stop(wait=5)
        assert not sup.is_started()


def run_python(code: str, *, patched: bool = False, timeout: float = 60,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run *code* in a fresh interpreter (monkey-patched first if *patched*)."""
    prelude = 'from gevent import monkey; monkey.patch_all()\n' if patched else ''
    return subprocess.run(
        [sys.executable, '-c', prelude + textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )


from gatasker._bridge import Latch, allocate_lock, start_real_thread  # noqa: E402


def settle(sup: gatasker.TaskSupervisor, timeout: float = 10) -> None:
    """Return once the supervisor handled every message posted before this call."""
    latch = Latch()
    run = sup._core.life.run
    assert run is not None
    sup._core.post(run, latch.set)
    assert latch.wait(timeout), 'supervisor did not answer'


class Recorder:
    """Thread- and greenlet-safe record of which task started, with a gate to hold them."""

    def __init__(self) -> None:
        self.gate = Latch()
        self.started: list[object] = []
        self._lock = allocate_lock()
        self._waiters: list[tuple[int, Latch]] = []

    def run(self, tag: object, *_: object, **__: object) -> object:
        with self._lock:
            self.started.append(tag)
            for count, latch in self._waiters:
                if len(self.started) >= count:
                    latch.set()
        assert self.gate.wait(60), 'gate never opened'
        return tag

    def wait_started(self, count: int, timeout: float = 20) -> None:
        latch = Latch()
        with self._lock:
            if len(self.started) >= count:
                return
            self._waiters.append((count, latch))
        assert latch.wait(timeout), f'only {len(self.started)} of {count} tasks started'


R = TypeVar('R')


def call_from(where: str, func: Callable[[], R]) -> R:
    """Run *func* in a new greenlet of this hub, or in a new plain OS thread; return its result."""
    if where == 'greenlet':
        return gevent.spawn(func).get(timeout=30)
    done = Latch()
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append((True, func()))
        except BaseException as exc:  # handed back to the test
            outcome.append((False, exc))
        finally:
            done.set()

    start_real_thread(run, 'futures-test')
    assert done.wait(30), 'the thread did not finish'
    ok, value = outcome[0]
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


#: What every user boundary is tested with: an Exception and the BaseExceptions.
BASE_EXCEPTIONS = [ValueError('plain'), SystemExit(3), KeyboardInterrupt(),
                   GreenletExit(), gevent.Timeout()]


def echo(value: Any, gate: Latch | None = None) -> Any:
    """Return *value*, once *gate* (if any) is open."""
    if gate is not None:
        assert gate.wait(30), 'gate never opened'
    return value


def boom(exc: BaseException) -> None:
    raise exc
