"""Where the first TT_MP task's time goes: ``python scripts/mp_first_probe.py MODE``.

Run from the repository's root (it imports ``benchmarks.contenders``, whose
``small_cpu_task`` is the target, as in the ``mp_first`` benchmark case). A
pool of 2 processes is made and started; 1 s later tasks are timed:

* ``spawn-lazy``: the target's module is imported only under
  ``if __name__ == '__main__':``, as ``benchmarks.child`` does, so a spawned
  worker imports it when it unpickles its first task from it;
* ``spawn-top``: the module is imported at the top of this script, so a
  spawned worker has it from importing the main script as ``__mp_main__``;
* ``spawn-preload``: as ``spawn-lazy``, with ``preload=['benchmarks.contenders']``:
  each worker imports the module as it starts (the ``mp_first`` case does this);
* ``fork-lazy``: as ``spawn-lazy``, with ``start_method='fork'`` (the worker
  has the parent's modules);
* ``burst``: ``spawn-lazy``'s first task, then two tasks at once, one per
  process: the second process's first task from the module.

Prints milliseconds: the first three tasks one after the other, or for
``burst`` the first task and the pair. Compare the modes in one sitting.
"""

from __future__ import annotations

import sys
import time

MODES = ('spawn-lazy', 'spawn-top', 'spawn-preload', 'fork-lazy', 'burst')

if len(sys.argv) > 1 and sys.argv[1] == 'spawn-top':
    from benchmarks.contenders import small_cpu_task  # noqa: F401  (the point of the mode)


def _ms(started: float) -> str:
    return f'{(time.perf_counter() - started) * 1000:.2f}'


def main(mode: str) -> None:
    import gatasker
    from benchmarks.contenders import small_cpu_task

    sup = gatasker.TaskSupervisor()
    sup.create_mp_pool(processes=2, start_method='fork' if mode == 'fork-lazy' else 'spawn',
                       preload=['benchmarks.contenders'] if mode == 'spawn-preload' else ())
    sup.start()
    try:
        time.sleep(1)
        times = []
        for _ in range(1 if mode == 'burst' else 3):
            started = time.perf_counter()
            sup.put_task(small_cpu_task, tt=gatasker.TT_MP).wait()
            times.append(_ms(started))
        if mode == 'burst':
            time.sleep(0.2)  # the warm-up of the other process (if any) has gone out
            started = time.perf_counter()
            gatasker.wait_completed([sup.put_task(small_cpu_task, tt=gatasker.TT_MP)
                                     for _ in range(2)])
            times.append('pair ' + _ms(started))
        print(mode, *times, flush=True)
    finally:
        sup.stop()


if __name__ == '__main__':
    if len(sys.argv) != 2 or sys.argv[1] not in MODES:
        sys.exit(f'usage: python scripts/mp_first_probe.py {"|".join(MODES)}')
    main(sys.argv[1])
