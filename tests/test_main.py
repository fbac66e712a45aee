"""``python -m gatasker``: the demo by default, sub-commands, --help and --version."""

from __future__ import annotations

import subprocess
import sys

import pytest

import gatasker


def run_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, '-m', 'gatasker', *argv], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize('argv, mode', [
    ((), 'threaded'), (('--patched',), 'embedded'), (('demo',), 'threaded'),
    (('demo', '--patched'), 'embedded')])
def test_the_demo_is_the_default(argv: tuple[str, ...], mode: str) -> None:
    result = run_cli(*argv)
    assert result.returncode == 0, result.stderr
    assert f"supervisor 'demo' in {mode} mode" in result.stdout
    assert result.stdout.rstrip().endswith('supervisor stopped; nothing left running.')
    assert result.stderr == ''


def test_help_and_version() -> None:
    result = run_cli('--help')
    assert result.returncode == 0
    assert 'inspect' in result.stdout and 'demo' in result.stdout
    result = run_cli('--version')
    assert result.returncode == 0 and result.stdout.strip() == f'gatasker {gatasker.__version__}'
    result = run_cli('inspect', '--help')
    assert result.returncode == 0 and 'serve_inspect' in result.stdout


@pytest.mark.parametrize('argv, complaint', [
    (('inspect', '127.0.0.1:1', '--interval', '0'), '--interval'),
    (('inspect', '127.0.0.1:1', '--count', '0'), '--count'),
    (('inspect',), 'address'), (('nosuchcommand',), 'invalid choice')])
def test_bad_command_lines(argv: tuple[str, ...], complaint: str) -> None:
    result = run_cli(*argv)
    assert result.returncode == 2 and complaint in result.stderr and result.stdout == ''
