"""Task policies: run-time limits per tier, cancelling running tasks, retries, rate limits.

No test measures a duration: limits are tiny and the targets block on
latches that only the test opens, so the limit is what ends them.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import gevent
import pytest
import zope.event
from policy_targets import add, sleep_and_clean_up, sleep_long

import gatasker
from gatasker import (
    TASK_CRITICAL,
    TT_COROUTINE,
    TT_GREENLET,
    TT_MP,
    TT_THREAD,
    TaskCancelled,
    TaskSupervisor,
    TaskTimeout,
)
from gatasker._bridge import Latch, allocate_lock
from gatasker._policies import TaskPolicy, TokenBucket, eta_delay, parse_rate

LIMIT = 0.05  # seconds: the targets block until the limit (or the test) ends them


class Events:
    """Collects task events of one supervisor."""

    def __init__(self, supervisor_id: Any) -> None:
        self.supervisor_id = supervisor_id
        self.items: list[Any] = []
        self._lock = allocate_lock()

    def __call__(self, event: Any) -> None:
        if getattr(event, 'supervisor_id', None) == self.supervisor_id:
            with self._lock:
                self.items.append(event)

    def of(self, kind: type) -> list[Any]:
        with self._lock:
            return [e for e in self.items if isinstance(e, kind)]


@pytest.fixture
def events(supervisor: TaskSupervisor) -> Iterator[Events]:
    collector = Events(supervisor.id)
    zope.event.subscribers.append(collector)
    try:
        yield collector
    finally:
        zope.event.subscribers.remove(collector)


def running(sup: TaskSupervisor, tt: int) -> int:
    return sup.statistics().tiers[gatasker._constants.TIER_NAMES[tt]].running


def ended_once(events: Events, task: gatasker.Task[Any]) -> bool:
    return [e.task for e in events.of(gatasker.TaskCompleted)].count(task) == 1


# -- pure parts --------------------------------------------------------------------------


def test_parse_rate() -> None:
    assert parse_rate('100/s') == (100.0, 1.0)
    assert parse_rate('10/m') == (10.0, 60.0)
    assert parse_rate('5/10s') == (5.0, 10.0)
    assert parse_rate(' 1 / h ') == (1.0, 3600.0)
    for bad in ('', '10', '10/x', '0/s', '-1/s', 'a/s'):
        with pytest.raises(ValueError):
            parse_rate(bad)
    with pytest.raises(TypeError):
        parse_rate(10)  # type: ignore[arg-type]


def test_token_bucket_reserves_in_order_with_a_fake_clock() -> None:
    now = [0.0]
    bucket = TokenBucket(2, 1.0, clock=lambda: now[0])
    assert [bucket.reserve() for _ in range(2)] == [0.0, 0.0]  # the burst
    assert bucket.reserve() == pytest.approx(0.5)  # the next token, reserved
    assert bucket.reserve() == pytest.approx(1.0)  # the one after it
    now[0] = 10.0  # refilled, never beyond the burst
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, pytest.approx(0.5)]


def test_backoff_grows_caps_and_jitters() -> None:
    policy = TaskPolicy(retries=10, retry_backoff=(0.5, 4.0))
    assert policy.backoff(1, rand=lambda: 1.0) == 0.5
    assert policy.backoff(2, rand=lambda: 1.0) == 1.0
    assert policy.backoff(5, rand=lambda: 1.0) == 4.0  # capped
    assert policy.backoff(5, rand=lambda: 0.0) == 2.0  # jitter: half to all of it
    assert policy.should_retry(1, ValueError())
    assert not policy.should_retry(11, ValueError())
    assert not policy.should_retry(1, SystemExit())  # retry_on defaults to Exception
    assert TaskPolicy(retries=1, retry_on=(KeyError,)).should_retry(1, KeyError())
    assert not TaskPolicy(retries=1, retry_on=(KeyError,)).should_retry(1, ValueError())


def test_eta_delay() -> None:
    assert eta_delay(datetime.now(timezone.utc) - timedelta(seconds=5), None) == 0.0
    assert 50 < eta_delay(datetime.now(timezone.utc) + timedelta(seconds=60), None) <= 60
    assert 50 < eta_delay(datetime.now() + timedelta(seconds=60), None) <= 60  # naive: local
    with pytest.raises(TypeError):
        eta_delay('tomorrow', None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        eta_delay(datetime.now(), 5.0)


@pytest.mark.parametrize('kwargs, error', [
    ({'timeout': 0}, ValueError), ({'timeout': -1}, ValueError),
    ({'timeout': float('inf')}, ValueError), ({'timeout': '1'}, TypeError),
    ({'soft_timeout': True}, TypeError), ({'retries': -1}, ValueError),
    ({'retries': 1.5}, TypeError), ({'retry_backoff': (2, 1)}, ValueError),
    ({'retry_backoff': 1}, TypeError), ({'retry_on': (1,)}, TypeError),
    ({'eta': 'now'}, TypeError), ({'eta': datetime.now(), 'delay': 1}, ValueError),
])
def test_bad_policy_arguments_raise_before_anything_is_queued(
        supervisor: TaskSupervisor, kwargs: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        supervisor.put_task(add, (1, 2), tt=TT_GREENLET, **kwargs)
    assert supervisor.get_tasks() == {}
    with pytest.raises(error if 'eta' not in kwargs else TypeError):
        gatasker.background_task(add, **kwargs)


def test_bad_rate_raises_at_decoration() -> None:
    with pytest.raises(ValueError):
        gatasker.background_task(add, rate='fast')


# -- run-time limits, per tier -------------------------------------------------------------


@pytest.mark.parametrize('tt', [TT_GREENLET, TT_THREAD])
def test_hard_limit_ends_a_blocked_task_with_task_timeout(
        supervisor: TaskSupervisor, events: Events, tt: int) -> None:
    # one slot: the next task starts only once the stuck run really ended
    supervisor.set_thread_pool(pool_size=1, reserve_normal=0, reserve_high=0)
    supervisor.set_greenlet_pool(pool_size=1, reserve_normal=0, reserve_high=0)
    gate = Latch()
    task = supervisor.put_task(gate.wait, tt=tt, timeout=LIMIT, _pass_task_id=False)
    assert task.wait(30)
    assert task.is_completed()
    assert isinstance(task.exception, TaskTimeout)
    assert isinstance(task.exception, TimeoutError)
    with pytest.raises(TaskTimeout):
        task.get(0)
    gate.set()  # a thread ends only now; its late end changes nothing
    assert supervisor.put_task(add, (1, 2), tt=tt).get(30) == 3
    gatasker_settle(supervisor)
    assert isinstance(task.exception, TaskTimeout)
    assert ended_once(events, task)
    assert running(supervisor, tt) == 0


def gatasker_settle(sup: TaskSupervisor) -> None:
    from conftest import settle
    settle(sup)


def test_thread_slot_is_held_until_the_thread_really_ends(supervisor: TaskSupervisor) -> None:
    supervisor.set_thread_pool(pool_size=1, reserve_normal=0, reserve_high=0)
    gate = Latch()
    stuck = supervisor.put_task(gate.wait, tt=TT_THREAD, timeout=LIMIT, _pass_task_id=False)
    assert stuck.wait(30) and isinstance(stuck.exception, TaskTimeout)
    waiting = supervisor.put_task(add, (1, 2), tt=TT_THREAD)
    gatasker_settle(supervisor)
    assert running(supervisor, TT_THREAD) == 1  # the thread still runs the stuck code
    assert not waiting.done()
    gate.set()
    assert waiting.get(30) == 3


def test_hard_limit_of_a_greenlet_that_swallows_the_timeout(
        supervisor: TaskSupervisor, events: Events) -> None:
    gate = Latch()
    seen: list[BaseException] = []

    def stubborn() -> str:
        while not gate.is_set():
            try:
                gate.wait()
            except TaskTimeout as exc:
                seen.append(exc)
        return 'late'

    task = supervisor.put_task(stubborn, tt=TT_GREENLET, timeout=LIMIT, _pass_task_id=False)
    assert task.wait(30)
    assert isinstance(task.exception, TaskTimeout)
    assert seen and seen[0] is task.exception  # raised in its greenlet
    assert running(supervisor, TT_GREENLET) == 1  # it still runs: the slot stays taken
    gate.set()
    supervisor.put_task(add, (1, 2), tt=TT_GREENLET).get(30)
    gatasker_settle(supervisor)
    assert running(supervisor, TT_GREENLET) == 0
    assert task.result is None and ended_once(events, task)


def test_soft_limit_in_a_greenlet_can_be_handled(supervisor: TaskSupervisor) -> None:
    def cleans_up() -> str:
        try:
            Latch().wait()
        except TaskTimeout:
            return 'cleaned up'
        return 'never'

    task = supervisor.put_task(cleans_up, tt=TT_GREENLET, soft_timeout=LIMIT,
                               _pass_task_id=False)
    assert task.get(30) == 'cleaned up'
    plain = supervisor.put_task(Latch().wait, tt=TT_GREENLET, soft_timeout=LIMIT,
                                _pass_task_id=False)
    assert plain.wait(30) and isinstance(plain.exception, TaskTimeout)


def test_soft_limit_in_a_thread_is_seen_at_a_checkpoint(supervisor: TaskSupervisor) -> None:
    never = Latch()

    ran: list[bool] = []

    def cooperates() -> str:
        ran.append(True)
        while True:
            try:
                gatasker.checkpoint()
            except TaskTimeout:
                return 'cleaned up'
            never.wait(0.01)

    # Under load the limit can pass before a pool thread calls the target: the
    # task then ends with the TaskTimeout without running it. Try until it ran.
    for _ in range(20):
        task = supervisor.put_task(cooperates, tt=TT_THREAD, soft_timeout=LIMIT,
                                   _pass_task_id=False)
        try:
            result = task.get(30)
        except TaskTimeout:
            assert not ran, 'a target that ran ended with TaskTimeout, not at its checkpoint'
            continue
        assert result == 'cleaned up'
        break
    else:
        pytest.fail('the target never started within its soft limit in 20 tries')


def test_current_task_and_checkpoint_outside_a_task() -> None:
    assert gatasker.current_task() is None
    gatasker.checkpoint()  # nothing to stop


def test_current_task_in_a_task(supervisor: TaskSupervisor) -> None:
    for tt in (TT_GREENLET, TT_THREAD):
        task = supervisor.put_task(gatasker.current_task, tt=tt, _pass_task_id=False)
        assert task.get(30) is task


@pytest.fixture
def mp_supervisor(supervisor: TaskSupervisor) -> TaskSupervisor:
    supervisor.create_mp_pool(processes=1)
    assert supervisor.put_task(add, (1, 1), tt=TT_MP).get(60) == 2  # the process is up
    return supervisor


def test_process_hard_limit_kills_and_replaces_the_worker(
        mp_supervisor: TaskSupervisor, events: Events) -> None:
    pids = mp_supervisor.mp_pool.pids
    task = mp_supervisor.put_task(sleep_long, tt=TT_MP, timeout=LIMIT)
    assert task.wait(60)
    assert isinstance(task.exception, TaskTimeout)
    assert mp_supervisor.put_task(add, (2, 3), tt=TT_MP).get(60) == 5
    assert mp_supervisor.mp_pool.pids != pids  # a new process
    assert ended_once(events, task)


def test_process_soft_limit_raises_inside_the_child(mp_supervisor: TaskSupervisor) -> None:
    task = mp_supervisor.put_task(sleep_and_clean_up, tt=TT_MP, soft_timeout=LIMIT)
    assert task.get(60) == 'cleaned up'
    plain = mp_supervisor.put_task(sleep_long, tt=TT_MP, soft_timeout=LIMIT)
    assert plain.wait(60) and isinstance(plain.exception, TaskTimeout)
    assert isinstance(plain.exception.__cause__, TimeoutError)  # the child's own


@pytest.fixture
def aloop(supervisor: TaskSupervisor) -> Any:
    return supervisor.create_aloop('policies', default=True)


async def wait_forever() -> str:
    await asyncio.Event().wait()
    return 'never'


async def clean_up_on_cancel() -> str:
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        return 'cleaned up'
    return 'never'


def test_coroutine_limits_cancel_the_asyncio_task(
        supervisor: TaskSupervisor, aloop: Any, events: Events) -> None:
    hard = supervisor.put_task(wait_forever, tt=TT_COROUTINE, timeout=LIMIT,
                               _pass_task_id=False)
    assert hard.wait(30) and isinstance(hard.exception, TaskTimeout)
    soft = supervisor.put_task(clean_up_on_cancel, tt=TT_COROUTINE, soft_timeout=LIMIT,
                               _pass_task_id=False)
    assert soft.get(30) == 'cleaned up'
    gatasker_settle(supervisor)
    assert ended_once(events, hard) and ended_once(events, soft)


def test_background_task_takes_limits(supervisor: TaskSupervisor) -> None:
    blocked = gatasker.background_task(Latch().wait, tt=TT_GREENLET, timeout=LIMIT,
                                       supervisor=supervisor)
    task = blocked()
    assert task.wait(30) and isinstance(task.exception, TaskTimeout)


# -- cancelling running tasks ------------------------------------------------------------


def started(task: gatasker.Task[Any], flag: Latch) -> None:
    assert flag.wait(30)
    assert task.running()


def test_cancel_a_running_greenlet_task(supervisor: TaskSupervisor, events: Events) -> None:
    began, gate = Latch(), Latch()

    def target() -> None:
        began.set()
        gate.wait()

    task = supervisor.put_task(target, tt=TT_GREENLET, _pass_task_id=False)
    started(task, began)
    assert task.cancel() is True
    assert task.wait(30)
    assert task.status == gatasker.TASK_STATUS_CANCELED and task.cancelled()
    with pytest.raises(TaskCancelled):
        task.get(0)
    gatasker_settle(supervisor)
    assert running(supervisor, TT_GREENLET) == 0 and ended_once(events, task)
    assert task.cancel() is True  # idempotent


def test_cancel_a_running_thread_task_needs_its_cooperation(
        supervisor: TaskSupervisor, events: Events) -> None:
    began, gate = Latch(), Latch()
    plain = supervisor.put_task(lambda: (began.set(), gate.wait()), tt=TT_THREAD,
                                _pass_task_id=False)
    started(plain, began)
    assert plain.cancel() is False  # a thread cannot be stopped from outside
    gate.set()
    assert plain.wait(30) and plain.is_completed()

    began2 = Latch()

    def cooperates() -> None:
        began2.set()
        while True:
            gatasker.checkpoint()
            Latch().wait(0.01)

    task = supervisor.put_task(cooperates, tt=TT_THREAD, _pass_task_id=False)
    started(task, began2)
    assert task.cancel() is True
    assert task.wait(30) and task.cancelled()
    gatasker_settle(supervisor)
    assert ended_once(events, task) and running(supervisor, TT_THREAD) == 0


def test_cancel_a_running_process_task(mp_supervisor: TaskSupervisor) -> None:
    task = mp_supervisor.put_task(sleep_long, tt=TT_MP)
    assert task.running()  or task.wait(0) is False
    gatasker_settle(mp_supervisor)
    assert task.cancel() is True
    assert task.wait(60) and task.cancelled()
    assert mp_supervisor.put_task(add, (2, 3), tt=TT_MP).get(60) == 5


def test_cancel_a_running_coroutine_task(supervisor: TaskSupervisor, aloop: Any) -> None:
    task = supervisor.put_task(wait_forever, tt=TT_COROUTINE, _pass_task_id=False)
    gatasker_settle(supervisor)
    assert task.running()
    assert task.cancel() is True
    assert task.wait(30) and task.cancelled()


def test_a_completed_task_cannot_be_canceled(supervisor: TaskSupervisor) -> None:
    task = supervisor.put_task(add, (1, 2), tt=TT_GREENLET)
    assert task.get(30) == 3
    assert task.cancel() is False and task.is_completed()


# -- retries -------------------------------------------------------------------------------


def test_retry_storm_each_runs_exactly_three_times(
        supervisor: TaskSupervisor, events: Events) -> None:
    pool = 20
    supervisor.set_greenlet_pool(pool_size=pool, reserve_normal=0, reserve_high=0)
    runs: dict[int, int] = {}
    now_running = [0]
    most = [0]

    def flaky(n: int) -> int:
        now_running[0] += 1
        most[0] = max(most[0], now_running[0])
        try:
            gevent.sleep(0)  # let others start: the pool limit must hold
            runs[n] = runs.get(n, 0) + 1
            if runs[n] < 3:
                raise ConnectionError(f'try {runs[n]}')
            return n
        finally:
            now_running[0] -= 1

    tasks = [supervisor.put_task(flaky, (n,), tt=TT_GREENLET, retries=2,
                                 retry_backoff=(0.001, 0.01), _pass_task_id=False)
             for n in range(1000)]
    assert gatasker.wait_completed(tasks, timeout=120) == list(range(1000))
    gatasker_settle(supervisor)
    assert runs == {n: 3 for n in range(1000)}
    assert all(task.attempts == 3 for task in tasks)
    assert most[0] <= pool
    completed = [e.task for e in events.of(gatasker.TaskCompleted)]
    assert len(completed) == 1000 and len(set(map(id, completed))) == 1000
    assert len(events.of(gatasker.TaskRetrying)) == 2000


def test_retries_give_up_with_the_last_exception(supervisor: TaskSupervisor) -> None:
    calls = []

    def always_fails() -> None:
        calls.append(1)
        raise KeyError(len(calls))

    task = supervisor.put_task(always_fails, tt=TT_THREAD, retries=2, retry_backoff=(0, 0),
                               _pass_task_id=False)
    assert task.wait(30)
    assert isinstance(task.exception, KeyError) and task.exception.args == (3,)
    assert task.attempts == 3 and len(calls) == 3


@pytest.mark.parametrize('exc', [SystemExit, KeyboardInterrupt, gevent.GreenletExit,
                                 gevent.Timeout, ValueError])
def test_retry_on_filters(supervisor: TaskSupervisor, exc: type[BaseException]) -> None:
    calls = []

    def fails() -> None:
        calls.append(1)
        raise exc()

    task = supervisor.put_task(fails, tt=TT_GREENLET, retries=3, retry_backoff=(0, 0),
                               retry_on=(KeyError,), _pass_task_id=False)
    assert task.wait(30) and isinstance(task.exception, exc)
    assert len(calls) == 1  # not in retry_on: no retry


def test_a_timeout_counts_as_a_failure_for_retries(supervisor: TaskSupervisor) -> None:
    attempts = []

    def slow_then_fast() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            Latch().wait()
        return 'fast'

    task = supervisor.put_task(slow_then_fast, tt=TT_GREENLET, timeout=LIMIT, retries=1,
                               retry_backoff=(0, 0), _pass_task_id=False)
    assert task.get(30) == 'fast' and task.attempts == 2


def test_cancel_while_waiting_to_retry(supervisor: TaskSupervisor) -> None:
    failed = Latch()

    def fails() -> None:
        failed.set()
        raise ValueError('again')

    task = supervisor.put_task(fails, tt=TT_GREENLET, retries=5, retry_backoff=(60, 60),
                               _pass_task_id=False)
    assert failed.wait(30)
    gatasker_settle(supervisor)
    assert task.status == gatasker.TASK_STATUS_DELAYED
    assert isinstance(task.exception, ValueError)  # the last failure, kept
    assert task.cancel() is True and task.wait(30) and task.cancelled()


# -- rate limits ---------------------------------------------------------------------------


def test_rate_limit_counted_in_events(supervisor: TaskSupervisor, events: Events) -> None:
    policy = TaskPolicy(rate='200/s')
    policy.bucket = TokenBucket(200, 1.0, clock=lambda: 0.0)  # no refill while queueing
    tasks = [supervisor.put_task(add, (n, 0), tt=TT_GREENLET, _policy=policy)
             for n in range(220)]
    assert gatasker.wait_completed(tasks, timeout=60) == list(range(220))
    rated = events.of(gatasker.TaskRateLimited)
    # The burst goes through; every later task waits once, for its reserved token.
    assert [e.task for e in rated] == tasks[200:]
    assert [e.wait for e in rated] == sorted(e.wait for e in rated)
    starts = [e.task for e in events.of(gatasker.TaskStarted)]
    assert [starts.index(t) for t in tasks] == sorted(starts.index(t) for t in tasks)


def test_critical_ignores_the_rate_limit(supervisor: TaskSupervisor, events: Events) -> None:
    limited = gatasker.background_task(add, tt=TT_GREENLET, rate='1/h', supervisor=supervisor,
                                       priority=TASK_CRITICAL)
    assert gatasker.wait_completed([limited(n, 1) for n in range(10)], timeout=30) == \
        list(range(1, 11))
    assert events.of(gatasker.TaskRateLimited) == []


def test_a_rate_limited_task_holds_no_slot_and_can_be_canceled(
        supervisor: TaskSupervisor, events: Events) -> None:
    limited = gatasker.background_task(add, tt=TT_GREENLET, rate='1/h', supervisor=supervisor)
    first = limited(1, 1)
    assert first.get(30) == 2
    second = limited(2, 2)
    gatasker_settle(supervisor)
    assert second.status == gatasker.TASK_STATUS_DELAYED
    assert running(supervisor, TT_GREENLET) == 0
    assert second.cancel() and second.wait(30) and second.cancelled()


# -- eta -----------------------------------------------------------------------------------


def test_eta_in_the_past_runs_now_and_in_the_future_waits(supervisor: TaskSupervisor) -> None:
    past = supervisor.put_task(add, (1, 2), tt=TT_GREENLET,
                               eta=datetime.now(timezone.utc) - timedelta(hours=1))
    assert past.get(30) == 3
    later = supervisor.put_task(add, (1, 2), tt=TT_GREENLET,
                                eta=datetime.now(timezone.utc) + timedelta(hours=1))
    gatasker_settle(supervisor)
    assert later.status == gatasker.TASK_STATUS_DELAYED
    assert later.cancel()


def test_jitter_is_random() -> None:
    policy = TaskPolicy(retries=1, retry_backoff=(1, 1))
    rng = random.Random(1)
    assert len({policy.backoff(1, rand=rng.random) for _ in range(5)}) == 5


def test_stop_with_cancel_tasks_stops_running_greenlet_tasks() -> None:
    sup = TaskSupervisor(supervisor_id='policies-stop')
    sup.start()
    began = Latch()

    def blocked() -> None:
        began.set()
        Latch().wait()

    task = sup.put_task(blocked, tt=TT_GREENLET, _pass_task_id=False)
    assert began.wait(30)
    assert sup.stop(cancel_tasks=True)
    assert task.wait(30) and task.cancelled()


def test_a_worker_timeout_limits_each_run(supervisor: TaskSupervisor) -> None:
    failed: list[BaseException] = []
    done = Latch()

    def on_error(**kwargs: Any) -> None:
        done.set()

    worker = gatasker.BackgroundEventWorker(func=lambda **_: Latch().wait(), timeout=LIMIT,
                                            tt=TT_GREENLET, supervisor=supervisor,
                                            on_error=on_error)
    worker._executor_failed = lambda exc, _orig=worker._executor_failed: (  # type: ignore
        failed.append(exc), _orig(exc))
    worker.start()
    worker.trigger()
    assert done.wait(30)
    worker.stop()
    assert isinstance(failed[0], TaskTimeout)


def test_a_worker_rate_limits_its_runs(supervisor: TaskSupervisor, events: Events) -> None:
    ran = Latch()
    worker = gatasker.BackgroundEventWorker(func=lambda **_: ran.set(), rate='1/h',
                                            tt=TT_GREENLET, supervisor=supervisor)
    worker.start()
    worker.trigger()
    assert ran.wait(30)
    gatasker_settle(supervisor)
    waiting = Latch()

    def on_event(event: Any) -> None:
        if isinstance(event, gatasker.TaskRateLimited):
            waiting.set()

    zope.event.subscribers.append(on_event)
    try:
        worker.trigger()  # the second run waits an hour for its token, outside the pool
        assert waiting.wait(30)
    finally:
        zope.event.subscribers.remove(on_event)
    [limited] = events.of(gatasker.TaskRateLimited)
    assert limited.task.status == gatasker.TASK_STATUS_DELAYED
    assert running(supervisor, TT_GREENLET) == 0
    worker.stop()  # cancels the run that waits for its token
    assert limited.task.wait(30) and limited.task.cancelled()
