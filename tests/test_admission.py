"""Reserve accounting and strict order, checked exhaustively on small sizes."""

from __future__ import annotations

import itertools
import random

import pytest

from gatasker._admission import Admission, Limits
from gatasker._constants import PRIORITIES, TASK_CRITICAL, TASK_HIGH, TASK_LOW, TASK_NORMAL

SIZES = range(0, 3)


def expected_limit(limits: Limits, priority: int) -> float:
    if priority == TASK_CRITICAL or limits.pool_size == 0:
        return float('inf')
    extra = {TASK_LOW: 0, TASK_NORMAL: limits.reserve_normal,
             TASK_HIGH: limits.reserve_normal + limits.reserve_high}[priority]
    return limits.pool_size + extra


@pytest.mark.parametrize('pool,rn,rh', list(itertools.product(SIZES, SIZES, SIZES)))
def test_can_start_matches_the_reserve_rules(pool: int, rn: int, rh: int) -> None:
    limits = Limits(pool, rn, rh)
    admission: Admission[str] = Admission(limits)
    for running in range(0, 8):
        admission.running = running
        for priority in PRIORITIES:
            assert admission.can_start(priority) == (running < expected_limit(limits, priority))


def test_spec_example_2_1_1() -> None:
    admission: Admission[str] = Admission(Limits(2, 1, 1))
    started = []

    def put(name: str, priority: int) -> None:
        admission.push(name, priority)
        while (item := admission.pop_startable()) is not None:
            started.append(item)

    for i in range(3):
        put(f'L{i}', TASK_LOW)
    assert admission.running == 2
    for i in range(2):
        put(f'N{i}', TASK_NORMAL)
    assert admission.running == 3
    for i in range(2):
        put(f'H{i}', TASK_HIGH)
    assert admission.running == 4
    for i in range(2):
        put(f'C{i}', TASK_CRITICAL)
    assert admission.running == 6
    assert started == ['L0', 'L1', 'N0', 'H0', 'C0', 'C1']
    assert admission.queued() == {TASK_CRITICAL: 0, TASK_HIGH: 1, TASK_NORMAL: 1, TASK_LOW: 1}


def test_freed_capacity_goes_to_the_most_important_waiting_item() -> None:
    admission: Admission[str] = Admission(Limits(1, 0, 0))
    admission.push('busy', TASK_LOW)
    assert admission.pop_startable() == 'busy'
    for name, priority in (('low', TASK_LOW), ('normal', TASK_NORMAL), ('high', TASK_HIGH)):
        admission.push(name, priority)
        assert admission.pop_startable() is None
    order = []
    for _ in range(3):
        admission.finish()
        item = admission.pop_startable()
        assert item is not None
        order.append(item)
    assert order == ['high', 'normal', 'low']


def test_unlimited_pool_starts_everything_in_priority_order() -> None:
    admission: Admission[int] = Admission(Limits(0, 5, 5))
    for i, priority in enumerate([TASK_LOW, TASK_HIGH, TASK_NORMAL]):
        admission.push(i, priority)
    assert [admission.pop_startable() for _ in range(3)] == [1, 2, 0]
    assert admission.running == 3


def test_shrinking_holds_back_new_starts_but_keeps_running_ones() -> None:
    admission: Admission[int] = Admission(Limits(4, 0, 0))
    for i in range(4):
        admission.push(i, TASK_LOW)
        assert admission.pop_startable() == i
    admission.limits = Limits(1, 0, 0)
    admission.push(99, TASK_LOW)
    assert admission.running == 4
    for _ in range(3):
        admission.finish()
        assert admission.pop_startable() is None
    admission.finish()
    assert admission.pop_startable() == 99


def test_remove_and_drain() -> None:
    admission: Admission[str] = Admission(Limits(1, 0, 0))
    admission.push('a', TASK_LOW)
    admission.push('b', TASK_HIGH)
    admission.running = 1
    assert admission.remove('a', TASK_LOW)
    assert not admission.remove('a', TASK_LOW)
    assert list(admission.drain()) == ['b']
    assert admission.queued_total() == 0


def test_finish_without_running_item_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        Admission().finish()


@pytest.mark.parametrize('bad', [-1, 1.5, '3', None, True])
def test_limits_reject_bad_sizes(bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        Limits(pool_size=bad)  # type: ignore[arg-type]
    with pytest.raises((TypeError, ValueError)):
        Limits(reserve_high=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize('seed', range(40))
def test_random_operations_keep_strict_order_and_limits(seed: int) -> None:
    """A model check: random pushes/finishes never break the rules."""
    rng = random.Random(seed)
    limits = Limits(rng.randint(0, 3), rng.randint(0, 2), rng.randint(0, 2))
    admission: Admission[tuple[int, int]] = Admission(limits)
    waiting: list[tuple[int, int]] = []  # (priority, seq) in push order
    running: list[tuple[int, int]] = []
    for seq in range(300):
        if running and rng.random() < 0.45:
            running.remove(rng.choice(running))
            admission.finish()
        else:
            priority = rng.choice(PRIORITIES)
            admission.push((priority, seq), priority)
            waiting.append((priority, seq))
        while (item := admission.pop_startable()) is not None:
            # it is the oldest of the most important waiting priority ...
            best = min(waiting, key=lambda w: (PRIORITIES.index(w[0]), w[1]))
            assert item == best
            # ... and its limit allowed it.
            assert len(running) < expected_limit(limits, item[0])
            waiting.remove(item)
            running.append(item)
        # nothing that waits could have started
        for priority, _ in waiting:
            assert len(running) >= expected_limit(limits, priority) or any(
                PRIORITIES.index(p) < PRIORITIES.index(priority) for p, _ in waiting)
        assert admission.running == len(running)


def test_may_start_now_needs_room_and_nothing_as_important_waiting() -> None:
    admission: Admission[str] = Admission(Limits(pool_size=2, reserve_normal=0, reserve_high=1))
    assert admission.may_start_now(TASK_NORMAL)
    admission.start_now()
    admission.push('low', TASK_LOW)
    assert admission.may_start_now(TASK_NORMAL)  # a waiting LOW one is overtaken
    admission.push('normal', TASK_NORMAL)
    assert not admission.may_start_now(TASK_NORMAL)  # FIFO within a priority
    assert admission.may_start_now(TASK_HIGH)
    admission.start_now()
    assert not admission.may_start_now(TASK_NORMAL)  # full for NORMAL
    assert admission.may_start_now(TASK_HIGH)  # the HIGH reserve
    admission.start_now()
    assert not admission.may_start_now(TASK_HIGH)
    assert admission.may_start_now(TASK_CRITICAL)  # CRITICAL always starts
