"""A task's two faces: the user's Task and the engine's TaskRun, sharing a TaskCore.

The core refers to neither face, so no reference cycle ties a task to its
record: a finished task is freed by reference counting, never left for the
cycle collector (a Task <-> record cycle would keep every task here alive).
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from conftest import echo

import gatasker
from gatasker import TT_GREENLET, TT_THREAD


@pytest.fixture
def no_cycle_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.parametrize('tt', [TT_THREAD, TT_GREENLET], ids=['thread', 'greenlet'])
@pytest.mark.usefixtures('no_cycle_collector')
def test_a_finished_task_is_freed_without_the_cycle_collector(
        supervisor: gatasker.TaskSupervisor, tt: int) -> None:
    refs = []
    for n in range(20):
        task = supervisor.put_task(echo, (n,), tt=tt, _pass_task_id=False)
        assert task.get(30) == n
        refs.append(weakref.ref(task))
        del task
    # One more task down the same path: no handler still holds the last one.
    assert supervisor.put_task(echo, (20,), tt=tt, _pass_task_id=False).get(30) == 20
    assert [ref for ref in refs if ref() is not None] == []


@pytest.mark.usefixtures('no_cycle_collector')
def test_a_canceled_task_is_freed_without_the_cycle_collector(
        supervisor: gatasker.TaskSupervisor) -> None:
    task = supervisor.put_task(echo, (1,), delay=60, _pass_task_id=False)
    assert task.cancel()
    ref = weakref.ref(task)
    del task
    assert supervisor.put_task(echo, (2,), _pass_task_id=False).get(30) == 2
    gatasker.wait_completed([supervisor.put_task(echo, (3,), _pass_task_id=False)])
    assert ref() is None
