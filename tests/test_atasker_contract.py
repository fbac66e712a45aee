"""Issue 13: atasker 0.7 code runs unchanged, worker and supervisor points.

Each test names the point of the issue it covers. They hold in both modes
(test_patched_mode.py reruns this module under patch_all()).
"""

from __future__ import annotations

import gc
import logging
import pathlib
import re
import weakref
from typing import Any

import pytest
from conftest import run_python, settle

import gatasker
from gatasker import (
    TASK_HIGH,
    TASK_LOW,
    TT_COROUTINE,
    TT_GREENLET,
    TT_MP,
    TT_THREAD,
    Actor,
    BackgroundAsyncWorker,
    BackgroundEventWorker,
    BackgroundIntervalWorker,
    BackgroundQueueWorker,
    BackgroundWorker,
    Locker,
    background_worker,
)
from gatasker._bridge import Latch, allocate_lock

DOCS = pathlib.Path(__file__).resolve().parents[1] / 'docs'


class Calls:
    """Thread-safe record of executor calls with a latch per count reached."""

    def __init__(self) -> None:
        self.lock = allocate_lock()
        self.items: list[Any] = []
        self._waiters: list[tuple[int, Latch]] = []

    def add(self, item: Any) -> None:
        with self.lock:
            self.items.append(item)
            for count, latch in self._waiters:
                if len(self.items) >= count:
                    latch.set()

    def wait_for(self, count: int, timeout: float = 20) -> None:
        latch = Latch()
        with self.lock:
            if len(self.items) >= count:
                return
            self._waiters.append((count, latch))
        assert latch.wait(timeout), f'{len(self.items)} of {count} calls: {self.items}'


def nothing(**_: Any) -> None:
    pass


# -- point 4: every constructor parameter is readable ------------------------------------

def test_point4_worker_parameters_are_attributes(supervisor: gatasker.TaskSupervisor) -> None:
    def on_error(**_: Any) -> None:
        pass

    target = object()
    worker = BackgroundIntervalWorker(
        name='reader', func=nothing, priority=TASK_HIGH, o=target, on_error=on_error,
        on_error_kwargs={'why': 1}, supervisor=supervisor, poll_delay=0.25, interval=3,
        delay_before=0.5, tt=TT_THREAD, loop='elsewhere')
    assert worker.name == 'reader'
    assert worker.priority == TASK_HIGH
    assert worker.o is target
    assert worker.on_error is on_error
    assert worker.on_error_kwargs == {'why': 1}
    assert worker.supervisor is supervisor
    assert worker.poll_delay == 0.25
    assert (worker.interval, worker.delay, worker.delay_before) == (3, None, 0.5)
    assert worker.tt == TT_THREAD
    assert worker.loop == 'elsewhere'
    plain = BackgroundWorker(func=nothing)
    assert plain.priority == gatasker.TASK_NORMAL and plain.tt is None and plain.loop is None


def test_point4_priority_follows_start_and_assignment(
        supervisor: gatasker.TaskSupervisor) -> None:
    calls = Calls()
    worker = BackgroundEventWorker(func=lambda **kw: calls.add(kw), supervisor=supervisor)
    worker.start(_priority=TASK_LOW)
    try:
        assert worker.priority == TASK_LOW
        worker.trigger()
        calls.wait_for(1)
    finally:
        worker.stop()
    worker.priority = TASK_HIGH
    assert worker.priority == TASK_HIGH
    with pytest.raises(ValueError):
        worker.priority = 7
    assert worker.priority == TASK_HIGH


def test_point4_actor_options_are_attributes(supervisor: gatasker.TaskSupervisor) -> None:
    class Echo(Actor):
        def on_receive(self, message: Any) -> Any:
            return message

    actor = Echo.spawn(name='echo', priority=TASK_HIGH, supervisor=supervisor, mailbox_size=3)
    try:
        assert (actor.name, actor.priority, actor.supervisor, actor.mailbox_size) == \
            ('echo', TASK_HIGH, supervisor, 3)
        assert actor.ask('x', timeout=10) == 'x'
    finally:
        actor.stop()


