"""Priorities under load: a saturated thread tier serves HIGH before NORMAL before LOW."""

import threading

import gatasker
from gatasker import TASK_HIGH, TASK_LOW, TASK_NORMAL, TT_THREAD

order = []
lock = threading.Lock()
gate = threading.Event()


def job(name, **_):
    with lock:
        order.append(name)
    gate.wait(10)


with gatasker.TaskSupervisor(pool_size=1, reserve_normal=0, reserve_high=0) as sup:
    first = sup.put_task(job, ('busy',), tt=TT_THREAD)
    tasks = [sup.put_task(job, (f'{label}{i}',), priority=priority, tt=TT_THREAD)
             for i in range(2)
             for label, priority in (('low', TASK_LOW), ('normal', TASK_NORMAL),
                                     ('high', TASK_HIGH))]
    gate.set()
    gatasker.wait_completed([first, *tasks])

print(' -> '.join(order))
assert order == ['busy', 'high0', 'high1', 'normal0', 'normal1', 'low0', 'low1'], order
