"""Death-watch: Terminated(actor, reason) for normal and abnormal ends, no leaked watch."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import gevent
import pytest
from greenlet import GreenletExit

import gatasker
from gatasker import Actor, ActorNotRunning, Terminated
from gatasker._bridge import Latch, allocate_lock

BASE_EXCEPTIONS = [ValueError('boom'), SystemExit(3), KeyboardInterrupt(), GreenletExit(),
                   gevent.Timeout()]


class Watcher(Actor):
    """Records every message; a latch per expected count."""

    def __init__(self) -> None:
        self.seen: list[Any] = []
        self.lock = allocate_lock()
        self.waiters: list[tuple[int, Latch]] = []

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, tuple) and message[0] == 'watch':
            self.watch(message[1])
            return None
        if not isinstance(message, Terminated):
            return message
        with self.lock:
            self.seen.append(message)
            for count, latch in self.waiters:
                if len(self.seen) >= count:
                    latch.set()
        return None

    def wait_for(self, count: int) -> list[Any]:
        latch = Latch()
        with self.lock:
            self.waiters.append((count, latch))
            if len(self.seen) >= count:
                latch.set()
        assert latch.wait(20), f'only {self.seen}'
        return list(self.seen)


class Target(Actor):
    def __init__(self, fail_with: BaseException | None = None, at_start: bool = False) -> None:
        self.fail_with = fail_with
        self.at_start = at_start

    def on_start(self) -> None:
        if self.at_start and self.fail_with is not None:
            raise self.fail_with

    def on_receive(self, message: Any) -> Any:
        if message == 'fail' and self.fail_with is not None:
            raise self.fail_with
        return message

    def on_failure(self, exc: BaseException) -> bool:
        return False


def test_normal_end_is_terminated_with_no_reason(supervisor: gatasker.TaskSupervisor) -> None:
    watcher = Watcher.spawn(supervisor=supervisor)
    target = Target.spawn(supervisor=supervisor)
    watcher.watch(target)
    target.stop()
    assert watcher.wait_for(1) == [Terminated(target, None)]
    watcher.stop()


@pytest.mark.parametrize('exc', BASE_EXCEPTIONS, ids=lambda e: type(e).__name__)
def test_failing_handler_is_terminated_with_its_exception(
        supervisor: gatasker.TaskSupervisor, exc: BaseException) -> None:
    watcher = Watcher.spawn(supervisor=supervisor)
    target = Target.spawn(exc, supervisor=supervisor)
    watcher.tell(('watch', target))  # from the watcher's own handler
    assert watcher.ask(None, timeout=10) is None  # the watch is in place
    if isinstance(exc, GreenletExit):
        # a GreenletExit from a handler is the greenlet being killed: answered, then it ends
        with pytest.raises(GreenletExit):
            target.ask('fail', timeout=10)
        target._actor.stopped.wait(10)
    else:
        target.tell('fail')
    [message] = watcher.wait_for(1)
    assert message.actor is target
    assert message.reason is exc or isinstance(exc, GreenletExit)
    assert not target.is_alive()
    watcher.stop()


@pytest.mark.parametrize('exc', BASE_EXCEPTIONS, ids=lambda e: type(e).__name__)
def test_failing_on_start_is_terminated_with_its_exception(
        supervisor: gatasker.TaskSupervisor, exc: BaseException) -> None:
    watcher = Watcher.spawn(supervisor=supervisor)
    gate = Latch()

    class Slow(Target):
        def on_start(self) -> None:
            gate.wait(20)
            super().on_start()

    target = Slow.spawn(exc, at_start=True, supervisor=supervisor)
    watcher.watch(target)
    gate.set()
    assert watcher.wait_for(1) == [Terminated(target, exc)]
    watcher.stop()


def test_watching_an_ended_actor_reports_at_once(supervisor: gatasker.TaskSupervisor) -> None:
    watcher = Watcher.spawn(supervisor=supervisor)
    target = Target.spawn(supervisor=supervisor)
    target.stop()
    watcher.watch(target)
    assert watcher.wait_for(1) == [Terminated(target, None)]
    assert watcher._actor.exit_hooks == {}
    watcher.stop()


def test_no_watch_outlives_either_side(supervisor: gatasker.TaskSupervisor) -> None:
    watcher = Watcher.spawn(supervisor=supervisor)
    targets = [Target.spawn(supervisor=supervisor) for _ in range(5)]
    for target in targets:
        watcher.watch(target)
    assert len(watcher._actor.exit_hooks) == 5
    for target in targets[:3]:
        target.stop()
    watcher.wait_for(3)
    assert len(watcher._actor.exit_hooks) == 2  # the ended targets' watches are gone
    watcher.stop()
    for target in targets[3:]:
        assert target._actor.exit_hooks == {}  # the watcher's end removed its watches
        target.stop()
    assert watcher.seen == [Terminated(t, None) for t in targets[:3]]


def test_unwatch_stops_the_message(supervisor: gatasker.TaskSupervisor) -> None:
    watcher = Watcher.spawn(supervisor=supervisor)
    quiet, loud = Target.spawn(supervisor=supervisor), Target.spawn(supervisor=supervisor)
    watcher.watch(quiet)
    watcher.watch(loud)
    watcher.unwatch(quiet)
    quiet.stop()
    loud.stop()
    assert watcher.wait_for(1) == [Terminated(loud, None)]
    assert watcher.ask(None, timeout=10) is None  # anything from quiet would be in by now
    assert watcher.seen == [Terminated(loud, None)]
    watcher.stop()


@pytest.fixture
def other_supervisor() -> Iterator[gatasker.TaskSupervisor]:
    sup = gatasker.TaskSupervisor(supervisor_id=f'other{os.getpid()}')
    assert sup.start()
    yield sup
    sup.stop(wait=5)


def test_watch_across_supervisors(supervisor: gatasker.TaskSupervisor,
                                  other_supervisor: gatasker.TaskSupervisor) -> None:
    watcher = Watcher.spawn(supervisor=supervisor)
    target = Target.spawn(ValueError('far'), supervisor=other_supervisor)
    watcher.watch(target)
    target.tell('fail')
    [message] = watcher.wait_for(1)
    assert message.actor is target and isinstance(message.reason, ValueError)
    assert watcher._actor.exit_hooks == {} and target._actor.exit_hooks == {}
    watcher.stop()


def test_bad_input_is_refused(supervisor: gatasker.TaskSupervisor) -> None:
    watcher = Watcher.spawn(supervisor=supervisor)
    with pytest.raises(TypeError):
        watcher.watch('not an actor')  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        watcher.watch(watcher)
    assert watcher._actor.exit_hooks == {}
    watcher.stop()
    with pytest.raises(ActorNotRunning):
        watcher.watch(Target.spawn(supervisor=supervisor))


def test_on_failure_reraising_fails_the_actor(supervisor: gatasker.TaskSupervisor) -> None:
    class Reraising(Target):
        def on_failure(self, exc: BaseException) -> bool:
            raise exc

    watcher = Watcher.spawn(supervisor=supervisor)
    error = ValueError('again')
    target = Reraising.spawn(error, supervisor=supervisor)
    watcher.watch(target)
    target.tell('fail')
    assert watcher.wait_for(1) == [Terminated(target, error)]
    watcher.stop()


def test_an_actor_stopped_after_its_hub_ended_still_reports(
        supervisor: gatasker.TaskSupervisor, other_supervisor: gatasker.TaskSupervisor) -> None:
    watcher = Watcher.spawn(supervisor=supervisor)
    target = Target.spawn(supervisor=other_supervisor)
    watcher.watch(target)
    other_supervisor.stop(stop_schedulers=False)  # leaves the actor behind, its hub gone
    assert target.stop()
    assert watcher.wait_for(1) == [Terminated(target, None)]
    assert watcher._actor.exit_hooks == {}
    watcher.stop()
