"""supervisor.statistics() snapshots and the zope.event task events."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import zope.event
from conftest import Recorder, settle

import gatasker
from gatasker import TASK_HIGH, TASK_LOW, TT_GREENLET, TT_THREAD


@pytest.fixture
def events() -> Iterator[list[Any]]:
    seen: list[Any] = []
    zope.event.subscribers.append(seen.append)
    try:
        yield seen
    finally:
        zope.event.subscribers.remove(seen.append)


def test_statistics_count_running_queued_and_ended(supervisor: gatasker.TaskSupervisor) -> None:
    supervisor.set_thread_pool(pool_size=1, reserve_normal=0, reserve_high=0)
    rec = Recorder()
    running = supervisor.put_task(rec.run, ('run',), tt=TT_THREAD)
    rec.wait_started(1)
    queued = supervisor.put_task(rec.run, ('queued',), tt=TT_THREAD, priority=TASK_HIGH)
    doomed = supervisor.put_task(rec.run, ('doomed',), tt=TT_THREAD, priority=TASK_LOW)
    settle(supervisor)
    stats = supervisor.statistics()
    thread = stats.tiers['thread']
    assert stats.id == supervisor.id and stats.state == 'running' and stats.tasks == 3
    assert thread.running == 1 and thread.pool_size == 1
    assert thread.queued[TASK_HIGH] == 1 and thread.queued[TASK_LOW] == 1
    assert doomed.cancel()
    failing = supervisor.put_task(lambda **_: 1 / 0, tt=TT_GREENLET)
    rec.gate.set()
    gatasker.wait_completed([running, queued, failing], return_exceptions=True, timeout=10)
    settle(supervisor)
    stats = supervisor.statistics()
    assert (stats.tiers['thread'].completed, stats.tiers['thread'].failed,
            stats.tiers['thread'].cancelled) == (2, 0, 1)
    assert (stats.tiers['greenlet'].completed, stats.tiers['greenlet'].failed) == (1, 1)
    assert stats.tasks == 0 and stats.tiers['thread'].running == 0


def test_task_events(supervisor: gatasker.TaskSupervisor, events: list[Any]) -> None:
    task = supervisor.put_task(lambda **_: 'x', tt=TT_GREENLET)
    task.wait(10)
    settle(supervisor)
    mine = [type(e).__name__ for e in events if e.task is task]
    assert mine == ['TaskQueued', 'TaskStarted', 'TaskCompleted']
    assert all(e.supervisor_id == supervisor.id for e in events)


def test_timeout_event_and_failing_subscriber(supervisor: gatasker.TaskSupervisor,
                                              events: list[Any]) -> None:
    def broken(event: Any) -> None:
        raise RuntimeError('subscriber bug')

    zope.event.subscribers.insert(0, broken)
    try:
        supervisor.set_thread_pool(pool_size=1, reserve_normal=0, reserve_high=0)
        supervisor.timeout_warning = 0.01
        timed_out = gatasker._bridge.Latch()
        supervisor.timeout_warning_func = lambda task: timed_out.set()
        rec = Recorder()
        first = supervisor.put_task(rec.run, (1,), tt=TT_THREAD)
        rec.wait_started(1)
        late = supervisor.put_task(rec.run, (2,), tt=TT_THREAD)
        assert timed_out.wait(10)
        rec.gate.set()
        assert gatasker.wait_completed([first, late], timeout=10) == [1, 2]
    finally:
        zope.event.subscribers.remove(broken)
    timeouts = [e for e in events if isinstance(e, gatasker.TaskTimeout)]
    assert [(e.task, e.level) for e in timeouts] == [(late, 'warning')]
