"""ActorSupervisor: strategies, restart types, identity and mailbox across restarts,
intensity and escalation, backoff, workers, statistics, logs and events."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator
from typing import Any

import gevent
import pytest
import zope.event
from greenlet import GreenletExit
from zope.interface.verify import verifyObject

import gatasker
from gatasker import (
    Actor,
    ActorNotRunning,
    ActorRestarted,
    ActorSupervisor,
    ActorTerminated,
    BackgroundQueueWorker,
    ChildSpec,
    SupervisionFailed,
    Terminated,
)
from gatasker._actor import cell_of
from gatasker._bridge import Latch, allocate_lock
from gatasker._child_spec import ChildRecord
from gatasker._restarts import start_child

BASE_EXCEPTIONS = [ValueError('boom'), SystemExit(3), KeyboardInterrupt(), GreenletExit(),
                   gevent.Timeout()]
_incarnations = itertools.count(1)


class Log:
    """A thread- and greenlet-safe list of events with waits on its length."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self._lock = allocate_lock()
        self._waiters: list[tuple[Callable[[list[Any]], bool], Latch]] = []

    def add(self, event: Any) -> None:
        with self._lock:
            self.events.append(event)
            for check, latch in self._waiters:
                if check(self.events):
                    latch.set()

    def wait(self, check: Callable[[list[Any]], bool], what: str = '') -> list[Any]:
        latch = Latch()
        with self._lock:
            self._waiters.append((check, latch))
            if check(self.events):
                latch.set()
        assert latch.wait(30), f'{what}: {self.events}'
        return list(self.events)

    def wait_len(self, count: int) -> list[Any]:
        return self.wait(lambda events: len(events) >= count, f'{count} events')

    def take(self) -> list[Any]:
        with self._lock:
            events, self.events = self.events, []
        return events


class Child(Actor):
    """Logs its life; 'fail' raises (what ``fails_with`` says), anything else is recorded."""

    def __init__(self, log: Log, base: int = 0,
                 fails_with: Callable[[], BaseException] = lambda: ValueError('fail')) -> None:
        self.log = log
        self.base = base
        self.fails_with = fails_with
        self.seen: list[Any] = []  # rebuilt empty at each restart
        self.gate: Latch | None = None

    def on_start(self) -> None:
        self.incarnation = next(_incarnations)
        self.log.add(('start', self.name))

    def on_stop(self) -> None:
        self.log.add(('stop', self.name))

    def on_restart(self, exc: BaseException | None) -> None:
        self.log.add(('restart', self.name, type(exc).__name__ if exc is not None else None))

    def on_receive(self, message: Any) -> Any:
        if message == 'fail':
            raise self.fails_with()
        if isinstance(message, Latch):  # hold the actor until the latch is set
            message.wait(30)
            return None
        if message == 'state':
            return self.base, list(self.seen), self.incarnation
        self.seen.append(message)
        self.log.add(('handled', self.name, message))
        return message

    def on_failure(self, exc: BaseException) -> bool:
        self.log.add(('failed', self.name, type(exc).__name__))
        return False


@pytest.fixture
def log() -> Log:
    return Log()


@pytest.fixture
def events() -> Iterator[list[Any]]:
    seen: list[Any] = []
    zope.event.subscribers.append(seen.append)
    yield seen
    zope.event.subscribers.remove(seen.append)


def three(log: Log, **spec: Any) -> list[ChildSpec]:
    return [ChildSpec(Child, log, name=name, **spec) for name in 'abc']


def settle(sup: ActorSupervisor, child: Actor) -> gatasker.ActorSupervisorStatistics:
    """After ``child.tell('fail')``: return once the supervisor handled the failure."""
    try:
        child.ask('ping', timeout=30)  # queued behind 'fail': the failure is reported by now
    except ActorNotRunning:
        pass  # it ended for good
    stats = sup.ask(None, timeout=30)  # queued behind that report
    assert stats is not None
    return stats


