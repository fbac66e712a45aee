"""Shared fixtures. The suite runs twice: plain, and monkey-patched (see test_patched_mode.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Iterator

import gevent.monkey
import pytest

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
