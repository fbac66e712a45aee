"""Which uWSGI processes may start a supervisor (no uWSGI needed).

uWSGI forks without taking the GIL unless ``--py-call-uwsgi-fork-hooks``: a
supervisor thread in a process that forks that way hangs the new workers
(tests/test_uwsgi.py shows it with real uWSGI). Here uWSGI's embedded module
is stood in for by a module object with the same four names, so every kind
of process is covered in both modes, quickly.
"""

from __future__ import annotations

import os
import sys
import types

import pytest

from gatasker import GataskerError, TaskSupervisor


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