def started(log: Log, sup: ActorSupervisor) -> list[Actor]:
    log.wait(lambda events: events.count(('start', 'c')) >= 1, 'initial start')
    assert log.take() == [('start', 'a'), ('start', 'b'), ('start', 'c')]
    return sup.children()


EXPECTED = {
    'one_for_one': [('failed', 'b', 'ValueError'), ('stop', 'b'),
                    ('restart', 'b', 'ValueError'), ('start', 'b')],
    'one_for_all': [('failed', 'b', 'ValueError'), ('stop', 'b'), ('stop', 'c'), ('stop', 'a'),
                    ('restart', 'a', 'ValueError'), ('start', 'a'),
                    ('restart', 'b', 'ValueError'), ('start', 'b'),
                    ('restart', 'c', 'ValueError'), ('start', 'c')],
    'rest_for_one': [('failed', 'b', 'ValueError'), ('stop', 'b'), ('stop', 'c'),
                     ('restart', 'b', 'ValueError'), ('start', 'b'),
                     ('restart', 'c', 'ValueError'), ('start', 'c')],
}


@pytest.mark.parametrize('strategy', list(EXPECTED))
def test_strategy_start_and_stop_orders(supervisor: gatasker.TaskSupervisor, log: Log,
                                        strategy: str) -> None:
    sup = ActorSupervisor.spawn(three(log), strategy=strategy, supervisor=supervisor)
    a, b, c = started(log, sup)
    b.tell('fail')
    stats = settle(sup, b)
    assert [e for e in log.take() if e[0] != 'handled'] == EXPECTED[strategy]
    assert [ch.state for ch in stats.children] == ['running'] * 3
    assert [ch.restarts for ch in stats.children] == {
        'one_for_one': [0, 1, 0], 'one_for_all': [1, 1, 1], 'rest_for_one': [0, 1, 1]}[strategy]
    restarts = {a.name: a.restarts for a in supervisor.statistics().actor_statistics}
    assert [restarts[name] for name in 'abc'] == [ch.restarts for ch in stats.children]
    assert sup.children() == [a, b, c]  # the same objects
    assert [x.ask('ping', timeout=10) for x in (a, b, c)] == ['ping'] * 3
    log.take()
    sup.stop()
    assert log.take() == [('stop', 'c'), ('stop', 'b'), ('stop', 'a')]
    assert not any(x.is_alive() for x in (a, b, c))
    assert sup.statistics().state == 'stopped'


class Stopper(Child):
    """On 'stop sup', stops the supervisor it is given (its own or an ancestor), waiting."""

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, tuple) and message[0] == 'stop sup':
            returned = message[1].stop()  # wait=True: must not wait for this very child
            self.log.add(('stop returned', self.name, returned))
            return returned
        return super().on_receive(message)


@pytest.mark.parametrize('levels', [1, 2], ids=['own', 'ancestor'])
def test_a_child_stopping_its_supervisor_from_a_handler_does_not_deadlock(
        supervisor: gatasker.TaskSupervisor, log: Log, levels: int) -> None:
    specs = [ChildSpec(Child, log, name='a'), ChildSpec(Stopper, log, name='b')]
    if levels == 1:
        top = inner = ActorSupervisor.spawn(specs, supervisor=supervisor)
    else:
        top = ActorSupervisor.spawn([ChildSpec(ActorSupervisor, specs, name='inner')],
                                    supervisor=supervisor)
        [inner] = top.children()
        assert isinstance(inner, ActorSupervisor)
    stopper = inner.children()[1]
    log.wait(lambda events: ('start', 'b') in events, 'start')
    log.take()
    assert stopper.ask(('stop sup', top), timeout=30) is True
    log.wait(lambda events: ('stop', 'a') in events, 'the supervisor stopped its children')
    top._actor.stopped.wait(30)
    assert log.take() == [('stop returned', 'b', True), ('stop', 'b'), ('stop', 'a')]
    assert top.statistics().state == 'stopped'
    assert not stopper.is_alive()


