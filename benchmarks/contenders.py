"""One function per contender. Each runs in a fresh process (see ``child.py``)
and returns ``(value, unit)``. Contenders named ``*_patched`` run after
``gevent.monkey.patch_all()``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

Result = tuple[float, str]


def _noop(*_: Any, **__: Any) -> None:
    return None


def _rate(count: int, seconds: float) -> Result:
    return count / seconds, 'tasks/s'


# -- 10,000 no-op tasks through a 25-slot thread tier -----------------------------

def thread_gatasker(n: int) -> Result:
    import gatasker
    sup = gatasker.TaskSupervisor(pool_size=25, reserve_normal=0, reserve_high=0)
    sup.start()
    gatasker.wait_completed([sup.put_task(_noop) for _ in range(100)])  # warm up
    started = time.perf_counter()
    tasks = [sup.put_task(_noop) for _ in range(n)]
    gatasker.wait_completed(tasks)
    elapsed = time.perf_counter() - started
    sup.stop()
    return _rate(n, elapsed)


def thread_atasker(n: int) -> Result:
    import atasker
    atasker.task_supervisor.set_thread_pool(pool_size=25, reserve_normal=0, reserve_high=0)
    atasker.task_supervisor.poll_delay = 0.01
    atasker.task_supervisor.start()
    task = atasker.background_task(_noop)
    atasker.wait_completed([task() for _ in range(100)])
    started = time.perf_counter()
    tasks = [task() for _ in range(n)]
    atasker.wait_completed(tasks)
    elapsed = time.perf_counter() - started
    atasker.task_supervisor.stop(wait=False)
    return _rate(n, elapsed)


def thread_gevent_threadpool(n: int) -> Result:
    from gevent.threadpool import ThreadPool
    pool = ThreadPool(25)
    for result in [pool.spawn(_noop) for _ in range(100)]:
        result.get()
    started = time.perf_counter()
    results = [pool.spawn(_noop) for _ in range(n)]
    for result in results:
        result.get()
    elapsed = time.perf_counter() - started
    pool.kill()
    return _rate(n, elapsed)


def thread_executor(n: int) -> Result:
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(25) as pool:
        for future in [pool.submit(_noop) for _ in range(100)]:
            future.result()
        started = time.perf_counter()
        futures = [pool.submit(_noop) for _ in range(n)]
        for future in futures:
            future.result()
        elapsed = time.perf_counter() - started
    return _rate(n, elapsed)


# -- 10,000 no-op calls through a concurrent.futures Executor, 25 threads ---------------

def _submit_and_wait(executor: Any, n: int) -> Result:
    from concurrent.futures import wait
    wait([executor.submit(_noop) for _ in range(100)])  # warm up
    started = time.perf_counter()
    wait([executor.submit(_noop) for _ in range(n)])
    return _rate(n, time.perf_counter() - started)


def executor_gatasker(n: int) -> Result:
    import gatasker
    sup = gatasker.TaskSupervisor(pool_size=25, reserve_normal=0, reserve_high=0)
    sup.start()
    with gatasker.Executor(sup) as executor:
        result = _submit_and_wait(executor, n)
    sup.stop()
    return result


def executor_threadpool(n: int) -> Result:
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(25) as executor:
        return _submit_and_wait(executor, n)


# -- 50,000 no-op cooperative tasks, 1,000 slots, monkey-patched ----------------------

def greenlet_gatasker_patched(n: int, watch_hub: float | None = None) -> Result:
    import gatasker
    sup = gatasker.TaskSupervisor()
    sup.set_greenlet_pool(pool_size=1000, reserve_normal=0, reserve_high=0)
    sup.watch_hub(watch_hub)
    sup.start()
    gatasker.wait_completed([sup.put_task(_noop, tt=gatasker.TT_GREENLET) for _ in range(100)])
    started = time.perf_counter()
    tasks = [sup.put_task(_noop, tt=gatasker.TT_GREENLET) for _ in range(n)]
    gatasker.wait_completed(tasks)
    elapsed = time.perf_counter() - started
    sup.stop()
    return _rate(n, elapsed)


def greenlet_gatasker_watchdog_patched(n: int) -> Result:
    """The greenlet case with the hub watchdog on (threshold 10 ms: a ping every 5 ms)."""
    return greenlet_gatasker_patched(n, watch_hub=0.01)


def greenlet_gevent_pool_patched(n: int) -> Result:
    from gevent.pool import Pool
    pool = Pool(1000)
    started = time.perf_counter()
    for _ in range(n):
        pool.spawn(_noop)
    pool.join()
    elapsed = time.perf_counter() - started
    return _rate(n, elapsed)


# -- CRITICAL start latency with a saturated pool and 10,000 LOW queued ------------------

def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def _critical_latency(put: Callable[[Callable[..., Any]], Any], wait: Callable[[Any], Any],
                      probes: int) -> Result:
    latencies: list[float] = []
    for _ in range(probes):
        box: list[float] = []
        queued = time.perf_counter()
        task = put(lambda *a, box=box, **k: box.append(time.perf_counter()))
        wait(task)
        latencies.append(box[0] - queued)
    return _percentile(latencies, 0.99) * 1000, 'ms p99'


def critical_gatasker(n: int, tt_name: str = 'TT_THREAD') -> Result:
    import gatasker
    from gatasker._bridge import Latch
    tt = getattr(gatasker, tt_name)
    sup = gatasker.TaskSupervisor(pool_size=25, reserve_normal=0, reserve_high=0)
    sup.set_greenlet_pool(pool_size=25, reserve_normal=0, reserve_high=0)
    sup.start()
    gate = Latch()
    blockers = [sup.put_task(lambda **_: gate.wait(), tt=tt) for _ in range(25)]
    lows = [sup.put_task(_noop, tt=tt, priority=gatasker.TASK_LOW) for _ in range(n)]
    result = _critical_latency(
        lambda f: sup.put_task(f, tt=tt, priority=gatasker.TASK_CRITICAL),
        lambda task: task.wait(), 200)
    gate.set()
    gatasker.wait_completed(blockers + lows)
    sup.stop()
    return result


def critical_gatasker_greenlet_patched(n: int) -> Result:
    return critical_gatasker(n, 'TT_GREENLET')


def critical_atasker(n: int) -> Result:
    import threading

    import atasker
    sup = atasker.task_supervisor
    sup.set_thread_pool(pool_size=25, reserve_normal=0, reserve_high=0, max_size=400)
    sup.poll_delay = 0.01
    sup.start()
    gate = threading.Event()
    blockers = [atasker.background_task(gate.wait)() for _ in range(25)]
    lows = [atasker.background_task(_noop, priority=atasker.TASK_LOW)() for _ in range(n)]
    result = _critical_latency(
        lambda f: atasker.background_task(f, priority=atasker.TASK_CRITICAL)(),
        lambda task: atasker.wait_completed(task), 200)
    gate.set()
    atasker.wait_completed(blockers + lows)
    sup.stop(wait=False)
    return result


# -- actors: N tell() then one ask() barrier; ask round trips ----------------------------

def rss_kib() -> int:
    """This process's resident memory, in KiB."""
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def actor_tell_gatasker(n: int) -> Result:
    import gatasker

    class Sink(gatasker.Actor):
        def on_start(self) -> None:
            self.count = 0

        def on_receive(self, message: Any) -> Any:
            self.count += 1
            return self.count

    sup = gatasker.TaskSupervisor()
    sup.start()
    actor = Sink.spawn(supervisor=sup)
    started = time.perf_counter()
    tell = actor.tell
    for i in range(n):
        tell(i)
    assert actor.ask(None) == n + 1
    elapsed = time.perf_counter() - started
    actor.stop()
    sup.stop()
    return n / elapsed, 'msgs/s'


