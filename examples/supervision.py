"""Supervision: a supervisor restarts a failing actor in place, a pool routes
around a member that keeps failing, a watcher hears when the tree gives up.

Run it plain (``python examples/supervision.py``) or monkey-patched
(``python examples/supervision.py --patched``): the same code works in both.
"""

import sys

if __name__ == '__main__' and '--patched' in sys.argv:
    from gevent import monkey

    monkey.patch_all()

import logging
import threading

import gatasker
from gatasker import Actor, ActorPool, ActorSupervisor, ChildSpec, SupervisionFailed, Terminated

logging.getLogger('gatasker').setLevel(logging.CRITICAL)  # the example fails on purpose


class Account(Actor):
    """Keeps a balance; a withdrawal below zero is a bug that fails the actor."""

    def __init__(self, opening):
        self.balance = opening  # rebuilt from the same argument at every restart

    def on_restart(self, exc):
        print(f'  {self.name} restarts after {exc!r}')

    def on_receive(self, message):
        if message == 'balance':
            return self.balance
        if self.balance + message < 0:
            raise ValueError(f'overdrawn by {-(self.balance + message)}')
        self.balance += message
        return self.balance

    def on_failure(self, exc):
        return False  # not absorbed: let the supervisor restart the actor


class Audit(Actor):
    """Counts what it is told; restarted with its sibling (rest_for_one)."""

    def on_start(self):
        self.seen = 0

    def on_receive(self, message):
        self.seen += 1
        return self.seen


def restart_in_place():
    print('one supervisor, two children, rest_for_one:')
    sup = ActorSupervisor.spawn([ChildSpec(Account, 100, name='account'),
                                 ChildSpec(Audit, name='audit')],
                                strategy='rest_for_one', max_restarts=3, within=60)
    account, audit = sup.children()
    account.tell(50)
    try:
        account.ask(-500, timeout=10)  # the asker gets the exception...
    except ValueError as exc:
        print(f'  ask failed: {exc}')
    # ...and the same object answers again, rebuilt from Account(100).
    assert account.ask('balance', timeout=10) == 100
    assert sup.children() == [account, audit]
    stats = sup.ask(None, timeout=10)  # after every restart reported so far
    print(f'  {[(c.name, c.state, c.restarts) for c in stats.children]}')
    assert [c.restarts for c in stats.children] == [1, 1]
    sup.stop()


class Flaky(Actor):
    """A pool member; member 1 never manages to start."""

    def on_start(self):
        if self.name.endswith('-1'):
            raise ConnectionError('no database')

    def on_receive(self, message):
        return self.name, message * 2


def pool_routes_around_a_failing_member():
    print('an ActorPool of 3 with one member that always fails:')
    pool = ActorPool(Flaky, 3, 'least_busy', name='pool', backoff=(0.01, 0.5))
    answers = [pool.ask(n, timeout=10) for n in range(30)]
    assert [value for _, value in answers] == [n * 2 for n in range(30)]
    members = sorted({name for name, _ in answers})
    print(f'  30 answers from {members}')
    assert members == ['pool-0', 'pool-2']
    pool.stop()


class Watcher(Actor):
    def __init__(self):
        self.ended = threading.Event()
        self.reason = None

    def on_receive(self, message):
        if isinstance(message, Terminated):
            self.reason = message.reason
            self.ended.set()


def escalation():
    print('a crash loop escalates: leaf -> mid -> top:')
    mid = ChildSpec(ActorSupervisor, [ChildSpec(Account, 0, name='leaf')],
                    max_restarts=1, within=60, name='mid')
    top = ActorSupervisor.spawn([mid], max_restarts=0, within=60, name='top')
    watcher = Watcher.spawn()
    watcher.watch(top)
    [mid_actor] = top.children()
    [leaf] = mid_actor.children()
    leaf.tell(-1)  # mid restarts the leaf
    leaf.tell(-1)  # once too often for mid: mid fails, and top may not restart it
    assert watcher.ended.wait(10)
    reason = watcher.reason
    assert isinstance(reason, SupervisionFailed)
    print(f'  top ended: {reason}')
    print(f'    because {reason.__cause__}')
    print(f'    because {reason.__cause__.__cause__!r}')
    watcher.stop()


if __name__ == '__main__':
    restart_in_place()
    pool_routes_around_a_failing_member()
    escalation()
    print('mode:', gatasker.task_supervisor.mode)
    gatasker.task_supervisor.stop()
    print('ok')
