"""pytest support for applications that use gatasker.

Installed with gatasker and registered through the ``pytest11`` entry point,
so it is active in any test run: the ``gatasker_supervisor`` fixture and the
`run_patched()` helper.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from ._supervisor import TaskSupervisor

PATCH_PRELUDE = 'from gevent import monkey; monkey.patch_all()\n'


@pytest.fixture
def gatasker_supervisor() -> Iterator[TaskSupervisor]:
    """A fresh, started supervisor; stopped after the test.

    The test fails if it left tasks queued or running, or actors alive.
    """
    sup = TaskSupervisor(supervisor_id=f'pytest-{os.getpid()}')
    sup.start()
    try:
        yield sup
        leftovers = list(sup.get_tasks().values())
        actors = sup.get_info().actors
    finally:
        sup.stop(wait=10)
    if leftovers or actors:
        pytest.fail(f'the test left {len(leftovers)} task(s) and {len(actors)} actor(s) '
                    f'running on its supervisor: {leftovers[:5]} {actors[:5]}')


def run_patched(code: str, timeout: float = 60,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run *code* in a fresh, monkey-patched Python process and return the result.

    Monkey-patching is process-wide, so code that must run patched is best
    tested this way. Blocks until the process ends or *timeout* seconds pass
    (then ``subprocess.TimeoutExpired`` is raised).
    """
    return subprocess.run([sys.executable, '-c', PATCH_PRELUDE + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
