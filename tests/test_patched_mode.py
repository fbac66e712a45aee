"""Runs every test module again in a monkey-patched subprocess (embedded mode).

Monkey-patching is process-wide, so the patched run cannot share this
process. Each module gets its own subprocess, so a failure names its module.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest
from conftest import PATCHED

HERE = pathlib.Path(__file__).parent
MODULES = sorted(
    p.name for p in HERE.glob('test_*.py') if p.name != pathlib.Path(__file__).name
) + sorted(f'reliability/{p.name}' for p in (HERE / 'reliability').glob('test_*.py'))


@pytest.mark.skipif(PATCHED, reason='already running patched')
@pytest.mark.patched
@pytest.mark.timeout(900)
@pytest.mark.parametrize('module', MODULES)
def test_module_passes_monkey_patched(module: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(HERE / 'patched_runner.py'), str(HERE / module), '-q',
         '-p', 'no:cacheprovider', '--timeout=120', '--timeout-method=signal'],
        capture_output=True, text=True, timeout=880, cwd=HERE.parent,
        env={**os.environ, 'PYTHONFAULTHANDLER': '1'},
    )
    if proc.returncode == 5:  # every test in the module skipped itself or was deselected
        pytest.skip(f'{module}: nothing to run patched')
    assert proc.returncode == 0, f'{module} failed monkey-patched:\n{proc.stdout[-20000:]}\n{proc.stderr[-5000:]}'
