"""Every user boundary x {Exception, SystemExit, KeyboardInterrupt, GreenletExit, gevent.Timeout}.

The outcome each boundary promises is the table in docs/guarantees.md: a
BaseException is handled exactly like an Exception at the same boundary. Each
case asserts that outcome, that the supervisor still runs tasks, that
``stop()`` returns (unbounded: a hang fails the test through pytest-timeout),
and that nothing reached stderr (gevent prints what escapes a greenlet).
"""

from __future__ import annotations

import functools
import logging
import pickle
from collections.abc import Callable
from typing import Any

import gevent
import mp_targets
import pytest
from greenlet import GreenletExit

import gatasker
from gatasker import TT_COROUTINE, TT_GREENLET, TT_MP, TT_THREAD
from gatasker._bridge import Latch

KINDS: dict[str, Callable[[], BaseException]] = {
    'Exception': lambda: ValueError('boom'),
    'SystemExit': lambda: SystemExit(3),
    'KeyboardInterrupt': KeyboardInterrupt,
    'GreenletExit': GreenletExit,
    'Timeout': gevent.Timeout,
}
TYPES: dict[str, type[BaseException]] = {
    'Exception': ValueError, 'SystemExit': SystemExit, 'KeyboardInterrupt': KeyboardInterrupt,
    'GreenletExit': GreenletExit, 'Timeout': gevent.Timeout,
}
WAIT = 30


def expected(tt: int | None, kind: str) -> type[BaseException]:
    """The exception a failure of *kind* is reported as."""
    if tt == TT_MP and kind == 'Timeout':  # a gevent.Timeout does not survive pickling
        return pickle.PicklingError
    return TYPES[kind]


class Hook:
    """A user hook that raises *kind* on its first *times* calls, then returns *value*."""

    def __init__(self, kind: str, times: int = 1, value: Any = None) -> None:
        self.kind = kind
        self.times = times
        self.value = value
        self.calls = 0
        self.called = Latch()
        self.again = Latch()  # called once more after raising

    def __call__(self, *_: Any, **__: Any) -> Any:
        self.calls += 1
        if self.calls > self.times:
            self.again.set()
            return self.value
        self.called.set()
        raise KINDS[self.kind]()


# -- supervisor hooks ------------------------------------------------------------------


def callback(sup: gatasker.TaskSupervisor, kind: str) -> None:
    hook = Hook(kind)
    task = sup.put_task(lambda **_: 'result', callback=hook)
    assert task.get(timeout=WAIT) == 'result'
    assert hook.called.wait(WAIT)


def _queued_too_long(sup: gatasker.TaskSupervisor, kind: str, level: str) -> None:
    hook = Hook(kind)
    setattr(sup, f'timeout_{level}', 0.01)
    setattr(sup, f'timeout_{level}_func', hook)
    sup.set_greenlet_pool(pool_size=1, reserve_normal=0, reserve_high=0)
    gate = Latch()
    holder = sup.put_task(lambda **_: gate.wait(WAIT), tt=TT_GREENLET)
    waiter = sup.put_task(lambda **_: 'waited', tt=TT_GREENLET)
    assert hook.called.wait(WAIT)
    gate.set()
    assert waiter.get(timeout=WAIT) == 'waited' and holder.get(timeout=WAIT) is True
    setattr(sup, f'timeout_{level}', None)


def timeout_warning_func(sup: gatasker.TaskSupervisor, kind: str) -> None:
    _queued_too_long(sup, kind, 'warning')


def timeout_critical_func(sup: gatasker.TaskSupervisor, kind: str) -> None:
    _queued_too_long(sup, kind, 'critical')


class Scheduler:
    def __init__(self, hook: Hook) -> None:
        self.loop = hook
        self.stopped = Latch()

    def stop(self) -> None:
        self.stopped.set()


def scheduler_loop(sup: gatasker.TaskSupervisor, kind: str) -> None:
    scheduler = Scheduler(Hook(kind))
    sup.register_scheduler(scheduler)
    assert scheduler.loop.called.wait(WAIT)


