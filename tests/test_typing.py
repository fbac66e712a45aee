"""User code type-checks as intended under ``mypy --strict`` (tests/typing/user_code.py).

mypy cannot follow setuptools' editable-install hook, so the package folder
is given as ``mypy_path``; its own errors are ignored there as they would be
for an installed wheel, so only the user file's expectations count:
``assert_type`` lines, lines that must be errors (``# type: ignore[code]``
under ``warn_unused_ignores``) and ``reveal_type`` text after ``# R:``.
"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest
from conftest import PATCHED

ROOT = pathlib.Path(__file__).parent.parent
USER_CODE = ROOT / 'tests' / 'typing' / 'user_code.py'
pytestmark = [pytest.mark.skipif(PATCHED, reason='type checks run once, in the plain run'),
              pytest.mark.timeout(300)]

CONFIG = """\
[mypy]
strict = True
mypy_path = {root}

[mypy-gatasker.*]
ignore_errors = True

[mypy-gevent.*,greenlet.*,zope.*]
ignore_missing_imports = True
"""
NOTE = re.compile(r'^[^:]+:(\d+): note: Revealed type is "(.*)"$')


def expected_reveals() -> dict[int, str]:
    reveals = {}
    for number, line in enumerate(USER_CODE.read_text().splitlines(), 1):
        if 'reveal_type(' in line and '# R: ' in line:
            reveals[number] = line.split('# R: ', 1)[1].strip()
    return reveals


def normalise(revealed: str) -> str:
    return revealed.replace('builtins.', '')  # mypy versions differ in qualifying builtins


def test_user_code_under_mypy_strict(tmp_path: pathlib.Path) -> None:
    pytest.importorskip('mypy', reason='mypy is not installed (pip install -e .[test])')
    config = tmp_path / 'mypy.ini'
    config.write_text(CONFIG.format(root=ROOT))
    proc = subprocess.run(
        [sys.executable, '-m', 'mypy', '--config-file', str(config),
         '--cache-dir', str(tmp_path / 'cache'), '--no-error-summary', str(USER_CODE)],
        cwd=tmp_path, capture_output=True, text=True, timeout=280)
    lines = proc.stdout.splitlines()
    errors = [line for line in lines if ': error:' in line]
    assert not errors and proc.returncode == 0, proc.stdout + proc.stderr
    revealed = {int(m[1]): normalise(m[2]) for m in map(NOTE.match, lines) if m}
    assert revealed == {n: normalise(text) for n, text in expected_reveals().items()}
