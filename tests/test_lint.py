"""The package passes ruff and mypy --strict (run once, in the plain run)."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

import pytest
from conftest import PATCHED

ROOT = pathlib.Path(__file__).parent.parent
pytestmark = [pytest.mark.skipif(PATCHED, reason='lint runs once, in the plain run'),
              pytest.mark.timeout(300)]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=280)


def test_ruff() -> None:
    if shutil.which('ruff') is None and not (pathlib.Path(sys.executable).parent / 'ruff').exists():
        pytest.skip('ruff is not installed (pip install -e .[test])')
    ruff = shutil.which('ruff') or str(pathlib.Path(sys.executable).parent / 'ruff')
    proc = run(ruff, 'check', 'gatasker', 'tests', 'benchmarks', 'scripts')
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict() -> None:
    pytest.importorskip('mypy', reason='mypy is not installed (pip install -e .[test])')
    proc = run(sys.executable, '-m', 'mypy', '--strict', 'gatasker')
    assert proc.returncode == 0, proc.stdout + proc.stderr
