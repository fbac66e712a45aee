"""TierLimiter: one tier's limits (a validating setter that wakes the tier),
admission queue, counters and frozen statistics; ThreadLimits and merging."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import pytest
from conftest import Recorder

import gatasker
from gatasker import TASK_CRITICAL, TASK_HIGH, TASK_LOW, TASK_NORMAL, TT_GREENLET, TT_MP, TT_THREAD
from gatasker._admission import Limits
from gatasker._core import SupervisorCore
from gatasker._run import HubRun
from gatasker._sizes import ThreadLimits, merge_limits
from gatasker._tier_limiter import TierLimiter


def make(tt: int = TT_GREENLET, limits: Limits | None = None) -> tuple[TierLimiter, list[int]]:
    woken: list[int] = []
    return TierLimiter(tt, limits or Limits(4, 1, 1), woken.append), woken


def test_setting_limits_wakes_the_tier_after_the_change() -> None:
    seen: list[Limits] = []
    limiter = TierLimiter(TT_GREENLET, Limits(4, 1, 1), lambda tt: seen.append(limiter.limits))
    limiter.limits = Limits(2, 0, 0)
    assert limiter.limits == Limits(2, 0, 0)
    assert seen == [Limits(2, 0, 0)]  # the waker already sees the new limits


@pytest.mark.parametrize('bad', [None, (4, 1, 1), {'pool_size': 4}])
def test_a_bad_value_changes_nothing_and_wakes_nobody(bad: Any) -> None:
    limiter, woken = make()
    with pytest.raises(TypeError):
        limiter.limits = bad
    assert limiter.limits == Limits(4, 1, 1) and woken == []


def test_the_thread_tier_takes_only_thread_limits() -> None:
    limiter, woken = make(TT_THREAD, ThreadLimits.of(Limits(2, 0, 0)))
    with pytest.raises(TypeError, match='ThreadLimits'):
        limiter.limits = Limits(3, 0, 0)
    assert limiter.limits.pool_size == 2 and woken == []
    limiter.limits = ThreadLimits.of(Limits(3, 0, 0), min_size=1)
    assert woken == [TT_THREAD]


@pytest.mark.parametrize('sizes, error', [
    ({'pool_size': 3, 'reserve_high': -1}, ValueError),  # a good size and a bad one
    ({'pool_size': 3, 'poolsize': 1}, TypeError),
    ({'reserve_normal': True}, TypeError),
    ({'min_size': 1}, TypeError),  # not a greenlet-tier key
])
def test_configure_checks_every_size_before_changing_any(sizes: dict[str, Any],
                                                         error: type) -> None:
    limiter, woken = make()
    with pytest.raises(error):
        limiter.configure(sizes, 'set_greenlet_pool')
    assert limiter.limits == Limits(4, 1, 1) and woken == []


def test_configure_keeps_the_sizes_not_given() -> None:
    limiter, woken = make(TT_MP)
    limiter.configure({'reserve_high': 7}, 'set_mp_pool')
    assert limiter.limits == Limits(4, 1, 7) and woken == [TT_MP]


def test_thread_limits_max_follows_the_total_until_set() -> None:
    limits = ThreadLimits.of(Limits(15, 5, 5))
    assert (limits.min_size, limits.max_size, limits.max_follows_total) == (0, 25, True)
    limits = merge_limits(limits, {'pool_size': 5}, 'set_thread_pool')
    assert limits.max_size == 15
    limits = merge_limits(limits, {'max_size': 8, 'min_size': 'max'}, 'set_thread_pool')
    assert (limits.min_size, limits.max_size, limits.max_follows_total) == (8, 8, False)
    limits = merge_limits(limits, {'pool_size': 50}, 'set_thread_pool')
    assert (limits.pool_size, limits.min_size, limits.max_size) == (50, 8, 8)
    assert ThreadLimits.of(Limits()).max_size == (os.cpu_count() or 1) * 5  # unlimited


@pytest.mark.parametrize('min_size, max_size, error', [
    (5, 2, ValueError), (0, 0, ValueError), (-1, None, ValueError), ('all', None, TypeError),
    (0, 2.0, TypeError),
])
def test_thread_limits_reject_bad_thread_counts(min_size: Any, max_size: Any,
                                                error: type) -> None:
    with pytest.raises(error):
        ThreadLimits.of(Limits(2, 0, 0), min_size, max_size)


def test_statistics_is_a_frozen_snapshot_of_limits_queue_and_counters() -> None:
    limiter, _ = make()
    empty = limiter.statistics()
    assert (empty.name, empty.pool_size, empty.reserve_normal, empty.reserve_high) == (
        'greenlet', 4, 1, 1)
    assert (empty.running, empty.queued, empty.completed) == (0, {}, 0)
    admission = limiter.open()
    admission.start_now()
    admission.push('waiting', TASK_HIGH)  # type: ignore[arg-type]
    limiter.counters[TASK_LOW].completed += 2
    limiter.counters[TASK_LOW].failed += 1
    limiter.counters[TASK_CRITICAL].cancelled += 1
    stats = limiter.statistics()
    assert stats.running == 1
    assert stats.queued == {TASK_CRITICAL: 0, TASK_HIGH: 1, TASK_NORMAL: 0, TASK_LOW: 0}
    assert (stats.completed, stats.failed, stats.cancelled) == (2, 1, 1)
    assert stats.priorities[TASK_HIGH].queued == 1
    assert stats.priorities[TASK_LOW].completed == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        stats.running = 5  # type: ignore[misc]
    limiter.counters[TASK_LOW].completed += 1
    assert stats.completed == 2  # a snapshot: later counts do not show


def test_each_run_opens_a_new_admission_under_the_current_limits() -> None:
    limiter, _ = make()
    first = limiter.open()
    first.push('left', TASK_NORMAL)  # type: ignore[arg-type]
    limiter.limits = Limits(9, 0, 0)
    second = limiter.open()
    assert second is not first and second.queued_total() == 0
    assert second.limits == Limits(9, 0, 0) and limiter.admission is second


def test_reset_forgets_counts_in_place() -> None:
    limiter, _ = make()
    counters = limiter.counters
    limiter.open().start_now()
    counters[TASK_NORMAL].completed = 3
    limiter.reset()
    assert limiter.counters is counters  # the engine counts into this dict
    stats = limiter.statistics()
    assert (stats.running, stats.completed) == (0, 0)


def test_statistics_come_from_the_limiters(supervisor: gatasker.TaskSupervisor) -> None:
    supervisor.set_greenlet_pool(pool_size=3, reserve_normal=0, reserve_high=2)
    supervisor.put_task(lambda **_: None, tt=TT_GREENLET, priority=TASK_HIGH).wait(10)
    stats = supervisor.statistics().tiers
    assert list(stats) == ['thread', 'mp', 'greenlet']
    greenlet = stats['greenlet']
    assert (greenlet.pool_size, greenlet.reserve_normal, greenlet.reserve_high) == (3, 0, 2)
    assert greenlet.priorities[TASK_HIGH].completed == 1 and greenlet.completed >= 1
    info = supervisor.get_info()
    assert (info.greenlet_pool_size, info.greenlet_reserve_high) == (3, 2)


def test_a_stopped_supervisors_tiers_show_nothing_running_or_waiting() -> None:
    sup = gatasker.TaskSupervisor()
    sup.start()
    try:
        sup.put_task(lambda **_: None, tt=TT_GREENLET).wait(10)
        assert sup.statistics().tiers['greenlet'].queued  # per priority while running
    finally:
        sup.stop()
    stats = sup.statistics().tiers['greenlet']
    assert (stats.running, stats.queued, stats.completed) == (0, {}, 1)
    assert sup.get_info().greenlet_queued == {}


@pytest.mark.parametrize('mode', ['embedded', 'threaded'])
def test_limits_set_while_the_supervisor_starts_are_not_lost(
        monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    open_tiers = SupervisorCore.open_tiers

    def open_then_resize(core: SupervisorCore[Any], run: HubRun) -> None:
        open_tiers(core, run)  # the run's admissions hold pool_size 1 now
        core.supervisor.set_greenlet_pool(pool_size=2)  # STARTING: no run takes a wake-up

    monkeypatch.setattr(SupervisorCore, 'open_tiers', open_then_resize)
    sup = gatasker.TaskSupervisor()
    sup.set_greenlet_pool(pool_size=1, reserve_normal=0, reserve_high=0)
    sup.start(mode)
    rec = Recorder()
    try:
        tasks = [sup.put_task(rec.run, (i,), tt=TT_GREENLET, priority=TASK_LOW)
                 for i in range(2)]
        rec.wait_started(2)  # both at once: the limit is 2
        rec.gate.set()
        gatasker.wait_completed(tasks, timeout=10)
    finally:
        rec.gate.set()
        sup.stop()