def actor_tell_pykka(n: int) -> Result:
    import pykka

    class Sink(pykka.ThreadingActor):
        def __init__(self) -> None:
            super().__init__()
            self.count = 0

        def on_receive(self, message: Any) -> Any:
            self.count += 1
            return self.count

    ref = Sink.start()
    started = time.perf_counter()
    tell = ref.tell
    for i in range(n):
        tell(i)
    assert ref.ask(None) == n + 1
    elapsed = time.perf_counter() - started
    ref.stop()
    return n / elapsed, 'msgs/s'


def _bare_gevent_actor() -> tuple[Any, Any]:
    import gevent
    from gevent.event import AsyncResult
    from gevent.queue import Queue

    inbox: Any = Queue()
    state = {'count': 0}

    def loop() -> None:
        while True:
            _message, reply = inbox.get()
            state['count'] += 1
            if reply is not None:
                reply.set(state['count'])

    gevent.spawn(loop)

    def ask(message: Any) -> Any:
        reply = AsyncResult()
        inbox.put((message, reply))
        return reply.get()

    return inbox, ask


def actor_tell_bare_gevent_patched(n: int) -> Result:
    inbox, ask = _bare_gevent_actor()
    started = time.perf_counter()
    put = inbox.put
    for i in range(n):
        put((i, None))
    assert ask(None) == n + 1
    return n / (time.perf_counter() - started), 'msgs/s'


