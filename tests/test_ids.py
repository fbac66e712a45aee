"""Task ids: unique across processes (and after a fork), callers' own ids kept."""

from __future__ import annotations

import sys

import pytest
from conftest import run_python

import gatasker
from gatasker import _ids

PRINT_IDS = """
import gatasker
with gatasker.TaskSupervisor() as sup:
    print(' '.join(str(sup.put_task(lambda **_: None, tt=gatasker.TT_GREENLET).id)
                   for _ in range(3)))
"""


def test_ids_are_distinct_and_carry_the_process_prefix(
        supervisor: gatasker.TaskSupervisor) -> None:
    tasks = [supervisor.put_task(lambda **_: None, tt=gatasker.TT_GREENLET) for _ in range(100)]
    gatasker.wait_completed(tasks, timeout=30)
    ids = [task.id for task in tasks]
    assert len(set(ids)) == 100
    assert {task_id.rpartition('-')[0] for task_id in ids} == {_ids.process_prefix()}


def test_two_processes_never_share_an_id() -> None:
    runs = [run_python(PRINT_IDS) for _ in range(2)]
    for proc in runs:
        assert proc.returncode == 0, proc.stderr
    first, second = (set(proc.stdout.split()) for proc in runs)
    assert len(first) == len(second) == 3 and not first & second


def test_callers_own_id_is_kept(supervisor: gatasker.TaskSupervisor) -> None:
    task = supervisor.put_task(lambda **kw: kw['_task_id'], task_id=('order', 7))
    assert task.id == ('order', 7) and task.get(timeout=30) == ('order', 7)


@pytest.mark.skipif(sys.platform == 'win32', reason='os.fork')
def test_a_forked_child_draws_a_new_prefix() -> None:
    proc = run_python("""
        import os
        from gatasker import _ids
        parent = [_ids.new_task_id() for _ in range(2)]
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.write(write, ' '.join(_ids.new_task_id() for _ in range(2)).encode())
            os._exit(0)
        os.close(write)
        child = os.read(read, 1000).decode().split()
        os.waitpid(pid, 0)
        print(' '.join(parent), ' '.join(child), _ids.new_task_id())
    """)
    assert proc.returncode == 0, proc.stderr
    p1, p2, c1, c2, p3 = proc.stdout.split()
    assert len({p1, p2, c1, c2, p3}) == 5
    assert c1.rpartition('-')[0] != p1.rpartition('-')[0] == p3.rpartition('-')[0]
    assert c1.endswith('-1') and p3.endswith('-3')
