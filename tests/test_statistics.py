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
    timeouts = [e for e in events if isinstance(e, gatasker.TaskWaitTimeout)]
    assert [(e.task, e.level) for e in timeouts] == [(late, 'warning')]


def test_per_priority_counters_and_latency_histograms(
        supervisor: gatasker.TaskSupervisor) -> None:
    supervisor.set_thread_pool(pool_size=1, reserve_normal=0, reserve_high=0)
    rec = Recorder()
    first = supervisor.put_task(rec.run, ('first',), tt=TT_THREAD, priority=TASK_LOW)
    rec.wait_started(1)
    high = supervisor.put_task(rec.run, ('high',), tt=TT_THREAD, priority=TASK_HIGH)
    settle(supervisor)
    low = supervisor.statistics().tiers['thread'].priorities[TASK_LOW]
    assert (low.running, low.queued, low.completed) == (1, 0, 0)
    assert supervisor.statistics().tiers['thread'].priorities[TASK_HIGH].queued == 1
    rec.gate.set()
    gatasker.wait_completed([first, high], timeout=10)
    failing = supervisor.put_task(lambda **_: 1 / 0, tt=TT_GREENLET, priority=TASK_HIGH)
    failing.wait(10)
    settle(supervisor)
    thread = supervisor.statistics().tiers['thread']
    for priority in (TASK_LOW, TASK_HIGH):
        counts = thread.priorities[priority]
        assert (counts.running, counts.queued, counts.completed, counts.failed) == (0, 0, 1, 0)
        assert counts.queue_wait.count == counts.run_time.count == 1
        assert counts.queue_wait.sum >= 0 and counts.run_time.sum >= 0
    # the HIGH task waited until the LOW one ended: its wait is the other's run
    assert thread.priorities[TASK_HIGH].queue_wait.sum > 0
    greenlet = supervisor.statistics().tiers['greenlet'].priorities[TASK_HIGH]
    assert (greenlet.completed, greenlet.failed, greenlet.run_time.count) == (1, 1, 1)
    assert thread.completed == sum(p.completed for p in thread.priorities.values()) == 2


def test_histogram_snapshot_quantiles() -> None:
    from gatasker._statistics import LATENCY_BOUNDS, Histogram
    histogram = Histogram()
    assert histogram.snapshot().quantile(0.99) is None
    for value in [0.0001] * 98 + [0.3, 1000.0]:
        histogram.observe(value)
    snap = histogram.snapshot()
    assert snap.count == 100 and snap.counts[0] == 98 and snap.counts[-1] == 1
    assert snap.quantile(0.5) == LATENCY_BOUNDS[0]
    assert snap.quantile(0.99) == 0.5
    assert snap.quantile(1.0) == float('inf')
    with pytest.raises(ValueError):
        snap.quantile(1.5)


def test_actor_and_worker_statistics(supervisor: gatasker.TaskSupervisor) -> None:
    gate = gatasker._bridge.Latch()

    class Summer(gatasker.Actor):
        def on_receive(self, message: Any) -> Any:
            if message == 'wait':
                gate.wait(10)
            return 1 / message if message != 'wait' else None

    actor = Summer.spawn(name='summer', supervisor=supervisor)
    worker = gatasker.background_worker(q=True, name='doubler', supervisor=supervisor)(
        lambda item, **_: 1 / item)
    worker.start()
    try:
        assert actor.ask(2, timeout=10) == 0.5
        with pytest.raises(ZeroDivisionError):
            actor.ask(0, timeout=10)
        actor.tell('wait')
        actor.tell(4)
        actor.tell(5)
        for item in (1, 0, 2):
            worker.put(item)
        stats = {a.name: a for a in supervisor.statistics().actor_statistics}
        assert stats['summer'].kind == 'actor' and stats['doubler'].kind == 'worker'
        assert stats['summer'].mailbox >= 1  # 4 and 5 wait behind 'wait'
        gate.set()
        assert actor.ask(1, timeout=10) == 1.0
        done = gatasker._bridge.Latch()
        worker.put(None)  # fails too; then the worker's mailbox is empty
        while True:
            stats = {a.name: a for a in supervisor.statistics().actor_statistics}
            if stats['doubler'].handled == 4:
                break
            done.wait(0.01)
    finally:
        actor.stop()
        worker.stop()
    assert (stats['summer'].handled, stats['summer'].failed, stats['summer'].mailbox) == (6, 1, 0)
    assert (stats['doubler'].handled, stats['doubler'].failed) == (4, 2)
    assert all(a.name not in ('summer', 'doubler')
               for a in supervisor.statistics().actor_statistics)