# -- actors ------------------------------------------------------------------------------


class Echo(gatasker.Actor):
    def __init__(self, kind: str, where: str) -> None:
        self.kind = kind
        self.where = where
        self.failures: list[BaseException] = []

    def on_start(self) -> None:
        if self.where == 'on_start':
            raise KINDS[self.kind]()

    def on_receive(self, message: Any) -> Any:
        if message == 'raise':
            raise KINDS[self.kind]() if self.where != 'on_failure' else ValueError('first')
        return message

    def on_failure(self, exc: BaseException) -> bool | None:
        self.failures.append(exc)
        if self.where == 'on_failure':
            raise KINDS[self.kind]()
        return None

    def on_stop(self) -> None:
        if self.where == 'on_stop':
            raise KINDS[self.kind]()


def on_start(sup: gatasker.TaskSupervisor, kind: str) -> None:
    actor = Echo.spawn(kind, 'on_start', supervisor=sup)
    assert actor._actor.stopped.wait(WAIT)  # the actor did not start and is stopped
    assert not actor.is_alive()
    assert actor.stop() is False


def on_receive_tell(sup: gatasker.TaskSupervisor, kind: str) -> None:
    actor = Echo.spawn(kind, 'on_receive', supervisor=sup)
    actor.tell('raise')
    assert actor.ask('still here', timeout=WAIT) == 'still here'
    assert [type(e) for e in actor.failures] == [TYPES[kind]]
    assert actor.stop() is True


def on_receive_ask(sup: gatasker.TaskSupervisor, kind: str) -> None:
    actor = Echo.spawn(kind, 'on_receive', supervisor=sup)
    with pytest.raises(TYPES[kind]):
        actor.ask('raise', timeout=WAIT)
    assert actor.ask('still here', timeout=WAIT) == 'still here'
    assert actor.stop() is True


def on_failure(sup: gatasker.TaskSupervisor, kind: str) -> None:
    actor = Echo.spawn(kind, 'on_failure', supervisor=sup)
    actor.tell('raise')
    assert actor.ask('still here', timeout=WAIT) == 'still here'
    assert len(actor.failures) == 1
    assert actor.stop() is True


def on_stop(sup: gatasker.TaskSupervisor, kind: str) -> None:
    actor = Echo.spawn(kind, 'on_stop', supervisor=sup)
    assert actor.ask('x', timeout=WAIT) == 'x'
    assert actor.stop() is True
    assert not actor.is_alive() and actor._actor.state == 'stopped'


# -- workers -----------------------------------------------------------------------------


def _worker_goes_on(sup: gatasker.TaskSupervisor, kind: str, tt: int) -> None:
    executor = Hook(kind, value='ok')
    if tt == TT_COROUTINE:
        sup.create_aloop('workers', default=True)

        async def run(**kwargs: Any) -> Any:
            return executor(**kwargs)
        func: Callable[..., Any] = run
    else:
        func = executor
    errors = Hook('Exception', times=0)
    worker = gatasker.BackgroundWorker(func=func, tt=tt, on_error=errors, supervisor=sup)
    worker.start()
    assert executor.again.wait(WAIT)  # failed once, logged, ran again
    assert errors.calls >= 1
    assert worker.stop() is True


def on_error(sup: gatasker.TaskSupervisor, kind: str) -> None:
    executor = Hook('Exception', times=2, value='ok')
    hook = Hook(kind)
    worker = gatasker.BackgroundWorker(func=executor, tt=TT_GREENLET, on_error=hook,
                                       supervisor=sup)
    worker.start()
    assert executor.again.wait(WAIT)  # on_error raised after the first failure; it went on
    assert hook.calls == 2
    assert worker.stop() is True


class ResultWorker(mp_targets.SquareWorker):
    def __init__(self, kind: str, **kwargs: Any) -> None:
        super().__init__(expected=2, **kwargs)
        self.hook = Hook(kind)

    def process_result(self, result: Any) -> Any:
        super().process_result(result)
        return self.hook(result)