def actor_tell_gatasker_patched(n: int) -> Result:
    return actor_tell_gatasker(n)


def actor_ask_gatasker(n: int) -> Result:
    import gatasker

    class Echo(gatasker.Actor):
        def on_receive(self, message: Any) -> Any:
            return message

    sup = gatasker.TaskSupervisor()
    sup.start()
    actor = Echo.spawn(supervisor=sup)
    started = time.perf_counter()
    for i in range(n):
        actor.ask(i)
    elapsed = time.perf_counter() - started
    actor.stop()
    sup.stop()
    return n / elapsed, 'asks/s'


def actor_ask_gatasker_patched(n: int) -> Result:
    return actor_ask_gatasker(n)


def actor_ask_pykka(n: int) -> Result:
    import pykka

    class Echo(pykka.ThreadingActor):
        def on_receive(self, message: Any) -> Any:
            return message

    ref = Echo.start()
    started = time.perf_counter()
    for i in range(n):
        ref.ask(i)
    elapsed = time.perf_counter() - started
    ref.stop()
    return n / elapsed, 'asks/s'


def actor_ask_bare_gevent_patched(n: int) -> Result:
    _, ask = _bare_gevent_actor()
    started = time.perf_counter()
    for i in range(n):
        ask(i)
    return n / (time.perf_counter() - started), 'asks/s'


# -- queue worker items/s ---------------------------------------------------------------

def queue_worker_gatasker(n: int) -> Result:
    import gatasker
    from gatasker._bridge import Latch
    done = Latch()
    count = [0]

    def consume(item: Any, **_: Any) -> None:
        count[0] += 1
        if count[0] == n:
            done.set()

    sup = gatasker.TaskSupervisor()
    sup.start()
    worker = gatasker.BackgroundQueueWorker(func=consume, supervisor=sup)
    worker.start()
    started = time.perf_counter()
    for i in range(n):
        worker.put(i)
    done.wait()
    elapsed = time.perf_counter() - started
    worker.stop()
    sup.stop()
    return n / elapsed, 'items/s'


def queue_worker_atasker(n: int) -> Result:
    import threading

    import atasker
    done = threading.Event()
    count = [0]

    @atasker.background_worker(q=True)
    def consume(item: Any, **_: Any) -> None:
        count[0] += 1
        if count[0] == n:
            done.set()

    atasker.task_supervisor.poll_delay = 0.01
    atasker.task_supervisor.start()
    consume.start()
    started = time.perf_counter()
    for i in range(n):
        consume.put_threadsafe(i)
    # atasker's queue worker sometimes stalls for good on a loaded machine:
    # rate what it ran within two minutes rather than waiting out the timeout
    done.wait(120)
    elapsed = time.perf_counter() - started
    consume.stop(wait=False)
    atasker.task_supervisor.stop(wait=False)
    return count[0] / elapsed, 'items/s'


# -- idle memory of interval workers ----------------------------------------------------------

def idle_interval_workers_gatasker(n: int) -> Result:
    import gc

    import gatasker
    sup = gatasker.TaskSupervisor()
    sup.start()
    probe = gatasker.BackgroundIntervalWorker(func=lambda **_: None, interval=3600,
                                              supervisor=sup)
    probe.start()  # warm everything up before the baseline
    gc.collect()
    before = rss_kib()
    workers = [gatasker.BackgroundIntervalWorker(func=_noop, interval=3600, supervisor=sup)
               for _ in range(n)]
    for worker in workers:
        worker.start()
    # every worker's greenlet is parked once the supervisor answered a later message
    gatasker.wait_completed(sup.put_task(_noop, tt=gatasker.TT_GREENLET))
    gc.collect()
    per_worker = (rss_kib() - before) / n
    return per_worker, 'KiB each'


def idle_greenlet_on_event_patched(n: int) -> Result:
    import gc

    import gevent
    from gevent.event import Event
    gc.collect()
    before = rss_kib()
    events = [Event() for _ in range(n)]
    greenlets = [gevent.spawn(event.wait) for event in events]
    gevent.sleep(0.1)
    gc.collect()
    per = (rss_kib() - before) / n
    for event in events:
        event.set()
    gevent.joinall(greenlets)
    return per, 'KiB each'


