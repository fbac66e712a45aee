"""What one OS-thread hand-off costs here: ``python scripts/handoff_probe.py [N]``.

An ``ask`` from a plain thread to an actor (threaded mode) is two hand-offs
between OS threads: the request into the hub's thread, the answer back. This
probe times N round trips of each way of doing that, slowest parts first
isolated, in one process and one run (compare the rows, not runs):

* ``lock pair``: two threads passing a message through two locks, the floor;
* ``queue pair``: the same through two ``queue.Queue`` (what pykka uses);
* ``hub bridge``: a plain thread wakes a greenlet in a hub thread with an
  async watcher, and the greenlet answers through a lock (gatasker's path
  without the actor: eventfd write, epoll wake-up, greenlet switch);
* ``pykka ask`` and ``gatasker ask`` (threaded mode) when they are installed.

Prints round trips per second and microseconds per round trip.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import Any


def _time(name: str, n: int, round_trip: Callable[[], Any]) -> None:
    for _ in range(min(n, 1000)):  # warm up
        round_trip()
    started = time.perf_counter()
    for _ in range(n):
        round_trip()
    elapsed = time.perf_counter() - started
    print(f'{name:16} {n / elapsed:12,.0f} /s {elapsed / n * 1e6:8.1f} us', flush=True)


def lock_pair(n: int) -> None:
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

    _time('lock pair', n, round_trip)
    box[0] = None
    request.release()
    thread.join()


def queue_pair(n: int) -> None:
    requests: queue.Queue[Any] = queue.Queue()
    answers: queue.Queue[Any] = queue.Queue()

    def server() -> None:
        while (item := requests.get()) is not None:
            answers.put(item)

    thread = threading.Thread(target=server, daemon=True)
    thread.start()
    _time('queue pair', n, lambda: (requests.put(1), answers.get()))
    requests.put(None)
    thread.join()


def hub_bridge(n: int) -> None:
    import gevent
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

    thread = threading.Thread(target=hub_thread, daemon=True)
    thread.start()
    ready.acquire()
    watcher = watchers[0]

    def round_trip() -> None:
        watcher.send()
        answer.acquire()

    _time('hub bridge', n, round_trip)
    stop[0] = True
    watcher.send()
    thread.join()


def pykka_ask(n: int) -> None:
    try:
        import pykka
    except ImportError:
        print('pykka ask        (pykka is not installed)')
        return

    class Echo(pykka.ThreadingActor):
        def on_receive(self, message: Any) -> Any:
            return message

    ref = Echo.start()
    _time('pykka ask', n, lambda: ref.ask(1))
    ref.stop()


def gatasker_ask(n: int) -> None:
    import gatasker

    class Echo(gatasker.Actor):
        def on_receive(self, message: Any) -> Any:
            return message

    sup = gatasker.TaskSupervisor()
    sup.start()
    actor = Echo.spawn(supervisor=sup)
    _time('gatasker ask', n, lambda: actor.ask(1))
    actor.stop()
    sup.stop()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    for probe in (lock_pair, queue_pair, hub_bridge, pykka_ask, gatasker_ask):
        probe(n)


if __name__ == '__main__':
    import gevent.event  # noqa: F401 - imported before any thread starts

    main()