def process_result(sup: gatasker.TaskSupervisor, kind: str) -> None:
    sup.create_mp_pool(processes=1)
    errors = Hook('Exception', times=0)
    worker = ResultWorker(kind, on_error=errors, supervisor=sup)
    worker.start()
    worker.put(2)
    worker.put(3)
    assert worker.all_done.wait(WAIT)  # the second item ran after process_result raised
    assert worker.hook.calls == 2 and errors.calls == 1
    assert worker.stop() is True


# -- task targets, per tier ------------------------------------------------------------------


def _target_fails_the_task(sup: gatasker.TaskSupervisor, kind: str, tt: int) -> None:
    if tt == TT_MP:
        sup.create_mp_pool(processes=1)
        task = sup.put_task(mp_targets.raise_kind, (kind,), tt=TT_MP)
    elif tt == TT_COROUTINE:
        aloop = sup.create_aloop('targets', default=True)

        async def coro() -> None:
            raise KINDS[kind]()
        task = aloop.background_task(coro())
    else:
        task = sup.put_task(Hook(kind), tt=tt)
    assert task.wait(WAIT) and task.is_completed()
    assert type(task.exception) is expected(tt, kind)
    if tt == TT_COROUTINE:  # the aloop survived and runs the next coroutine task
        async def fine() -> str:
            return 'fine'
        assert aloop.background_task(fine()).get(timeout=WAIT) == 'fine'


def async_job(sup: gatasker.TaskSupervisor, kind: str) -> None:
    sup.create_aloop('jobs', default=True)
    sup.create_async_job_scheduler('jobs')
    hook = Hook(kind, value='ok')
    sup.create_async_job(target=hook, interval=0.01, number=2)
    assert hook.again.wait(WAIT)  # the job ran again after raising


TIERS = {'thread': TT_THREAD, 'greenlet': TT_GREENLET, 'coroutine': TT_COROUTINE, 'process': TT_MP}
BOUNDARIES: dict[str, Callable[[gatasker.TaskSupervisor, str], None]] = {
    **{f.__name__: f for f in (
        callback, timeout_warning_func, timeout_critical_func, scheduler_loop,
        on_start, on_receive_tell, on_receive_ask, on_failure, on_stop,
        on_error, process_result, async_job,
    )},
    **{f'executor_{name}': functools.partial(_worker_goes_on, tt=tt)
       for name, tt in TIERS.items() if tt != TT_MP},
    **{f'target_{name}': functools.partial(_target_fails_the_task, tt=tt)
       for name, tt in TIERS.items()},
}


@pytest.mark.parametrize('kind', list(KINDS))
@pytest.mark.parametrize('boundary', list(BOUNDARIES))
def test_base_exception_at_a_boundary(boundary: str, kind: str, capfd: pytest.CaptureFixture[str],
                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger='gatasker')
    sup = gatasker.TaskSupervisor()
    assert sup.start()
    try:
        BOUNDARIES[boundary](sup, kind)
        assert sup.put_task(lambda **_: 'ok', tt=TT_THREAD).get(timeout=WAIT) == 'ok'
        assert sup.put_task(lambda **_: 'ok', tt=TT_GREENLET).get(timeout=WAIT) == 'ok'
    finally:
        assert sup.stop() is True  # unbounded: a hang fails through pytest-timeout
    assert not sup.is_started()
    if boundary != 'on_receive_ask':  # logged with its traceback (an ask re-raises it instead)
        reported = expected(TT_MP if boundary == 'target_process' else None, kind)
        assert any(r.exc_info and isinstance(r.exc_info[1], reported) for r in caplog.records)
    assert 'Traceback' not in capfd.readouterr().err


def test_the_table_covers_every_kind_and_boundary() -> None:
    assert set(TYPES) == set(KINDS) and len(BOUNDARIES) == 19