@pytest.mark.parametrize('exc', BASE_EXCEPTIONS, ids=lambda e: type(e).__name__)
def test_identity_mailbox_and_state_across_a_restart(supervisor: gatasker.TaskSupervisor,
                                                     log: Log, exc: BaseException) -> None:
    sup = ActorSupervisor.spawn([ChildSpec(Child, log, base=7, fails_with=lambda: exc,
                                           name='x')], supervisor=supervisor)
    [child] = sup.children()
    log.wait_len(1)
    child.tell('before')
    assert child.ask('state', timeout=10)[:2] == (7, ['before'])
    first = child.ask('state', timeout=10)[2]
    gate = Latch()
    child.tell(gate)  # holds the child while everything below queues up
    told = [1, 2, 3, 4, 'fail', 5, 6, 7, 8, 9]
    for message in told:
        child.tell(message)
    gate.set()
    base, seen, incarnation = child.ask('state', timeout=30)
    assert (base, seen) == (7, [5, 6, 7, 8, 9])  # rebuilt from the arguments, then the rest
    assert incarnation != first
    handled = [e[2] for e in log.events if e[0] == 'handled']
    assert handled == ['before', 1, 2, 3, 4, 5, 6, 7, 8, 9]  # N - 1 of N told
    assert ('failed', 'x', type(exc).__name__) in log.events  # the failing one, reported
    assert sup.children() == [child] and child.is_alive()
    sup.stop()


def test_a_failed_ask_raises_and_the_next_ask_is_answered_by_the_restarted_actor(
        supervisor: gatasker.TaskSupervisor, log: Log) -> None:
    sup = ActorSupervisor.spawn([ChildSpec(Child, log, name='x')], supervisor=supervisor)
    [child] = sup.children()
    first = child.ask('state', timeout=10)[2]
    gate = Latch()
    child.tell(gate)
    failing = gevent.spawn(child.ask, 'fail', 30)
    behind = gevent.spawn(child.ask, 'state', 30)
    gevent.sleep(0)  # both asks are sent, in this order
    gate.set()
    with pytest.raises(ValueError, match='fail'):
        failing.get(timeout=30)
    assert behind.get(timeout=30)[2] != first
    sup.stop()


RESTARTED = {('permanent', 'normal'): True, ('permanent', 'failure'): True,
             ('transient', 'normal'): False, ('transient', 'failure'): True,
             ('temporary', 'normal'): False, ('temporary', 'failure'): False}


@pytest.mark.parametrize('restart, end', list(RESTARTED))
def test_restart_types(supervisor: gatasker.TaskSupervisor, log: Log, restart: str,
                       end: str) -> None:
    sup = ActorSupervisor.spawn([ChildSpec(Child, log, restart=restart, name='x')],
                                supervisor=supervisor)
    [child] = sup.children()
    log.wait_len(1)
    if end == 'normal':
        child.stop()
        stats = sup.ask(None, timeout=30)
    else:
        child.tell('fail')
        stats = settle(sup, child)
    assert stats is not None
    assert child.is_alive() is RESTARTED[restart, end]
    assert stats.children[0].state == ('running' if RESTARTED[restart, end] else 'stopped')
    assert stats.children[0].restarts == int(RESTARTED[restart, end])
    assert (('start', 'x') in log.events[1:]) is RESTARTED[restart, end]
    sup.stop()


class Leaf(Child):
    pass


