"""Where interval workers' lateness comes from: ``python scripts/interval_probe.py MODE [SECONDS]``.

Run from the repository's root (MODE ``bare`` imports ``benchmarks.contenders``).

Runs 1,000 interval workers at 100 ms, monkey-patched, as the ``interval``
benchmark case does (MODE ``gatasker``), or 1,000 bare greenlets sleeping to
their grid points (MODE ``bare``, the floor), for SECONDS (default 8) after
one second of warm-up, next to a heartbeat greenlet that sleeps 1 ms at a
time. Prints, from the nearest point of each worker's grid:

* p50/p99 off the grid, and the CPU time per run (the steadier figure on a
  shared machine);
* the runs more than 5 ms off, grouped into bursts (runs within 10 ms of one
  another): a few bursts of hundreds of runs is a herd (workers firing
  together, each queued behind the others), many small ones is noise;
* the heartbeat's gaps over 5 ms: the process (or its hub) stalled for
  everyone, bare greenlets included.

Run it under ``chrt -f 1`` (root) to keep other processes from preempting it,
which is the nearest a loaded machine gets to a quiet one; compare MODEs in
one sitting.
"""

from __future__ import annotations

import itertools
import sys
import time

from gevent import monkey

monkey.patch_all()

import gevent  # noqa: E402  (after patch_all, as the benchmark's patched contenders)

INTERVAL = 0.1
WORKERS = 1000
LATE = 0.005  # seconds off the grid that count as late


def _start_gatasker(starts: list[list[float]]) -> None:
    import gatasker
    sup = gatasker.TaskSupervisor()
    sup.start()
    for runs in starts:
        gatasker.BackgroundIntervalWorker(
            func=lambda runs=runs, **_: runs.append(time.monotonic()), interval=INTERVAL,
            supervisor=sup, tt=gatasker.TT_GREENLET).start()


def _start_bare(starts: list[list[float]]) -> None:
    from benchmarks.contenders import sleep_to_grid  # the benchmark's own bare loop
    for runs in starts:
        gevent.spawn(sleep_to_grid, runs, INTERVAL)


def _heartbeat(beats: list[float]) -> None:
    while True:
        beats.append(time.monotonic())
        gevent.sleep(0.001)


def _bursts(late_at: list[float]) -> list[tuple[int, float]]:
    """(runs, seconds long) of each group of late runs within 10 ms of one another."""
    groups: list[list[float]] = []
    for at in sorted(late_at):
        if groups and at - groups[-1][-1] < 0.01:
            groups[-1].append(at)
        else:
            groups.append([at])
    return sorted(((len(g), g[-1] - g[0]) for g in groups), reverse=True)


def main(mode: str, seconds: float) -> None:
    starts: list[list[float]] = [[] for _ in range(WORKERS)]
    (_start_gatasker if mode == 'gatasker' else _start_bare)(starts)
    gevent.sleep(1.0)
    skip = [len(runs) for runs in starts]  # the warm-up's runs anchor, but do not count
    beats: list[float] = []
    gevent.spawn(_heartbeat, beats)
    cpu, wall = time.process_time(), time.monotonic()
    gevent.sleep(seconds)
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    off: list[tuple[float, float]] = []
    for runs, warm in zip(starts, skip, strict=True):
        first = runs[0]
        off.extend((run, abs(run - first - round((run - first) / INTERVAL) * INTERVAL))
                   for run in runs[warm:])
    lateness = sorted(d for _, d in off)
    count = len(lateness)
    bursts = _bursts([at for at, d in off if d > LATE])
    gaps = sorted((b - a for a, b in itertools.pairwise(beats)), reverse=True)
    print(f'{mode}: {count} runs, CPU {cpu / count * 1e6:.1f} us/run ({cpu / wall:.0%} of a core); '
          f'off the grid p50 {lateness[count // 2] * 1e3:.2f} ms, '
          f'p99 {lateness[int(0.99 * count)] * 1e3:.2f} ms, max {lateness[-1] * 1e3:.2f} ms')
    print(f'  {sum(n for n, _ in bursts)} runs over {LATE * 1e3:.0f} ms in {len(bursts)} bursts; '
          f'largest (runs, ms): {[(n, round(s * 1e3, 1)) for n, s in bursts[:5]]}')
    print(f'  heartbeat gaps over 5 ms: {sum(g > 0.005 for g in gaps)}; '
          f'largest (ms): {[round(g * 1e3, 1) for g in gaps[:5]]}')


if __name__ == '__main__':
    if len(sys.argv) < 2 or sys.argv[1] not in ('gatasker', 'bare'):
        sys.exit(__doc__)
    main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 8.0)
    import os

    os._exit(0)  # the workers' greenlets would keep the hub busy at exit