# -- point 5: start(o=...) reaches the executor -----------------------------------------

def test_point5_start_o_reaches_the_executor(supervisor: gatasker.TaskSupervisor) -> None:
    calls = Calls()
    built, started = object(), object()
    worker = BackgroundEventWorker(func=lambda **kw: calls.add(kw['o']), o=built,
                                   supervisor=supervisor)
    worker.start(o=started)
    try:
        worker.trigger()
        calls.wait_for(1)
    finally:
        worker.stop()
    assert calls.items == [started]
    assert worker.o is built  # the constructor's object is kept for the next start
    worker.start()
    try:
        worker.trigger()
        calls.wait_for(2)
    finally:
        worker.stop()
    assert calls.items[1] is built


# -- point 6: put() and trigger() may be awaited -----------------------------------------

def test_point6_put_and_trigger_are_awaitable(supervisor: gatasker.TaskSupervisor) -> None:
    calls = Calls()
    queued = BackgroundQueueWorker(func=lambda item, **_: calls.add(item),
                                   supervisor=supervisor)
    event = BackgroundEventWorker(func=lambda **_: calls.add('event'), supervisor=supervisor)
    queued.start()
    event.start()
    aloop = supervisor.create_aloop('awaiting')
    assert aloop

    async def feed() -> None:
        await queued.put('awaited')
        await event.trigger()

    try:
        aloop.run(feed())
        calls.wait_for(2)
        queued.put('plain')  # the plain call still queues without awaiting
        calls.wait_for(3)
    finally:
        queued.stop()
        event.stop()
    assert sorted(calls.items) == ['awaited', 'event', 'plain']


# -- point 7: concurrent first uses of the internal aloop --------------------------------

def test_point7_async_workers_share_one_internal_aloop(
        supervisor: gatasker.TaskSupervisor, caplog: pytest.LogCaptureFixture) -> None:
    assert supervisor.default_aloop is None
    calls = Calls()

    def make(tag: int) -> BackgroundAsyncWorker:
        async def executor(**_: Any) -> bool:
            calls.add(tag)
            return False  # one run each

        return BackgroundAsyncWorker(func=executor, supervisor=supervisor)

    workers = [make(tag) for tag in range(4)]
    with caplog.at_level(logging.ERROR, logger='gatasker'):
        for worker in workers:
            assert worker.start()
        calls.wait_for(4)
    for worker in workers:
        worker.stop()
    assert sorted(calls.items) == [0, 1, 2, 3]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert supervisor.get_info().aloops == ['__internal__']


# -- point 8: an interval worker without interval or delay waits 1 s between runs --------

def test_point8_interval_worker_defaults_to_delay_one() -> None:
    worker = BackgroundIntervalWorker(func=nothing)
    assert (worker.interval, worker.delay) == (None, 1)
    assert background_worker(delay_before=0.5)(nothing).delay == 1
    assert BackgroundIntervalWorker(func=nothing, interval=2).delay is None
    assert BackgroundIntervalWorker(func=nothing, delay=3).delay == 3


def test_point8_default_delay_separates_runs(supervisor: gatasker.TaskSupervisor) -> None:
    calls = Calls()
    worker = BackgroundIntervalWorker(func=lambda **_: calls.add('run'), supervisor=supervisor)
    worker.start()
    try:
        calls.wait_for(1)
        schedule = worker._schedule
        assert schedule is not None
        # the next run is one delay after the end of this one, not back to back
        assert schedule.next(100.0) == pytest.approx(101.0)
    finally:
        worker.stop()


# -- point 9: atasker's other worker keywords ---------------------------------------------

def test_point9_i_is_interval_and_delay_after_is_delay() -> None:
    by_i = background_worker(i=0.5)(nothing)
    assert isinstance(by_i, BackgroundIntervalWorker)
    assert (by_i.interval, by_i.delay) == (0.5, None)
    after = background_worker(delay_after=2)(nothing)
    assert isinstance(after, BackgroundIntervalWorker)
    assert (after.interval, after.delay) == (None, 2)
    assert BackgroundIntervalWorker(func=nothing, i=4).interval == 4
    assert BackgroundIntervalWorker(func=nothing, delay_after=5).delay == 5
    with pytest.raises(TypeError):
        background_worker(i=1, interval=2)(nothing)
    with pytest.raises(TypeError):
        BackgroundIntervalWorker(func=nothing, delay=1, delay_after=2)
    with pytest.raises(ValueError):
        background_worker(i=1, delay_after=2)(nothing)
    with pytest.raises(TypeError):
        BackgroundWorker(func=nothing, i=1)  # not an interval worker


