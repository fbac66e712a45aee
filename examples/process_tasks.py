"""Process tasks: CPU-bound work in worker processes, by priority, in either mode.

Run it plain (``python examples/process_tasks.py``) or monkey-patched
(``python examples/process_tasks.py --patched``): the same code works in both.
Targets are module-level functions and the entry point is guarded, because
each worker process imports this script (as ``__mp_main__``) to find them.
"""

import os
import sys

if __name__ == '__main__' and '--patched' in sys.argv:
    from gevent import monkey

    monkey.patch_all()

import gatasker
from gatasker import TASK_CRITICAL, TASK_LOW, TT_MP


def crunch(n, **_):
    """Pure-Python CPU work: belongs in a process, not in a thread or greenlet."""
    return sum(i * i for i in range(n)), os.getpid()


def fails(**_):
    raise ValueError('this one fails, in another process')


class Squares(gatasker.BackgroundQueueWorker):
    """A queue worker whose executor runs in the process pool."""

    @staticmethod
    def run(item, **_):
        return item, item * item

    def process_result(self, result):
        print('worker got', result)
        if result[0] == 3:
            done.set()


async def on_an_aloop():
    return await gatasker.co_mp_apply(crunch, args=(1000,), supervisor=sup)


if __name__ == '__main__':
    from gatasker._bridge import Latch

    done = Latch()
    sup = gatasker.TaskSupervisor()
    sup.create_mp_pool(processes=2)
    with sup:
        print('mode:', sup.mode)
        # a burst of LOW work, then one CRITICAL task that goes first to a free process
        low = [sup.put_task(crunch, (200_000,), priority=TASK_LOW, tt=TT_MP) for _ in range(8)]
        urgent = sup.put_task(crunch, (10,), priority=TASK_CRITICAL, tt=TT_MP,
                              callback=lambda result: print('critical done:', result[0]))
        total, pid = urgent.get(timeout=60)
        assert pid != os.getpid()
        assert all(r[0] > 0 for r in gatasker.wait_completed(low, timeout=120))
        print(f'{len(low)} low tasks done on processes',
              sorted({r[1] for r in gatasker.wait_completed(low)}))

        # an exception in the target is the task's exception
        try:
            sup.put_task(fails, tt=TT_MP).get(timeout=60)
        except ValueError as exc:
            print('failed as expected:', exc)

        # a coroutine on an aloop awaits a process task without blocking its loop
        aloop = sup.create_aloop('cpu')
        print('from an aloop:', aloop.run(on_an_aloop())[0])

        worker = Squares(supervisor=sup)
        worker.start()
        for i in range(4):
            worker.put_threadsafe(i)
        assert done.wait(60)
        worker.stop()
    print('ok')