def test_crash_loop_escalates_two_levels(supervisor: gatasker.TaskSupervisor, log: Log,
                                         events: list[Any]) -> None:
    mid_spec = ChildSpec(ActorSupervisor, [ChildSpec(Leaf, log, name='leaf')],
                         max_restarts=1, within=3600, name='mid')
    top = ActorSupervisor.spawn([mid_spec], max_restarts=1, within=3600, name='top',
                                supervisor=supervisor)
    watcher = Watcher.spawn(supervisor=supervisor)
    watcher.watch(top)
    [mid] = top.children()
    assert isinstance(mid, ActorSupervisor)
    [leaf] = mid.children()

    def fail_and_wait_for_start(count: int) -> None:
        leaf.tell('fail')
        log.wait(lambda events: events.count(('start', 'leaf')) >= count, f'start {count}')

    log.wait_len(1)
    fail_and_wait_for_start(2)  # mid restarts the leaf (1 of 1)
    fail_and_wait_for_start(3)  # mid gives up; top restarts mid (1 of 1), mid starts the leaf
    assert top.children() == [mid] and mid.children() == [leaf]  # same objects throughout
    fail_and_wait_for_start(4)  # the restarted mid counts afresh: restarts the leaf
    leaf.tell('fail')  # mid gives up, and so does top
    [ended] = watcher.wait_for(1)
    assert ended.actor is top and isinstance(ended.reason, SupervisionFailed)
    assert isinstance(ended.reason.__cause__, SupervisionFailed)  # mid's
    assert isinstance(ended.reason.__cause__.__cause__, ValueError)  # the leaf's
    assert not any(x.is_alive() for x in (top, mid, leaf))
    restarted = [(e.actor.name, type(e.reason).__name__) for e in events
                 if isinstance(e, ActorRestarted)]
    assert restarted == [('leaf', 'ValueError'), ('mid', 'SupervisionFailed'),
                         ('leaf', 'ValueError')]
    terminated = [e.actor.name for e in events if isinstance(e, ActorTerminated)]
    assert terminated == ['leaf', 'leaf', 'mid']  # top has no supervisor to publish it
    watcher.stop()


class Watcher(Actor):
    def __init__(self) -> None:
        self.log = Log()

    def on_receive(self, message: Any) -> None:
        self.log.add(message)

    def wait_for(self, count: int) -> list[Any]:
        return self.log.wait_len(count)


def test_on_restart_failing_counts_as_a_failure(supervisor: gatasker.TaskSupervisor,
                                                 log: Log) -> None:
    class BadRestart(Child):
        def on_restart(self, exc: BaseException | None) -> None:
            super().on_restart(exc)
            raise KeyboardInterrupt

    sup = ActorSupervisor.spawn([ChildSpec(BadRestart, log, name='x')], max_restarts=2,
                                within=3600, supervisor=supervisor)
    watcher = Watcher.spawn(supervisor=supervisor)
    watcher.watch(sup)
    [child] = sup.children()
    child.tell('fail')
    [ended] = watcher.wait_for(1)
    assert isinstance(ended.reason, SupervisionFailed)
    assert isinstance(ended.reason.__cause__, KeyboardInterrupt)
    assert [e[0] for e in log.events].count('restart') == 2  # then the limit
    assert not child.is_alive()
    watcher.stop()


def test_a_child_that_does_not_start_fails_the_supervisor(supervisor: gatasker.TaskSupervisor,
                                                          log: Log) -> None:
    class NoStart(Child):
        def on_start(self) -> None:
            raise SystemExit(1)

    sup = ActorSupervisor.spawn([ChildSpec(Child, log, name='a'), ChildSpec(NoStart, log)],
                                supervisor=supervisor)
    watcher = Watcher.spawn(supervisor=supervisor)
    watcher.watch(sup)
    [ended] = watcher.wait_for(1)
    assert isinstance(ended.reason, SupervisionFailed)
    assert isinstance(ended.reason.__cause__, SystemExit)
    assert ('stop', 'a') in log.events and not sup.children()[0].is_alive()
    watcher.stop()