def test_point9_start_delay_after_overrides(supervisor: gatasker.TaskSupervisor) -> None:
    worker = BackgroundIntervalWorker(func=nothing, interval=30, supervisor=supervisor)
    worker.start(_delay_after=20)
    try:
        assert (worker.interval, worker.delay) == (None, 20)
    finally:
        worker.stop()


@pytest.mark.parametrize('factory', [
    lambda: BackgroundWorker(func=nothing, daemon=True),
    lambda: background_worker(daemon=True)(nothing),
    lambda: background_worker(interval=1, daemon=False)(nothing),
    lambda: BackgroundQueueWorker(func=nothing, daemon=True),
])
def test_point9_daemon_is_accepted_with_a_warning(factory: Any) -> None:
    with pytest.warns(DeprecationWarning, match='daemon'):
        worker = factory()
    assert not hasattr(worker, 'daemon')


# -- point 10: get_tasks() is a dict, get_info() lists sync schedulers --------------------

def test_point10_get_tasks_is_a_dict_copy(supervisor: gatasker.TaskSupervisor) -> None:
    gate = Latch()
    started = Latch()

    def hold(**_: Any) -> str:
        started.set()
        assert gate.wait(30)
        return 'done'

    task = supervisor.put_task(hold, tt=TT_THREAD)
    try:
        assert started.wait(20)
        tasks = supervisor.get_tasks()
        assert isinstance(tasks, dict) and tasks == {task.id: task}
        tasks.clear()
        assert supervisor.get_tasks() == {task.id: task}
    finally:
        gate.set()
    assert task.get(timeout=20) == 'done'
    settle(supervisor)
    assert supervisor.get_tasks() == {}


def test_point10_info_lists_sync_schedulers(supervisor: gatasker.TaskSupervisor) -> None:
    class Sync:
        def stop(self) -> None:
            pass

    sync = Sync()
    assert supervisor.register_sync_scheduler(sync)
    assert sync in supervisor.get_info().schedulers
    assert supervisor.unregister_sync_scheduler(sync)
    assert sync not in supervisor.get_info().schedulers


# -- point 11: Locker.lock ---------------------------------------------------------------

def test_point11_locker_exposes_its_lock(caplog: pytest.LogCaptureFixture) -> None:
    locker = Locker(mod='held elsewhere', relative=False, timeout=0.05)
    ran, shouted = [], []
    locker.critical = lambda: shouted.append(True)  # type: ignore[method-assign]

    @locker
    def guarded() -> str:
        ran.append(True)
        return 'ran'

    assert locker.lock.acquire()
    with caplog.at_level(logging.CRITICAL, logger='gatasker'):
        assert guarded() is None
    assert shouted == [True] and ran == []
    locker.lock.release()
    assert guarded() == 'ran'
    assert ran == [True]


# -- point 12: no reference to a finished task, in every tier ----------------------------

class Payload:
    """A result that supports weak references."""


def make_payload(**_: Any) -> Payload:
    return Payload()


async def make_payload_async(**_: Any) -> Payload:
    return Payload()


class Boom(ValueError):
    """An exception that supports weak references."""


def fail_task(**_: Any) -> None:
    raise Boom('a traceback that must not stay in memory')


def _run_once(supervisor: gatasker.TaskSupervisor, func: Any, args: tuple[Any, ...] = (),
              **options: Any) -> tuple[weakref.ref[Any], weakref.ref[Any] | None]:
    """Run one task to its end; weak references to it and to its result."""
    task = supervisor.put_task(func, args, **options)
    assert task.wait(60)
    outcome = task.exception if task.exception is not None else task.result
    try:
        outcome_ref: weakref.ref[Any] | None = weakref.ref(outcome)
    except TypeError:  # None, bytes, a builtin exception: nothing to follow
        outcome_ref = None
    return weakref.ref(task), outcome_ref


