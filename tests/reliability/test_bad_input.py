"""Bad calls raise a clear exception of the right builtin type, before anything changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import gatasker
from gatasker import BackgroundIntervalWorker, TaskSupervisor


def noop(**_: Any) -> None:
    pass


def make_cases() -> list[tuple[str, Callable[[TaskSupervisor], Any], type[BaseException]]]:
    stopped = TaskSupervisor()
    return [
        ('priority 75', lambda s: s.put_task(noop, priority=75), ValueError),
        ('priority str', lambda s: s.put_task(noop, priority='high'), ValueError),
        ('priority None', lambda s: s.put_task(noop, priority=None), ValueError),
        ('tt 7', lambda s: s.put_task(noop, tt=7), ValueError),
        ('non-callable target', lambda s: s.put_task(42), TypeError),
        ('non-callable callback', lambda s: s.put_task(noop, callback=3), TypeError),
        ('kwargs list', lambda s: s.put_task(noop, kwargs=[1]), TypeError),
        ('negative delay', lambda s: s.put_task(noop, delay=-1), ValueError),
        ('delay str', lambda s: s.put_task(noop, delay='1s'), TypeError),
        ('nan delay', lambda s: s.put_task(noop, delay=float('nan')), ValueError),
        ('negative pool_size', lambda s: s.set_thread_pool(pool_size=-1), ValueError),
        ('float pool_size', lambda s: s.set_thread_pool(pool_size=2.5), TypeError),
        ('bool reserve', lambda s: s.set_thread_pool(reserve_high=True), TypeError),
        ('min_size > max_size', lambda s: s.set_thread_pool(min_size=9, max_size=3), ValueError),
        ('unknown keyword', lambda s: s.set_thread_pool(size=3), TypeError),
        ('greenlet min_size', lambda s: s.set_greenlet_pool(min_size=3), TypeError),
        ('task on a stopped supervisor', lambda s: stopped.put_task(noop),
         gatasker.SupervisorNotRunning),
        ('wait_completed on junk', lambda s: gatasker.wait_completed(['junk']), TypeError),
        ('wait_completed on a number', lambda s: gatasker.wait_completed(3), TypeError),
        ('negative wait_completed timeout',
         lambda s: gatasker.wait_completed([], timeout=-1), ValueError),
        ('bad stop wait', lambda s: s.stop(wait='soon'), ValueError),
        ('bad start mode', lambda s: TaskSupervisor().start(mode='fast'), ValueError),
        ('background_task priority', lambda s: gatasker.background_task(noop, priority=1),
         ValueError),
        ('background_task non-callable', lambda s: gatasker.background_task(5), TypeError),
        ('interval with delay', lambda s: BackgroundIntervalWorker(func=noop, interval=1,
                                                                   delay=1), ValueError),
        ('negative interval', lambda s: BackgroundIntervalWorker(func=noop, interval=-1),
         ValueError),
        ('worker unknown keyword', lambda s: gatasker.BackgroundWorker(func=noop, speed=2),
         TypeError),
        ('tell on a stopped actor', lambda s: gatasker.Actor().tell(1), gatasker.ActorNotRunning),
        ('actor priority', lambda s: gatasker.Actor.spawn(priority=3, supervisor=s), ValueError),
        ('actor mailbox_size', lambda s: gatasker.Actor.spawn(mailbox_size=-1, supervisor=s),
         ValueError),
        ('coroutine task without an aloop',
         lambda s: gatasker.background_task(_coro, supervisor=s)(), RuntimeError),
        ('process task with a lambda target',
         lambda s: s.put_task(lambda **_: None, tt=gatasker.TT_MP),
         TypeError),
        ('process pool size', lambda s: s.create_mp_pool(processes=0), ValueError),
        ('process pool keyword', lambda s: s.set_mp_pool(processes=2), TypeError),
        ('process pool executor', lambda s: s.set_mp_pool(executor=object()), TypeError),
        ('collection priority', lambda s: gatasker.FunctionCollection().append(noop, 'x'),
         TypeError),
        ('locker timeout', lambda s: gatasker.Locker(timeout=-1), ValueError),
        ('async job interval', lambda s: _job(s, interval=0), ValueError),
        ('thread max_size 0', lambda s: s.set_thread_pool(max_size=0), ValueError),
        ('supervisor max_size 0', lambda s: TaskSupervisor(max_size=0), ValueError),
        ('args str', lambda s: s.put_task(noop, args='abc'), TypeError),
        ('args dict', lambda s: s.put_task(noop, args={'a': 1}), TypeError),
        ('args None', lambda s: s.put_task(noop, args=None), TypeError),
        ('kwargs int key', lambda s: s.put_task(noop, kwargs={1: 2}), TypeError),
        ('worker str', lambda s: s.put_task(noop, worker='x'), TypeError),
        ('interval 0', lambda s: BackgroundIntervalWorker(func=noop, interval=0), ValueError),
        ('locker timeout nan', lambda s: gatasker.Locker(timeout=float('nan')), ValueError),
        ('locker timeout str', lambda s: gatasker.Locker(timeout='5'), ValueError),
        ('wait_completed nan', lambda s: gatasker.wait_completed([], timeout=float('nan')),
         ValueError),
        ('actor stop wait negative', lambda s: gatasker.Actor().stop(wait=-1), ValueError),
    ]


async def _coro() -> None:
    pass


def _job(sup: TaskSupervisor, **kwargs: Any) -> Any:
    sup.create_aloop('jobs', default=True)
    sup.create_async_job_scheduler('jobs')
    return sup.create_async_job(target=noop, **kwargs)


CASES = make_cases()


def test_at_least_25_distinct_bad_inputs() -> None:
    assert len({name for name, _, _ in CASES}) >= 25


@pytest.mark.parametrize('name, call, error', CASES, ids=[c[0] for c in CASES])
def test_bad_input(supervisor: TaskSupervisor, name: str, call: Callable[[TaskSupervisor], Any],
                   error: type[BaseException]) -> None:
    before = vars(supervisor.get_info()).copy()
    before.pop('aloops', None)
    before.pop('async_job_schedulers', None)
    before.pop('default_aloop', None)
    with pytest.raises(error):
        call(supervisor)
    after = vars(supervisor.get_info()).copy()
    for key in ('aloops', 'async_job_schedulers', 'default_aloop'):
        after.pop(key, None)
    assert after == before
    assert supervisor.get_tasks() == {}
    assert supervisor.put_task(lambda **_: 'still works').get(timeout=10) == 'still works'


class Recording(gatasker.Actor):
    def __init__(self) -> None:
        self.seen: list[Any] = []

    def on_receive(self, message: Any) -> Any:
        self.seen.append(message)
        return message


@pytest.mark.parametrize('timeout, error', [(-1, ValueError), ('1', TypeError),
                                            (float('nan'), ValueError), (True, TypeError)],
                         ids=['negative', 'str', 'nan', 'bool'])
def test_bad_ask_timeout_sends_nothing(supervisor: TaskSupervisor, timeout: Any,
                                       error: type[BaseException]) -> None:
    actor = Recording.spawn(supervisor=supervisor)
    with pytest.raises(error):
        actor.ask('bad', timeout=timeout)
    assert actor.ask('good', timeout=10) == 'good'
    assert actor.seen == ['good']
    actor.stop()


@pytest.mark.parametrize('timeout, error', [(-1, ValueError), ('1', TypeError),
                                            (float('nan'), ValueError)],
                         ids=['negative', 'str', 'nan'])
def test_bad_task_wait_timeout(supervisor: TaskSupervisor, timeout: Any,
                               error: type[BaseException]) -> None:
    task = supervisor.put_task(noop)
    assert task.wait(10)
    with pytest.raises(error):
        task.wait(timeout)
    with pytest.raises(error):
        task.get(timeout=timeout)


def test_worker_start_with_a_bad_control_changes_nothing(supervisor: TaskSupervisor) -> None:
    worker = BackgroundIntervalWorker(func=noop, interval=5, name='w', supervisor=supervisor)
    with pytest.raises(TypeError):
        worker.start(_priority=gatasker.TASK_HIGH, _name=5)
    with pytest.raises(TypeError):
        worker.start(_interval=1, _name=5)
    with pytest.raises(ValueError):
        worker.start(_name='renamed', _priority=3)
    assert (worker.name, worker._actor.priority, worker.interval) == ('w', gatasker.TASK_NORMAL, 5)
    assert not worker.is_active()
