"""The process pool's ``preload`` option: modules every worker process imports
as it starts, before it takes tasks (`gatasker._process_child.import_modules`)."""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Iterator
from typing import Any

import mp_targets
import pytest
from conftest import PATCHED

import gatasker
from gatasker import TT_MP, ProcessPool, TaskSupervisor, WorkerProcessDied

START_METHODS = ['spawn', 'fork']


@pytest.fixture
def sup() -> Iterator[TaskSupervisor]:
    """A supervisor not started yet (the test makes its pool first); stopped afterwards."""
    made = TaskSupervisor()
    yield made
    made.stop(wait=10)


@pytest.mark.parametrize('start_method', START_METHODS)
def test_the_modules_are_there_before_the_first_task(sup: TaskSupervisor,
                                                      start_method: str) -> None:
    assert 'mp_preload_target' not in sys.modules  # so a forked process has it only by preload
    sup.create_mp_pool(processes=1, start_method=start_method,
                       preload=['mp_preload_target', 'xml.dom.minidom'])
    sup.start()
    pid, loaded = sup.put_task(mp_targets.module_loaded, ('mp_preload_target',),
                               tt=TT_MP).get(timeout=60)
    assert loaded
    assert sup.put_task(mp_targets.module_loaded, ('xml.dom.minidom',),
                        tt=TT_MP).get(timeout=60) == (pid, True)


@pytest.mark.parametrize('start_method', START_METHODS)
def test_the_initializer_runs_after_the_preload(sup: TaskSupervisor, start_method: str) -> None:
    sup.create_mp_pool(processes=1, start_method=start_method, preload=['mp_preload_target'],
                       initializer=mp_targets.note_loaded,
                       initargs=('mp_preload_target', 'GATASKER_TEST_PRELOADED'))
    sup.start()
    assert sup.put_task(mp_targets.get_env, ('GATASKER_TEST_PRELOADED',),
                        tt=TT_MP).get(timeout=60) == 'True'


def test_without_preload_a_spawned_process_lacks_the_module(sup: TaskSupervisor) -> None:
    # the other side of the test above: what makes it a test of preload
    sup.create_mp_pool(processes=1, start_method='spawn')
    sup.start()
    assert sup.put_task(mp_targets.module_loaded, ('mp_preload_target',),
                        tt=TT_MP).get(timeout=60)[1] is False


def test_any_iterable_of_names_is_kept_as_a_tuple() -> None:
    pool = ProcessPool(1, preload=(name for name in ['os.path', 'mp_preload_target']))
    assert pool.preload == ('os.path', 'mp_preload_target')
    assert ProcessPool(1).preload == ()


@pytest.mark.parametrize('preload, exc', [
    ('mp_preload_target', TypeError),  # one str: an iterable of its letters
    (b'mp_preload_target', TypeError),
    (42, TypeError),
    (['os', 42], TypeError),
    ([b'os'], TypeError),
    ([''], ValueError),
    (['.relative'], ValueError),
    (['os..path'], ValueError),
    (['os path'], ValueError),
])
def test_bad_preload_is_refused_at_the_call_before_anything_changes(
        preload: Any, exc: type[Exception]) -> None:
    sup = TaskSupervisor()
    before = (sup.statistics().tiers['mp'], sup.mp_pool)
    with pytest.raises(exc, match='preload'):
        sup.create_mp_pool(processes=2, preload=preload)
    assert (sup.statistics().tiers['mp'], sup.mp_pool) == before
    with pytest.raises(exc, match='preload'):
        ProcessPool(2, preload=preload)


@pytest.mark.parametrize('start_method', START_METHODS)
@pytest.mark.parametrize('raises', ['ValueError', 'SystemExit', 'KeyboardInterrupt',
                                    'GreenletExit', 'Timeout'])
def test_a_module_that_fails_to_import_is_logged_once_and_the_processes_serve(
        sup: TaskSupervisor, start_method: str, raises: str, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('GATASKER_TEST_PRELOAD_RAISES', raises)  # read by each new process
    caplog.set_level(logging.ERROR, logger='gatasker')
    sup.create_mp_pool(processes=2, maxtasksperchild=1, start_method=start_method,
                       preload=['mp_preload_raises', 'mp_preload_target'])
    sup.start()
    # six tasks, a new process for each: none lost, none hung
    tasks = [sup.put_task(mp_targets.module_loaded, ('mp_preload_target',), tt=TT_MP)
             for _ in range(6)]
    results = gatasker.wait_completed(tasks, timeout=60)
    assert len({pid for pid, _ in results}) == 6
    assert all(loaded for _, loaded in results)  # the modules after the failing one too
    failures = [r for r in caplog.records
                if r.name == 'gatasker' and 'mp_preload_raises' in r.getMessage()]
    assert len(failures) == 1, [r.getMessage() for r in failures]
    assert failures[0].levelno == logging.ERROR
    assert raises in failures[0].getMessage()  # with the traceback from the process


def start_preloading_raises(sup: TaskSupervisor, start_method: str,
                            monkeypatch: pytest.MonkeyPatch, raises: str) -> None:
    """Start *sup* with one process that preloads mp_preload_raises, which raises *raises*."""
    monkeypatch.setenv('GATASKER_TEST_PRELOAD_RAISES', raises)  # read by each new process
    sup.create_mp_pool(processes=1, start_method=start_method, preload=['mp_preload_raises'])
    sup.start()


@pytest.mark.parametrize('start_method', START_METHODS)
def test_a_task_that_needs_the_failed_module_fails_with_the_import_error(
        sup: TaskSupervisor, start_method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    start_preloading_raises(sup, start_method, monkeypatch, 'ValueError')
    task = sup.put_task(importlib.import_module, ('mp_preload_raises',), tt=TT_MP,
                        _pass_task_id=False)
    with pytest.raises(ValueError, match='cannot be imported'):
        task.get(timeout=60)
    assert sup.put_task(mp_targets.pid, tt=TT_MP).get(timeout=60) > 0  # and it serves on


@pytest.mark.parametrize('start_method', START_METHODS)
def test_a_module_that_ends_the_process_fails_tasks_and_never_hangs(
        sup: TaskSupervisor, start_method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    start_preloading_raises(sup, start_method, monkeypatch, 'exit')
    # patched, gevent's SIGCHLD handler may reap the process first: its code is lost then
    died = r'died \(exit code (7|unknown)\)' if PATCHED else r'died \(exit code 7\)'
    for _ in range(2):
        with pytest.raises(WorkerProcessDied, match=died):
            sup.put_task(mp_targets.pid, tt=TT_MP).get(timeout=60)
