"""Which uWSGI processes may start a supervisor, and which Python TT_MP spawns.

uWSGI forks without taking the GIL unless ``--py-call-uwsgi-fork-hooks``: a
supervisor thread in a process that forks that way hangs the new workers
(tests/test_uwsgi.py shows it with real uWSGI). Here uWSGI's embedded module
is stood in for by a module object with the same four names, so every kind
of process is covered in both modes, quickly. Inside uWSGI ``sys.executable``
is the uwsgi binary: spawned worker processes must run Python instead.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.spawn
import os
import pathlib
import subprocess
import sys
import types
from collections.abc import Iterator

import pytest

from gatasker import GataskerError, TaskSupervisor
from gatasker._uwsgi import python_executable


def fake_uwsgi(monkeypatch: pytest.MonkeyPatch, *, master: int, worker: int, processes: int = 2,
               **options: object) -> None:
    module = types.ModuleType('uwsgi')
    module.__dict__.update(opt=options, masterpid=lambda: master, worker_id=lambda: worker,
                           numproc=processes)
    monkeypatch.setitem(sys.modules, 'uwsgi', module)


@pytest.mark.parametrize(('master', 'worker', 'processes'), [
    (os.getpid(), 0, 2),  # the master, the app loaded in it
    (os.getpid(), 0, 1),  # the master forks even a single worker
    (0, 0, 2),  # no master: the first process forks the second worker
], ids=['master', 'master_one_worker', 'no_master_first_process'])
def test_a_process_that_forks_without_the_gil_refuses_to_start(
        monkeypatch: pytest.MonkeyPatch, master: int, worker: int, processes: int) -> None:
    fake_uwsgi(monkeypatch, master=master, worker=worker, processes=processes)
    sup = TaskSupervisor()
    with pytest.raises(GataskerError, match='--py-call-uwsgi-fork-hooks'):
        sup.start()
    assert sup.statistics().state == 'stopped'  # refused before anything changed


@pytest.mark.parametrize(('master', 'worker', 'processes', 'options'), [
    (os.getpid(), 0, 2, {'py-call-uwsgi-fork-hooks': True}),  # the GIL is taken around forks
    (1, 1, 2, {}),  # a worker (--lazy-apps, or after the fork)
    (0, 0, 1, {}),  # no master, one process: nothing forks
], ids=['master_with_fork_hooks', 'worker', 'single_process'])
def test_a_process_that_forks_safely_or_not_at_all_starts(
        monkeypatch: pytest.MonkeyPatch, master: int, worker: int, processes: int,
        options: dict[str, object]) -> None:
    fake_uwsgi(monkeypatch, master=master, worker=worker, processes=processes, **options)
    sup = TaskSupervisor()
    try:
        assert sup.start()
        assert sup.put_task(os.getpid, _pass_task_id=False).get(timeout=30) == os.getpid()
    finally:
        sup.stop()



@pytest.fixture
def in_uwsgi_binary(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> Iterator[str]:
    """Inside uWSGI: sys.executable (and so multiprocessing's) is the uwsgi binary."""
    fake_uwsgi(monkeypatch, master=1, worker=1)
    binary = str(tmp_path / 'uwsgi')
    monkeypatch.setattr(sys, 'executable', binary)
    before = multiprocessing.spawn.get_executable()
    multiprocessing.set_executable(binary)
    try:
        yield binary
    finally:
        multiprocessing.set_executable(os.fsdecode(before))


def test_worker_processes_run_python_not_the_uwsgi_binary(in_uwsgi_binary: str) -> None:
    executable = python_executable()
    assert executable != in_uwsgi_binary
    assert os.path.dirname(executable) in {os.path.join(prefix, 'bin') for prefix in (
        sys.prefix, sys.exec_prefix, sys.base_exec_prefix)}
    version = subprocess.run([executable, '-c', 'import sys; print(sys.version_info[:2])'],
                             capture_output=True, text=True, check=True, timeout=60).stdout
    assert version.strip() == str(sys.version_info[:2])  # the same Python, in this environment


def test_without_an_interpreter_in_uwsgi_the_error_says_what_to_do(
        in_uwsgi_binary: str, monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    for name in ('prefix', 'exec_prefix', 'base_exec_prefix'):
        monkeypatch.setattr(sys, name, str(tmp_path))
    with pytest.raises(GataskerError, match='set_executable'):
        python_executable()


def test_multiprocessing_set_executable_is_followed(in_uwsgi_binary: str) -> None:
    multiprocessing.set_executable('/opt/python/bin/python3')
    assert python_executable() == '/opt/python/bin/python3'


def test_outside_uwsgi_worker_processes_run_sys_executable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, 'uwsgi', raising=False)
    assert python_executable() == sys.executable