def test_backoff_delays_the_restart(supervisor: gatasker.TaskSupervisor, log: Log) -> None:
    # The same failure under two supervisors: the one without backoff restarts
    # first, and a message told while the slow child is down waits for it.
    slow = ActorSupervisor.spawn([ChildSpec(Child, log, name='slow')], backoff=(2.0, 2.0),
                                 supervisor=supervisor)
    fast = ActorSupervisor.spawn([ChildSpec(Child, log, name='fast')], supervisor=supervisor)
    [slow_child], [fast_child] = slow.children(), fast.children()
    log.wait_len(2)
    log.take()
    slow_child.tell('fail')
    log.wait(lambda events: ('stop', 'slow') in events)
    fast_child.tell('fail')
    slow_child.tell('queued while down')
    assert slow.statistics().children[0].state == 'restarting'
    events = log.wait(lambda events: ('handled', 'slow', 'queued while down') in events)
    names = [e[:2] for e in events if e[0] in ('start', 'handled')]
    assert names == [('start', 'fast'), ('start', 'slow'), ('handled', 'slow')]
    slow.stop()
    fast.stop()


def test_stop_during_a_backoff_does_not_wait_for_it(supervisor: gatasker.TaskSupervisor,
                                                    log: Log) -> None:
    sup = ActorSupervisor.spawn([ChildSpec(Child, log, name='x')], backoff=(3600, 3600),
                                supervisor=supervisor)
    [child] = sup.children()
    child.tell('fail')
    log.wait(lambda events: ('stop', 'x') in events)
    assert sup.stop()  # a hang here would trip the test timeout
    assert not child.is_alive() and not sup.is_alive()
    assert log.events.count(('start', 'x')) == 1


@pytest.mark.parametrize('exc', [ValueError('bad'), SystemExit(2), KeyboardInterrupt(),
                                 gevent.Timeout()], ids=lambda e: type(e).__name__)
def test_a_queue_worker_that_fails_on_errors_keeps_its_queue(
        supervisor: gatasker.TaskSupervisor, log: Log, exc: BaseException) -> None:
    done = Log()
    gate = Latch()

    def executor(item: Any, **_: Any) -> None:
        if item == 'hold':
            gate.wait(30)
        elif item == 'fail':
            raise exc
        else:
            done.add(item)

    class Strict(BackgroundQueueWorker):
        fail_on_error = True

        def on_restart(self, exc: BaseException | None) -> None:
            log.add(('restart', type(exc).__name__))

    sup = ActorSupervisor.spawn([ChildSpec(Strict, func=executor, name='w')],
                                supervisor=supervisor)
    [worker] = sup.children()
    assert isinstance(worker, BackgroundQueueWorker)
    for item in ['hold', 1, 2, 'fail', 3, 4]:
        worker.put(item)
    gate.set()
    assert done.wait_len(4) == [1, 2, 3, 4]
    assert log.events == [('restart', type(exc).__name__)]
    assert sup.statistics().children[0].restarts == 1
    sup.stop()


def test_a_worker_logs_and_goes_on_by_default(supervisor: gatasker.TaskSupervisor) -> None:
    done = Log()

    def executor(item: Any, **_: Any) -> None:
        if item == 'fail':
            raise ValueError(item)
        done.add(item)

    sup = ActorSupervisor.spawn([ChildSpec(BackgroundQueueWorker, func=executor)],
                                supervisor=supervisor)
    [worker] = sup.children()
    for item in [1, 'fail', 2]:
        worker.tell(item)
    assert done.wait_len(2) == [1, 2]
    assert sup.statistics().children[0].restarts == 0
    sup.stop()


def test_one_warning_per_restart_with_its_cause(supervisor: gatasker.TaskSupervisor, log: Log,
                                                caplog: pytest.LogCaptureFixture) -> None:
    sup = ActorSupervisor.spawn(three(log), strategy='one_for_all', supervisor=supervisor)
    _a, b, _c = started(log, sup)
    with caplog.at_level(logging.WARNING, logger='gatasker'):
        b.tell('fail')
        settle(sup, b)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING
                and 'restarting' in r.getMessage()]
    assert len(warnings) == 1
    assert "ValueError('fail')" in warnings[0].getMessage()
    sup.stop()


