"""What the OS-thread hand-offs cost here: ``python scripts/handoff_probe.py [N] [options]``.

Two sections, each row measured in one process, the rows of a round
interleaved, ``--rounds`` rounds (median per row): compare rows, not runs.

``ask`` — N sequential round trips from a plain thread to a server thread.
An ``ask`` from a plain thread to an actor (threaded mode) is two hand-offs
between OS threads, the request into the hub's thread and the answer back:

* ``lock pair``: two threads passing a message through two locks, the floor;
* ``queue pair``: the same through two ``queue.Queue`` (what pykka uses);
* ``hub bridge``: a plain thread wakes a greenlet in a hub thread with an
  async watcher (eventfd write, epoll wake-up, greenlet switch), and the
  greenlet answers through a lock;
* ``inbox+latch``: gatasker's own bridge without the actor: the plain thread
  puts into an ``Inbox`` served by a greenlet of the hub, which sets a
  ``Latch`` the thread waits on;
* ``pykka ask`` and ``gatasker ask`` (threaded mode), when installed.

``batch`` — N no-op tasks put from a plain thread, then waited for, 25 threads:
``ThreadPoolExecutor(25)`` against gatasker's thread tier (``pool_size=25``,
no reserves), as the ``thread`` benchmark, and the same tier with N slots on
its 25 threads (``N slots``: the hub never holds a task back for a free slot).

Each row prints the wall time and the CPU time (every thread of the process)
per operation, and, on Linux, the voluntary context switches per operation
(a thread that blocks on a lock, a queue, epoll or the GIL): each one is a
hand-off whose wake-up the other side paid for. ``batch`` splits the CPU time
and the switches between the caller, the hub thread and the pool threads.

A hand-off costs several times more when the two threads run on two CPUs
than when the scheduler keeps them on one (an idle virtual CPU must be woken):
``--pin`` runs everything on CPU 0 to show the one-CPU floor.
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple


class Sample(NamedTuple):
    wall: float  # seconds per operation
    cpu: float  # seconds of CPU, every thread, per operation
    switches: float  # voluntary context switches per operation (NaN when unknown)
    split: dict[str, tuple[float, float]]  # thread kind -> (CPU s, switches) per operation


def _threads() -> dict[int, tuple[float, int]]:
    """Native thread id -> (CPU seconds, voluntary switches), from /proc (Linux)."""
    out: dict[int, tuple[float, int]] = {}
    try:
        tids = os.listdir('/proc/self/task')
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f'/proc/self/task/{tid}/schedstat') as f:
                ran = int(f.read().split()[0]) / 1e9
            with open(f'/proc/self/task/{tid}/status') as f:
                status = f.read()
        except (OSError, ValueError, IndexError):
            continue
        switches = int(status.split('voluntary_ctxt_switches:')[1].split()[0])
        out[int(tid)] = (ran, switches)
    return out


def _measure(n: int, operation: Callable[[], Any],
             kinds: Callable[[int], str] | None = None) -> Sample:
    """Time *operation*, which does n operations; *kinds* names each thread."""
    before = _threads()
    started, cpu = time.perf_counter(), time.process_time()
    operation()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    after = _threads()
    split: dict[str, tuple[float, float]] = {}
    total = 0
    for tid, (ran, switches) in after.items():
        ran0, switches0 = before.get(tid, (0.0, 0))
        total += switches - switches0
        if kinds is not None:
            kind = kinds(tid)
            old = split.get(kind, (0.0, 0.0))
            split[kind] = (old[0] + (ran - ran0) / n, old[1] + (switches - switches0) / n)
    return Sample(wall / n, cpu / n, total / n if after else float('nan'), split)


def _round_trips(n: int, round_trip: Callable[[], Any]) -> Sample:
    for _ in range(min(n, 1000)):  # warm up
        round_trip()

    def run() -> None:
        for _ in range(n):
            round_trip()

    return _measure(n, run)


# -- ask: sequential round trips ------------------------------------------------------

def lock_pair(n: int) -> Sample:
    request, answer = threading.Lock(), threading.Lock()
    request.acquire()
    answer.acquire()
    box: list[Any] = [None]

    def server() -> None:
        while True:
            request.acquire()
            if box[0] is None:
                return
            answer.release()

    thread = threading.Thread(target=server, daemon=True)
    thread.start()

    def round_trip() -> None:
        box[0] = 1
        request.release()
        answer.acquire()

    try:
        return _round_trips(n, round_trip)
    finally:
        box[0] = None
        request.release()
        thread.join()


def queue_pair(n: int) -> Sample:
    requests: queue.Queue[Any] = queue.Queue()
    answers: queue.Queue[Any] = queue.Queue()

    def server() -> None:
        while (item := requests.get()) is not None:
            answers.put(item)

    thread = threading.Thread(target=server, daemon=True)
    thread.start()
    try:
        return _round_trips(n, lambda: (requests.put(1), answers.get()))
    finally:
        requests.put(None)
        thread.join()


def hub_bridge(n: int) -> Sample:
    import gevent
    import gevent.event
    ready = threading.Lock()
    ready.acquire()
    answer = threading.Lock()
    answer.acquire()
    watchers: list[Any] = []
    stop = [False]

    def hub_thread() -> None:
        hub = gevent.get_hub()
        waiter = gevent.event.Event()
        watcher = hub.loop.async_()
        watcher.start(waiter.set)
        watchers.append(watcher)
        ready.release()
        while True:
            waiter.wait()
            waiter.clear()
            if stop[0]:
                break
            answer.release()
        watcher.close()
        hub.destroy(destroy_loop=True)

    thread = threading.Thread(target=hub_thread, daemon=True)
    thread.start()
    ready.acquire()
    watcher = watchers[0]

    def round_trip() -> None:
        watcher.send()
        answer.acquire()

    try:
        return _round_trips(n, round_trip)
    finally:
        stop[0] = True
        watcher.send()
        thread.join()


def inbox_latch(n: int) -> Sample:
    import gevent

    from gatasker._bridge import Inbox, Latch
    boxes: list[Inbox] = []
    ready = Latch()

    def hub_thread() -> None:
        inbox = Inbox()
        boxes.append(inbox)
        ready.set()
        while True:
            items = inbox.take()
            while items:
                func, args = items.popleft()
                if func is None:
                    inbox.close()
                    gevent.get_hub().destroy(destroy_loop=True)
                    return
                func(*args)

    thread = threading.Thread(target=hub_thread, daemon=True)
    thread.start()
    ready.wait()
    inbox = boxes[0]

    def round_trip() -> None:
        latch = Latch()
        inbox.put((latch.set, ()))
        latch.wait()

    try:
        return _round_trips(n, round_trip)
    finally:
        inbox.put((None, ()))  # type: ignore[arg-type]
        thread.join()


def pykka_ask(n: int) -> Sample | None:
    try:
        import pykka
    except ImportError:
        return None

    class Echo(pykka.ThreadingActor):  # type: ignore[misc]
        def on_receive(self, message: Any) -> Any:
            return message

    ref = Echo.start()
    try:
        return _round_trips(n, lambda: ref.ask(1))
    finally:
        ref.stop()


def gatasker_ask(n: int) -> Sample:
    import gatasker

    class Echo(gatasker.Actor):
        def on_receive(self, message: Any) -> Any:
            return message

    sup = gatasker.TaskSupervisor()
    sup.start()
    actor = Echo.spawn(supervisor=sup)
    try:
        return _round_trips(n, lambda: actor.ask(1))
    finally:
        actor.stop()
        sup.stop()


# -- batch: N no-op tasks, 25 threads ---------------------------------------------------

def _noop(*_: Any, **__: Any) -> None:
    return None


def executor_batch(n: int) -> Sample:
    from concurrent.futures import ThreadPoolExecutor
    caller = threading.get_native_id()

    def batch(count: int) -> None:
        for future in [pool.submit(_noop) for _ in range(count)]:
            future.result()

    with ThreadPoolExecutor(25) as pool:
        batch(100)  # warm up
        return _measure(n, lambda: batch(n), lambda tid: 'caller' if tid == caller else 'pool')


def gatasker_batch(n: int, slots: int = 25) -> Sample:
    import gatasker
    caller = threading.get_native_id()
    sup = gatasker.TaskSupervisor(pool_size=slots, reserve_normal=0, reserve_high=0, max_size=25)
    sup.start()
    # A greenlet-tier task runs in the hub's thread (threaded mode).
    hub = sup.put_task(lambda **_: threading.get_native_id(), tt=gatasker.TT_GREENLET).get()

    def batch(count: int) -> None:
        gatasker.wait_completed([sup.put_task(_noop) for _ in range(count)])

    def kind(tid: int) -> str:
        return 'caller' if tid == caller else 'hub' if tid == hub else 'pool'

    try:
        batch(100)  # warm up
        return _measure(n, lambda: batch(n), kind)
    finally:
        sup.stop()


_ASK: dict[str, Callable[[int], Sample | None]] = {
    'lock pair': lock_pair, 'queue pair': queue_pair, 'hub bridge': hub_bridge,
    'inbox+latch': inbox_latch, 'pykka ask': pykka_ask, 'gatasker ask': gatasker_ask,
}
def gatasker_batch_unlimited(n: int) -> Sample:
    # The same 25 threads, but as many slots as tasks: the hub hands every task
    # out at once, so no thread waits for the hub to free a slot (an upper bound
    # for letting a thread start its next task without a hub round trip).
    return gatasker_batch(n, slots=n)


_BATCH: dict[str, Callable[[int], Sample | None]] = {
    'ThreadPoolExecutor': executor_batch, 'gatasker thread': gatasker_batch,
    'gatasker N slots': gatasker_batch_unlimited,
}


def _report(title: str, rows: dict[str, list[Sample]]) -> None:
    print(f'-- {title} (median of {max(map(len, rows.values()), default=0)} rounds)')
    print(f'{"":20} {"per s":>9} {"wall us":>8} {"cpu us":>7} {"switches":>8}')
    for name, samples in rows.items():
        if not samples:
            print(f'{name:20} (not installed)')
            continue
        wall = statistics.median(s.wall for s in samples)
        cpu = statistics.median(s.cpu for s in samples)
        switches = statistics.median(s.switches for s in samples)
        line = f'{name:20} {1 / wall:9,.0f} {wall * 1e6:8.1f} {cpu * 1e6:7.1f} {switches:8.3f}'
        kinds = sorted({kind for s in samples for kind in s.split})
        if kinds:
            parts = []
            for kind in kinds:
                cpu_of = statistics.median(s.split.get(kind, (0, 0))[0] for s in samples)
                switches_of = statistics.median(s.split.get(kind, (0, 0))[1] for s in samples)
                parts.append(f'{kind} {cpu_of * 1e6:.1f}/{switches_of:.3f}')
            line += '   cpu us/switches: ' + ', '.join(parts)
        print(line, flush=True)


def _run(probes: dict[str, Callable[[int], Sample | None]], n: int, rounds: int,
         title: str) -> None:
    rows: dict[str, list[Sample]] = {name: [] for name in probes}
    for _ in range(rounds):
        for name, probe in probes.items():
            sample = probe(n)
            if sample is not None:
                rows[name].append(sample)
    _report(title, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('n', nargs='?', type=int, default=20_000,
                        help='round trips (ask) / tasks (batch) per row and round')
    parser.add_argument('--rounds', type=int, default=3, help='interleaved rounds (median)')
    parser.add_argument('--only', choices=('ask', 'batch'), action='append',
                        help='run one section (repeatable)')
    parser.add_argument('--pin', action='store_true', help='run every thread on CPU 0')
    options = parser.parse_args()
    if options.pin:
        os.sched_setaffinity(0, {0})
    print(f'load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs'
          f'{", pinned to CPU 0" if options.pin else ""}', flush=True)
    only = options.only or ['ask', 'batch']
    if 'ask' in only:
        _run(_ASK, options.n, options.rounds, f'ask: {options.n:,} round trips')
    if 'batch' in only:
        _run(_BATCH, options.n, options.rounds,
             f'batch: {options.n:,} no-op tasks, 25 threads, put then waited for')


if __name__ == '__main__':
    import gevent.event  # noqa: F401 - imported before any thread starts

    main()