def _held(refs: tuple[weakref.ref[Any], weakref.ref[Any] | None],
          supervisor: gatasker.TaskSupervisor) -> list[str]:
    settle(supervisor)
    gc.collect()
    return [what for what, ref in zip(('task', 'outcome'), refs, strict=True)
            if ref is not None and ref() is not None]


@pytest.fixture
def log_keeps_nothing() -> Any:
    """pytest keeps every log record (and a failed task's traceback with it): not here."""
    logger = logging.getLogger('gatasker')
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = False


@pytest.mark.usefixtures('log_keeps_nothing')
@pytest.mark.parametrize('tt', [TT_GREENLET, TT_THREAD, TT_COROUTINE])
@pytest.mark.parametrize('target', ['result', 'exception'])
def test_point12_finished_task_is_not_kept(supervisor: gatasker.TaskSupervisor, tt: int,
                                           target: str) -> None:
    loop = None
    if tt == TT_COROUTINE:
        loop = supervisor.create_aloop('refs')
        func: Any = make_payload_async if target == 'result' else _fail_async
    else:
        func = make_payload if target == 'result' else fail_task
    for _ in range(3):  # the first task of a fresh pool worker is the case that leaked
        assert _held(_run_once(supervisor, func, tt=tt, loop=loop), supervisor) == []


async def _fail_async(**_: Any) -> None:
    raise Boom('a traceback that must not stay in memory')


@pytest.mark.usefixtures('log_keeps_nothing')
def test_point12_worker_runs_are_not_kept(supervisor: gatasker.TaskSupervisor) -> None:
    calls = Calls()
    seen: list[weakref.ref[Any]] = []

    def executor(**kwargs: Any) -> Payload:
        seen.append(weakref.ref(supervisor.get_task(kwargs['_task_id'])))
        calls.add(1)
        return Payload()

    worker = BackgroundEventWorker(func=executor, supervisor=supervisor, tt=TT_GREENLET)
    worker.start()
    try:
        worker.trigger()
        calls.wait_for(1)
        settle(supervisor)
        worker.trigger()
        calls.wait_for(2)
        settle(supervisor)
        gc.collect()
        assert seen[0]() is None
    finally:
        worker.stop()


@pytest.mark.usefixtures('log_keeps_nothing')
def test_point12_process_task_is_not_kept(supervisor: gatasker.TaskSupervisor) -> None:
    from mp_targets import blob, fail
    supervisor.create_mp_pool(processes=1)
    for target, args in ((blob, (1024,)), (fail, ('boom',)), (blob, (10,))):
        assert _held(_run_once(supervisor, target, args, tt=TT_MP), supervisor) == []


# -- point 13: the migration guide says how to keep logging configuration -----------------

def test_point13_migration_guide_logging_recipe_works() -> None:
    guide = (DOCS / 'migrating-from-atasker.md').read_text()
    assert "'gatasker'" in guide
    blocks = re.findall(r'```python\n(.*?)```', guide, re.S)
    recipe = [b for b in blocks if "getLogger('atasker')" in b]
    assert recipe, 'the guide shows no logging recipe for the atasker logger'
    code = (
        'import logging\n'
        'class Keep(logging.Handler):\n'
        '    lines = []\n'
        '    def emit(self, record):\n'
        '        Keep.lines.append(record.getMessage())\n'
        "logging.getLogger('atasker').addHandler(Keep())\n"
        "logging.getLogger('atasker').setLevel(logging.INFO)\n"
        + recipe[0] +
        'import gatasker\n'
        "gatasker._logging.logger.warning('via gatasker %s', 1)\n"
        "assert Keep.lines == ['via gatasker 1'], Keep.lines\n"
        "print('ok')\n"
    )
    for patched in (False, True):
        done = run_python(code, patched=patched)
        assert done.returncode == 0 and done.stdout.strip() == 'ok', done.stderr

