"""Scale contenders: many idle actors, and a very deep task queue.

Each returns several metrics at once (``{metric: (value, unit)}``): building
100,000 actors or queuing 1,000,000 tasks is the expensive part, so one run
measures everything about it. Nothing is torn down at the end: the child
process exits right after printing (``child.py``), and stopping 100,000
actors would only time the shutdown.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

from benchmarks.contenders import rss_kib

MESSAGES = 10  # told to every actor
PROBES = 200  # CRITICAL tasks put while the queue is full
SLOTS = 25  # all busy while the LOW tasks queue up

Metrics = dict[str, tuple[float, str]]


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


# -- n actors, each told MESSAGES messages -------------------------------------------

def _actor_metrics(grown_kib: int, n: int, spawned: float, told: float) -> Metrics:
    return {'actor_memory': (grown_kib / n, 'KiB each'),
            'actor_spawn': (n / spawned, 'actors/s'),
            'actor_rate': (n * MESSAGES / told, 'msgs/s')}


def _spawn_and_tell(n: int, spawn: Callable[[], Any], settle: Callable[[Any], Any],
                    tell_of: Callable[[Any], Callable[[Any], Any]],
                    done: Callable[[], Any]) -> Metrics:
    """Time *n* ``spawn()`` calls (until ``settle(last)`` returns: every actor
    started and idle) with the memory they took, then MESSAGES told to each."""
    gc.collect()
    before = rss_kib()
    started = time.perf_counter()
    actors = [spawn() for _ in range(n)]
    settle(actors[-1])
    spawned = time.perf_counter() - started
    gc.collect()
    grown = rss_kib() - before
    started = time.perf_counter()
    for actor in actors:
        tell = tell_of(actor)
        for i in range(MESSAGES):
            tell(i)
    done()
    return _actor_metrics(grown, n, spawned, time.perf_counter() - started)


def scale_actors_gatasker_patched(n: int) -> Metrics:
    import gatasker
    from gatasker._bridge import Latch
    done = Latch()
    left = [n * MESSAGES]

    class Counter(gatasker.Actor):
        def on_receive(self, message: Any) -> Any:
            if message is not None:
                left[0] -= 1
                if not left[0]:
                    done.set()

    sup = gatasker.TaskSupervisor()
    sup.start()
    Counter.spawn(supervisor=sup).ask(None)  # warm up
    # the last actor answering means every actor's greenlet started and parked
    return _spawn_and_tell(n, lambda: Counter.spawn(supervisor=sup),
                           lambda last: last.ask(None), lambda actor: actor.tell, done.wait)


def scale_actors_bare_gevent_patched(n: int) -> Metrics:
    """One greenlet on one ``gevent.queue.Queue`` per actor: the least an actor is."""
    import gevent
    from gevent.event import Event
    from gevent.queue import Queue
    done = Event()
    left = [n * MESSAGES]

    def loop(inbox: Any) -> None:
        while True:
            if inbox.get() is not None:
                left[0] -= 1
                if not left[0]:
                    done.set()

    def spawn() -> Any:
        inbox: Any = Queue()
        gevent.spawn(loop, inbox)
        return inbox

    spawn()
    gevent.sleep(0)
    # one yield: every greenlet started and waits on its queue
    return _spawn_and_tell(n, spawn, lambda last: gevent.sleep(0), lambda inbox: inbox.put,
                           done.wait)


def scale_actors_pykka(n: int) -> Metrics:
    """pykka's ThreadingActor: one OS thread per actor (hence fewer of them)."""
    import threading

    import pykka
    done = threading.Event()
    lock = threading.Lock()
    left = [n * MESSAGES]

    class Counter(pykka.ThreadingActor):
        def on_receive(self, message: Any) -> Any:
            if message is not None:
                with lock:
                    left[0] -= 1
                    if not left[0]:
                        done.set()

    Counter.start().ask(None)
    metrics = _spawn_and_tell(n, Counter.start, lambda last: last.ask(None),
                              lambda ref: ref.tell, done.wait)
    pykka.ActorRegistry.stop_all()  # its threads would keep the process alive
    return metrics


# -- n LOW tasks queued behind a saturated pool --------------------------------------