def idle_pykka_actors(n: int) -> Result:
    import gc

    import pykka

    class Idle(pykka.ThreadingActor):
        pass

    gc.collect()
    before = rss_kib()
    refs = [Idle.start() for _ in range(n)]
    gc.collect()
    per = (rss_kib() - before) / n
    pykka.ActorRegistry.stop_all()
    del refs
    return per, 'KiB each'


# -- interval precision: 1,000 workers at 100 ms --------------------------------------------

def _lateness(starts: dict[int, list[float]], interval: float) -> float:
    """The p99, in ms, of each run's distance from the nearest point of its worker's grid."""
    late: list[float] = []
    for runs in starts.values():
        first = runs[0]
        # deviation from the nearest point of the worker's grid, early or late:
        # drift would make it grow; a tick skipped by a starved process (the
        # next run stands for the latest grid point) does not count as late
        late.extend(abs(run - first - round((run - first) / interval) * interval)
                    for run in runs)
    return _percentile(late, 0.99) * 1000


def _interval_result(starts: dict[int, list[float]], interval: float, cpu: float,
                     runs: int) -> dict[str, Result]:
    """Lateness, and the CPU time per run over the measured seconds (*cpu* for *runs*),
    which a loaded machine disturbs far less."""
    return {'interval_p99': (_lateness(starts, interval), 'ms p99 off-grid'),
            'interval_cpu': (cpu / max(1, runs) * 1e6, 'us CPU per run')}


def _count(starts: dict[int, list[float]]) -> int:
    return sum(len(runs) for runs in starts.values())


def interval_gatasker_patched(seconds: int) -> dict[str, Result]:
    import gevent

    import gatasker
    interval, count = 0.1, 1000
    starts: dict[int, list[float]] = {i: [] for i in range(count)}
    sup = gatasker.TaskSupervisor()
    sup.start()
    workers = []
    for i in range(count):
        worker = gatasker.BackgroundIntervalWorker(
            func=lambda i=i, **_: starts[i].append(time.monotonic()), interval=interval,
            supervisor=sup, tt=gatasker.TT_GREENLET)
        worker.start()
        workers.append(worker)
    cpu, runs = time.process_time(), _count(starts)
    gevent.sleep(seconds)
    cpu, runs = time.process_time() - cpu, _count(starts) - runs
    for worker in workers:
        worker.stop(wait=False)
    sup.stop(wait=5)
    return _interval_result(starts, interval, cpu, runs)


def sleep_to_grid(runs: list[float], interval: float) -> None:
    """A bare greenlet's interval loop: note the time, sleep to the next grid point."""
    import gevent
    following = time.monotonic()
    while True:
        runs.append(time.monotonic())
        following += interval
        gevent.sleep(max(0.0, following - time.monotonic()))


def interval_bare_gevent_patched(seconds: int) -> dict[str, Result]:
    """The floor on this machine: greenlets sleeping to their next grid point
    (spawned one after the other, so their phases spread as they start)."""
    import gevent
    interval, count = 0.1, 1000
    starts: dict[int, list[float]] = {i: [] for i in range(count)}
    greenlets = [gevent.spawn(sleep_to_grid, starts[i], interval) for i in range(count)]
    cpu, runs = time.process_time(), _count(starts)
    gevent.sleep(seconds)
    cpu, runs = time.process_time() - cpu, _count(starts) - runs
    gevent.killall(greenlets)
    return _interval_result(starts, interval, cpu, runs)


def interval_atasker(seconds: int) -> dict[str, Result]:
    import atasker
    interval, count = 0.1, 1000
    starts: dict[int, list[float]] = {i: [] for i in range(count)}
    atasker.task_supervisor.set_thread_pool(pool_size=100, reserve_normal=0, reserve_high=0)
    atasker.task_supervisor.poll_delay = 0.01
    atasker.task_supervisor.start()
    workers = []
    for i in range(count):
        worker = atasker.BackgroundIntervalWorker(
            executor_func=lambda i=i, **_: starts[i].append(time.monotonic()),
            interval=interval)
        worker.start()
        workers.append(worker)
    cpu, runs = time.process_time(), _count(starts)
    time.sleep(seconds)
    cpu, runs = time.process_time() - cpu, _count(starts) - runs
    for worker in workers:
        worker.stop(wait=False)
    atasker.task_supervisor.stop(wait=False)
    return _interval_result({k: v for k, v in starts.items() if v}, interval, cpu, runs)


# -- aloop round trips: greenlet -> coroutine -> greenlet ---------------------------------

async def _nothing() -> None:
    return None


