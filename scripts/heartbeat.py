"""Worst gap of a 10 ms heartbeat greenlet while 1,000 greenlets each
``aloop.run()`` a coroutine sleeping 0.1 s.

    python scripts/heartbeat.py [--patched] [--rounds 5]
"""

from __future__ import annotations

import sys

if '--patched' in sys.argv:
    from gevent import monkey

    monkey.patch_all()

import argparse
import asyncio
import time

import gevent

import gatasker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--patched', action='store_true')
    parser.add_argument('--rounds', type=int, default=5)
    args = parser.parse_args()
    sup = gatasker.TaskSupervisor()
    sup.start()
    sup.set_greenlet_pool(pool_size=2000)
    aloop = sup.create_aloop('beat')
    gaps: list[float] = []
    running = [True]

    def heartbeat(**_: object) -> None:
        last = time.perf_counter()
        while running[0]:
            gevent.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last - 0.01)
            last = now

    async def nap() -> None:
        await asyncio.sleep(0.1)

    beat = sup.put_task(heartbeat, tt=gatasker.TT_GREENLET)
    for _ in range(args.rounds):
        sleepers = [sup.put_task(lambda **_: aloop.run(nap()), tt=gatasker.TT_GREENLET)
                    for _ in range(1000)]
        gatasker.wait_completed(sleepers)
    running[0] = False
    beat.wait()
    sup.stop()
    gaps.sort()
    print(f'mode={sup.mode or ("embedded" if args.patched else "threaded")} '
          f'ticks={len(gaps)} worst extra gap={gaps[-1] * 1000:.1f} ms '
          f'p99={gaps[int(len(gaps) * 0.99)] * 1000:.1f} ms')


if __name__ == '__main__':
    main()