def _queue_metrics(grown_kib: int, n: int, latencies: list[float], drained: float) -> Metrics:
    return {'queue_memory': (grown_kib * 1024 / n, 'bytes each'),
            'queue_critical': (_percentile(latencies, 0.99) * 1000, 'ms p99'),
            'queue_drain': (n / drained, 'tasks/s')}


def _scale_queue_gatasker(n: int, tt_name: str) -> Metrics:
    import gatasker
    from gatasker._bridge import Latch
    tt = getattr(gatasker, tt_name)
    sup = gatasker.TaskSupervisor(pool_size=SLOTS, reserve_normal=0, reserve_high=0)
    sup.set_greenlet_pool(pool_size=SLOTS, reserve_normal=0, reserve_high=0)
    sup.start()
    gate, drained = Latch(), Latch()
    left = [n]

    def low(**_: Any) -> None:
        left[0] -= 1  # one slot at a time in the greenlet tier; the GIL in the thread tier
        if not left[0]:
            drained.set()

    gatasker.wait_completed([sup.put_task(low, tt=tt) for _ in range(100)])  # warm up
    left[0] = n
    blockers = [sup.put_task(lambda **_: gate.wait(), tt=tt) for _ in range(SLOTS)]
    gc.collect()
    before = rss_kib()
    put = sup.put_task
    for _ in range(n):
        put(low, tt=tt, priority=gatasker.TASK_LOW)
    # the supervisor took every put (its inbox is FIFO) once it answers a later one
    gatasker.wait_completed(put(lambda **_: None, tt=tt, priority=gatasker.TASK_CRITICAL))
    gc.collect()
    grown = rss_kib() - before
    latencies: list[float] = []
    for _ in range(PROBES):
        box: list[float] = []
        queued = time.perf_counter()
        put(lambda box=box, **_: box.append(time.perf_counter()), tt=tt,
            priority=gatasker.TASK_CRITICAL).wait()
        latencies.append(box[0] - queued)
    started = time.perf_counter()
    gate.set()
    drained.wait()
    elapsed = time.perf_counter() - started
    gatasker.wait_completed(blockers)
    return _queue_metrics(grown, n, latencies, elapsed)


def scale_queue_gatasker_patched(n: int) -> Metrics:
    return _scale_queue_gatasker(n, 'TT_GREENLET')


def scale_queue_gatasker(n: int) -> Metrics:
    return _scale_queue_gatasker(n, 'TT_THREAD')


def scale_queue_bare_gevent_patched(n: int) -> Metrics:
    """SLOTS greenlets serving a ``gevent.queue.PriorityQueue``; CRITICAL work
    gets a greenlet of its own at once, as in gatasker."""
    import itertools

    import gevent
    from gevent.event import AsyncResult, Event
    from gevent.queue import PriorityQueue
    queue: Any = PriorityQueue()
    seq = itertools.count()
    gate, drained = Event(), Event()
    left = [n]
    LOW, CRITICAL = 200, 0

    def low() -> None:
        left[0] -= 1
        if not left[0]:
            drained.set()

    def serve() -> None:
        while True:
            queue.get()[2]()

    def put(func: Any, priority: int) -> AsyncResult:
        result = AsyncResult()

        def run() -> None:
            result.set(func())

        if priority == CRITICAL:
            gevent.spawn(run)
        else:
            queue.put((priority, next(seq), run))
        return result

    for _ in range(SLOTS):
        gevent.spawn(serve)
    for result in [put(low, LOW) for _ in range(100)]:
        result.get()
    left[0] = n
    blockers = [put(gate.wait, LOW) for _ in range(SLOTS)]
    gevent.sleep(0)
    gc.collect()
    before = rss_kib()
    for _ in range(n):
        put(low, LOW)
    gc.collect()
    grown = rss_kib() - before
    latencies: list[float] = []
    for _ in range(PROBES):
        box: list[float] = []
        queued = time.perf_counter()
        put(lambda box=box: box.append(time.perf_counter()), CRITICAL).get()
        latencies.append(box[0] - queued)
    started = time.perf_counter()
    gate.set()
    drained.wait()
    elapsed = time.perf_counter() - started
    for result in blockers:
        result.get()
    return _queue_metrics(grown, n, latencies, elapsed)