def _round_trips(call: Callable[[], Any], n: int, greenlets: int = 100) -> Result:
    import gevent
    per = n // greenlets
    started = time.perf_counter()
    gevent.joinall([gevent.spawn(lambda: [call() for _ in range(per)])
                    for _ in range(greenlets)])
    return per * greenlets / (time.perf_counter() - started), 'round trips/s'


def aloop_gatasker_patched(n: int) -> Result:
    import gatasker
    sup = gatasker.TaskSupervisor()
    sup.start()
    aloop = sup.create_aloop('bench')
    result = _round_trips(lambda: aloop.run(_nothing()), n)
    sup.stop()
    return result


def aloop_bare_bridge_patched(n: int) -> Result:
    import asyncio

    import gevent
    from gevent import monkey
    from gevent.event import Event
    start = monkey.get_original('_thread', 'start_new_thread')
    lock = monkey.get_original('_thread', 'allocate_lock')()
    lock.acquire()
    loops: list[Any] = []

    def host() -> None:  # the loop is made in its own thread, as an aloop does
        loops.append(asyncio.new_event_loop())
        lock.release()
        loops[0].run_forever()

    hub = gevent.get_hub()
    start(host, ())
    lock.acquire()
    loop = loops[0]

    def call() -> Any:
        done = Event()
        watcher = hub.loop.async_()
        watcher.start(done.set)
        future = asyncio.run_coroutine_threadsafe(_nothing(), loop)
        future.add_done_callback(lambda _: watcher.send())
        done.wait()
        watcher.close()
        return future.result()

    return _round_trips(call, n)


# -- 2,000 small CPU tasks through the process tier --------------------------------------

PROCESSES = 2


def small_cpu_task(n: int = 2_000, **_: Any) -> int:
    """About 100 µs of pure Python: small enough that the pool's overhead shows."""
    total = 0
    for i in range(n):
        total += i * i
    return total


def _time_process_tasks(sup: Any, n: int) -> Result:
    """Start *sup*, warm its process tier up, time *n* small CPU tasks through it, stop it."""
    import gatasker
    sup.start()
    # warm up: every process started and imported the target's module
    gatasker.wait_completed([sup.put_task(small_cpu_task, tt=gatasker.TT_MP)
                             for _ in range(PROCESSES * 10)])
    started = time.perf_counter()
    tasks = [sup.put_task(small_cpu_task, tt=gatasker.TT_MP) for _ in range(n)]
    gatasker.wait_completed(tasks)
    elapsed = time.perf_counter() - started
    sup.stop()
    return _rate(n, elapsed)


def _process_gatasker(n: int) -> Result:
    import gatasker
    sup = gatasker.TaskSupervisor()
    sup.create_mp_pool(processes=PROCESSES)
    return _time_process_tasks(sup, n)


def process_gatasker(n: int) -> Result:
    return _process_gatasker(n)


def process_gatasker_patched(n: int) -> Result:
    return _process_gatasker(n)


def process_executor(n: int) -> Result:
    import concurrent.futures
    with concurrent.futures.ProcessPoolExecutor(max_workers=PROCESSES) as executor:
        concurrent.futures.wait([executor.submit(small_cpu_task)
                                 for _ in range(PROCESSES * 10)])
        started = time.perf_counter()
        futures = [executor.submit(small_cpu_task) for _ in range(n)]
        for future in futures:
            future.result()
        elapsed = time.perf_counter() - started
    return _rate(n, elapsed)


@contextlib.contextmanager
def _heartbeat_gaps() -> Iterator[list[float]]:
    """Run a 10 ms heartbeat greenlet for the block; the list it yields fills with
    how late each beat was (seconds), once the block has ended."""
    import gevent
    gaps: list[float] = []
    running = True

    def heartbeat() -> None:
        last = time.perf_counter()
        while running:
            gevent.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last - 0.01)
            last = now

    beat = gevent.spawn(heartbeat)
    try:
        yield gaps
    finally:
        running = False
        beat.join()


def _first_task_ms(submit: Callable[[], Any], wait: Callable[[Any], Any]) -> Result:
    started = time.perf_counter()
    wait(submit())
    return (time.perf_counter() - started) * 1000, 'ms'


def mp_first_task_gatasker(n: int) -> Result:
    """The first TT_MP task, *n* ms after ``create_mp_pool()`` and ``start()``;
    the worker processes preload the target's module."""
    import gatasker
    sup = gatasker.TaskSupervisor()
    sup.create_mp_pool(processes=PROCESSES, preload=[small_cpu_task.__module__])
    sup.start()
    time.sleep(n / 1000)
    result = _first_task_ms(lambda: sup.put_task(small_cpu_task, tt=gatasker.TT_MP),
                            lambda task: task.wait())
    sup.stop()
    return result


