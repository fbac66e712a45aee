"""os.fork(): the child gets a working supervisor of its own, started afresh.

Each case runs in a fresh interpreter (patched in the patched run), which
starts a supervisor with an actor, a queue worker and the process tier,
holds one task queued, forks, and checks in the child that everything works
in the child's mode and that the parent's queued task runs in the parent only.
"""

from __future__ import annotations

import json
import sys

import pytest
from conftest import MODE, PATCHED, run_python

pytestmark = pytest.mark.skipif(sys.platform == 'win32', reason='os.fork')

FORK = """
import json, math, os, sys
import gatasker
from gatasker import TT_MP, TT_THREAD, TT_GREENLET

sup = gatasker.TaskSupervisor(pool_size=1, reserve_normal=0, reserve_high=0)
sup.set_greenlet_pool(pool_size=1, reserve_normal=0, reserve_high=0)
sup.start()
tt = sup.default_tt
ran = []  # (pid, what) of every task and executor run in this process

class Echo(gatasker.Actor):
    def on_receive(self, message):
        return os.getpid(), message

def consume(item, **_):
    ran.append((os.getpid(), item))

echo = Echo.spawn(supervisor=sup)
default_echo = Echo.spawn()  # on the default supervisor, started lazily by this spawn
worker = gatasker.BackgroundQueueWorker(func=consume, supervisor=sup)
worker.start()
# everything works in the parent, the process tier too (so it has a process)
assert echo.ask('hi', timeout=30) == (os.getpid(), 'hi')
assert sup.put_task(math.factorial, (5,), tt=TT_MP, _pass_task_id=False).get(timeout=60) == 120

release = []
def hold(**_):
    while not release:
        gatasker_sleep(0.01)
def note(tag, **_):
    ran.append((os.getpid(), tag))
    return os.getpid()
import gevent
gatasker_sleep = gevent.sleep if tt == TT_GREENLET else __import__('time').sleep
busy = sup.put_task(hold, tt=tt)
queued = sup.put_task(note, ('queued-in-parent',), tt=tt)

read, write = os.pipe()
pid = os.fork()
if pid == 0:
    out = {'pid': os.getpid()}
    try:
        out['state_before'] = sup.statistics().state
        out['inherited'] = [busy.is_canceled(), queued.is_canceled()]
        # the first use here is an ask: it starts the supervisor and the actor
        out['ask'] = echo.ask('again', timeout=30)
        out['mode'] = sup.mode
        out['default_ask'] = default_echo.ask('default', timeout=30)
        out['task'] = sup.put_task(note, ('child-task',), tt=tt).get(timeout=30)
        worker.put('child-item')
        for _ in range(3000):
            if (os.getpid(), 'child-item') in ran:
                break
            gevent.sleep(0.01)
        out['mp'] = sup.put_task(math.factorial, (6,), tt=TT_MP, _pass_task_id=False).get(timeout=60)
        out['ran'] = [what for p, what in ran if p == os.getpid()]
        out['stopped'] = sup.stop(wait=30)
    except BaseException as exc:
        out['error'] = repr(exc)
    os.write(write, json.dumps(out).encode())
    os._exit(0)
os.close(write)
_, status = os.waitpid(pid, 0)  # cooperative when patched; the pipe holds the answer
chunks = []
while True:
    chunk = os.read(read, 65536)
    if not chunk:
        break
    chunks.append(chunk)
release.append(True)
assert queued.get(timeout=30) == os.getpid()
worker.put('parent-item')
assert echo.ask('parent', timeout=30) == (os.getpid(), 'parent')
sup.stop(wait=30)
print(json.dumps({'child': json.loads(b''.join(chunks)), 'status': status,
                  'parent_ran': [what for p, what in ran if p == os.getpid()]}))
"""


def test_the_child_of_a_fork_gets_a_working_supervisor() -> None:
    proc = run_python(FORK, patched=PATCHED, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'Traceback' not in proc.stderr, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    child = result['child']
    assert 'error' not in child, child
    assert result['status'] == 0
    assert child['state_before'] == 'stopped'  # honest until the first use
    assert child['inherited'] == [True, True]  # the parent's tasks end here as canceled
    assert child['task'] == child['pid'] and child['mode'] == MODE
    assert child['ask'] == [child['pid'], 'again']  # the parent's actor runs again
    assert child['default_ask'] == [child['pid'], 'default']
    assert child['mp'] == 720 and child['stopped'] is True
    # the worker runs again; what was queued in the parent ran in the parent only
    assert child['ran'] == ['child-task', 'child-item']
    assert result['parent_ran'] == ['queued-in-parent', 'parent-item']