def test_statistics(supervisor: gatasker.TaskSupervisor, log: Log) -> None:
    sup = ActorSupervisor.spawn(three(log, restart='transient'), strategy='rest_for_one',
                                max_restarts=5, within=3600, name='s', supervisor=supervisor)
    a, _b, c = started(log, sup)
    a.tell('fail')
    settle(sup, a)
    c.stop()
    stats = sup.ask(None, timeout=30)
    assert stats == gatasker.ActorSupervisorStatistics(
        name='s', strategy='rest_for_one', state='running',
        children=(gatasker.ChildStatistics('a', 'transient', 'running', 1),
                  gatasker.ChildStatistics('b', 'transient', 'running', 1),
                  gatasker.ChildStatistics('c', 'transient', 'stopped', 1)),
        restarts_in_window=1, max_restarts=5, within=3600.0)
    sup.stop()
    assert sup.statistics().state == 'stopped'


def test_bad_input_is_refused_at_the_call(supervisor: gatasker.TaskSupervisor, log: Log) -> None:
    with pytest.raises(TypeError):
        ChildSpec('not callable')  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ChildSpec(Child, log, restart='sometimes')
    for bad in [dict(strategy='one_for_some'), dict(max_restarts=-1), dict(within=0),
                dict(backoff=(2.0, 1.0)), dict(backoff=(-1.0, 1.0))]:
        with pytest.raises(ValueError):
            ActorSupervisor.spawn([ChildSpec(Child, log)], supervisor=supervisor, **bad)
    with pytest.raises(TypeError):
        ActorSupervisor.spawn([Child], supervisor=supervisor)  # type: ignore[list-item]
    with pytest.raises(TypeError):
        ActorSupervisor.spawn([ChildSpec(lambda: 'no actor')], supervisor=supervisor)  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError):
        ActorSupervisor.spawn([], backoff=1.0, supervisor=supervisor)  # type: ignore[arg-type]
    assert log.events == [] and supervisor.get_info().actors == []


def test_a_factory_failing_at_restart_ends_the_child(supervisor: gatasker.TaskSupervisor,
                                                     log: Log) -> None:
    made = itertools.count()

    def factory() -> Child:
        if next(made) >= 1:
            raise KeyboardInterrupt  # a BaseException from the user's factory
        return Child(log)

    sup = ActorSupervisor.spawn([ChildSpec(factory, name='x')], supervisor=supervisor)
    [child] = sup.children()
    child.tell('fail')
    settle(sup, child)
    child._actor.stopped.wait(30)
    assert not child.is_alive() and sup.is_alive()
    sup.stop()


def test_supervisor_stop_stops_everything(log: Log) -> None:
    sup = gatasker.TaskSupervisor(supervisor_id='supervision-stop')
    sup.start()
    outer = ActorSupervisor.spawn(three(log), supervisor=sup)
    children = outer.children()
    log.wait_len(3)
    assert sup.stop(wait=30)
    assert not outer.is_alive() and not any(c.is_alive() for c in children)
    assert sorted(e for e in log.events if e[0] == 'stop') == [('stop', n) for n in 'abc']
    with pytest.raises(ActorNotRunning):
        children[0].tell('late')
    assert Terminated  # the public name exists for watchers of supervisors


def test_an_event_worker_is_triggered_again_after_its_restart(
        supervisor: gatasker.TaskSupervisor) -> None:
    runs = Log()

    def executor(**_: Any) -> None:
        runs.add('run')
        if len(runs.events) == 1:
            raise gevent.Timeout()  # the first run fails the worker

    restarted = Latch()

    class Strict(gatasker.BackgroundEventWorker):
        fail_on_error = True

        def on_restart(self, exc: BaseException | None) -> None:
            restarted.set()

    sup = ActorSupervisor.spawn([ChildSpec(Strict, func=executor)], supervisor=supervisor)
    [worker] = sup.children()
    assert isinstance(worker, gatasker.BackgroundEventWorker)
    assert verifyObject(gatasker.IActor, sup) and verifyObject(gatasker.IWorker, worker)
    worker.trigger()
    assert restarted.wait(30)
    worker.trigger()  # the same object, restarted
    runs.wait_len(2)
    assert sup.statistics().children[0].restarts == 1
    sup.stop()
    assert not worker.is_alive()