def mp_first_task_executor(n: int) -> Result:
    """The same with a ``ProcessPoolExecutor`` created *n* ms earlier."""
    import concurrent.futures
    with concurrent.futures.ProcessPoolExecutor(max_workers=PROCESSES) as executor:
        time.sleep(n / 1000)
        return _first_task_ms(lambda: executor.submit(small_cpu_task),
                              lambda future: future.result())


def process_heartbeat_gatasker_patched(n: int) -> Result:
    """Worst extra delay (ms) of a 10 ms heartbeat greenlet while *n* tasks with
    100 KB arguments and n // 50 with 1 MiB run through the pool."""
    import gatasker
    sup = gatasker.TaskSupervisor()
    sup.create_mp_pool(processes=PROCESSES)
    sup.start()
    small, big = b's' * 100_000, b'b' * (1 << 20)
    with _heartbeat_gaps() as gaps:
        tasks = [sup.put_task(len, (small,), tt=gatasker.TT_MP, _pass_task_id=False)
                 for _ in range(n)]
        tasks += [sup.put_task(len, (big,), tt=gatasker.TT_MP, _pass_task_id=False)
                  for _ in range(n // 50)]
        gatasker.wait_completed(tasks)
    sup.stop()
    return max(gaps) * 1000, 'ms worst gap'


@contextlib.contextmanager
def _dask_cluster() -> Iterator[str]:
    """A local scheduler and two one-thread dask workers, started as processes on
    127.0.0.1; yields the scheduler's address."""
    import json
    import os
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        scheduler_file = os.path.join(tmp, 'scheduler.json')
        quiet = {'stdout': subprocess.DEVNULL, 'stderr': subprocess.DEVNULL}
        procs = [subprocess.Popen(
            [sys.executable, '-m', 'distributed.cli.dask_scheduler', '--host', '127.0.0.1',
             '--port', '0', '--dashboard-address', '127.0.0.1:0', '--scheduler-file',
             scheduler_file], **quiet)]
        try:
            procs += [subprocess.Popen(
                [sys.executable, '-m', 'distributed.cli.dask_worker', '--scheduler-file',
                 scheduler_file, '--nthreads', '1', '--no-dashboard', '--host', '127.0.0.1'],
                **quiet) for _ in range(PROCESSES)]
            # No Client here: in a monkey-patched process it would turn asynchronous.
            while True:
                try:
                    with open(scheduler_file) as f:
                        address = json.load(f)['address']
                    break
                except (OSError, ValueError, KeyError):  # not (fully) written yet
                    time.sleep(0.05)
            yield address
        finally:
            for proc in procs:
                proc.kill()
                proc.wait()


def process_dask(n: int) -> Result:
    """The same tasks through gatasker's DaskExecutor, against a local scheduler and
    two one-thread dask workers started as processes on 127.0.0.1."""
    import gatasker
    from gatasker.contrib.dask import DaskExecutor
    with _dask_cluster() as address:
        sup = gatasker.TaskSupervisor()
        executor = DaskExecutor(address=address)
        executor.client.wait_for_workers(PROCESSES, timeout=60)
        sup.set_mp_pool(executor=executor, pool_size=0)  # dask queues and pipelines
        result = _time_process_tasks(sup, n)
        executor.shutdown()
    return result


def dask_heartbeat_patched(n: int) -> Result:
    """Worst extra delay (ms) of a 10 ms heartbeat greenlet while a monkey-patched
    process submits *n* // 10 small tasks to a dask cluster and waits for them
    (the client is connected, and start-up objects frozen, before the heartbeat)."""
    import gc

    import gevent

    from gatasker.contrib.dask import DaskExecutor
    with _dask_cluster() as address, DaskExecutor(address=address) as executor:
        executor.client.wait_for_workers(PROCESSES, timeout=60)
        executor.submit(divmod, 1, 1).result(60)
        gc.collect()
        gc.freeze()
        with _heartbeat_gaps() as gaps:
            futures = []
            for i in range(n // 10):
                futures.append(executor.submit(divmod, i, 7))
                if i % 20 == 19:
                    gevent.sleep(0)
            for future in futures:
                future.result(60)
        gc.unfreeze()
    return max(gaps) * 1000, 'ms worst gap'
