"""Soak: many tasks plus a steady stream of actor messages; RSS must not grow.

    python scripts/soak.py [--tasks 1000000] [--patched] [--tolerance-kib 8192]

Prints RSS every 100,000 tasks and exits 1 if RSS grows by more than the
tolerance after warm-up (the first 200,000 tasks): the supervisor keeps
nothing of finished tasks.
"""

from __future__ import annotations

import sys

if '--patched' in sys.argv:
    from gevent import monkey

    monkey.patch_all()

import argparse
import gc
import time
from typing import Any

import gatasker

BATCH = 10_000
REPORT = 100_000
WARM_UP = 200_000


def rss_kib() -> int:
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


class Sink(gatasker.Actor):
    def on_start(self) -> None:
        self.count = 0

    def on_receive(self, message: Any) -> Any:
        self.count += 1
        return self.count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--tasks', type=int, default=1_000_000)
    parser.add_argument('--patched', action='store_true')
    parser.add_argument('--tolerance-kib', type=int, default=8192)
    args = parser.parse_args()
    sup = gatasker.TaskSupervisor()
    sup.start()
    sink = Sink.spawn(supervisor=sup)
    tiers = (gatasker.TT_THREAD, gatasker.TT_GREENLET)
    started = time.perf_counter()
    baseline = None
    told = 0
    print(f'mode={sup.mode} tasks={args.tasks}', flush=True)
    for done in range(0, args.tasks, BATCH):
        tasks = [sup.put_task(lambda i, **_: i, (i,), tt=tiers[i % 2]) for i in range(BATCH)]
        for i in range(BATCH // 10):
            sink.tell(i)
        told += BATCH // 10
        gatasker.wait_completed(tasks)
        del tasks
        finished = done + BATCH
        if finished % REPORT == 0:
            assert sink.ask(None) == told + finished // REPORT  # the asks count too
            gc.collect()
            rss = rss_kib()
            if finished == WARM_UP:
                baseline = rss
            print(f'{finished:>9,} tasks  {told:>8,} messages  RSS {rss:>7,} KiB  '
                  f'{finished / (time.perf_counter() - started):>9,.0f} tasks/s', flush=True)
    final = rss_kib()
    sink.stop()
    sup.stop()
    if baseline is not None and final - baseline > args.tolerance_kib:
        print(f'FAIL: RSS grew {final - baseline:,} KiB after warm-up')
        return 1
    print(f'ok: RSS after warm-up {baseline} KiB, at the end {final} KiB')
    return 0


if __name__ == '__main__':
    sys.exit(main())