def test_a_child_failing_while_its_siblings_start_is_restarted(
        supervisor: gatasker.TaskSupervisor, log: Log) -> None:
    gate = Latch()

    class FailsAtOnce(Child):
        def on_start(self) -> None:
            super().on_start()
            if self.log.events.count(('start', self.name)) == 1:
                self.tell('fail')  # handled while the supervisor still starts b

    class SlowStart(Child):
        def on_start(self) -> None:
            super().on_start()
            assert gate.wait(30)

    specs = [ChildSpec(FailsAtOnce, log, name='a'), ChildSpec(SlowStart, log, name='b')]
    spawner = gevent.spawn(ActorSupervisor.spawn, specs, supervisor=supervisor)
    log.wait(lambda events: ('stop', 'a') in events, 'a failed and parked')
    gate.set()
    sup = spawner.get(timeout=30)
    a, _ = sup.children()
    assert a.ask('state', timeout=30)[2] is not None  # restarted, not ended
    stats = sup.ask(None, timeout=30)
    assert stats is not None and [c.state for c in stats.children] == ['running', 'running']
    assert [c.restarts for c in stats.children] == [1, 0]
    sup.stop()


def test_a_temporary_sibling_is_stopped_with_the_others_and_not_restarted(
        supervisor: gatasker.TaskSupervisor, log: Log) -> None:
    specs = [ChildSpec(Child, log, name='a'), ChildSpec(Child, log, restart='temporary', name='b'),
             ChildSpec(Child, log, name='c')]
    sup = ActorSupervisor.spawn(specs, strategy='one_for_all', supervisor=supervisor)
    a, b, _c = started(log, sup)
    a.tell('fail')
    stats = settle(sup, a)
    assert [e for e in log.take() if e[0] != 'handled'] == [
        ('failed', 'a', 'ValueError'), ('stop', 'a'), ('stop', 'c'), ('stop', 'b'),
        ('restart', 'a', 'ValueError'), ('start', 'a'), ('restart', 'c', 'ValueError'),
        ('start', 'c')]
    assert [(ch.state, ch.restarts) for ch in stats.children] == [
        ('running', 1), ('stopped', 0), ('running', 1)]
    assert not b.is_alive()
    sup.stop()


def test_a_stopped_worker_child_starts_again_with_its_last_arguments(
        supervisor: gatasker.TaskSupervisor) -> None:
    # A supervisor starts an ended worker child as its last start did (a worker
    # keeps its state across restarts): `_restarts.start_child`, with a guardian
    # that only reports the start.
    runs = Log()

    def executor(*args: Any, **_: Any) -> bool:
        runs.add(args)
        return False  # one run, then the worker stops

    worker = gatasker.BackgroundWorker(func=executor, supervisor=supervisor)
    worker.start(7, 8)
    assert runs.wait_len(1) == [(7, 8)]
    assert cell_of(worker).stopped.wait(30)

    class Guardian:
        def starting(self, child: Any) -> None:
            pass

        def started(self, child: Any) -> None:
            record.up = True
            record.started.set()

        def restart(self, child: Any, failure: BaseException) -> bool:
            return False

    record = ChildRecord(ChildSpec(gatasker.BackgroundWorker, func=executor), worker)
    assert start_child(record, Guardian(), 'key', lambda actor, reason: None, 'owner')
    assert runs.wait_len(2) == [(7, 8), (7, 8)]
    worker.stop()
