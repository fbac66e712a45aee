"""One function per contender. Each runs in a fresh process (see ``child.py``)
and returns ``(value, unit)``. Contenders named ``*_patched`` run after
``gevent.monkey.patch_all()``.
"""

from __future__ import annotations

import time
from typing import Any, Callable

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


# -- 50,000 no-op cooperative tasks, 1,000 slots, monkey-patched ----------------------

def greenlet_gatasker_patched(n: int) -> Result:
    import gatasker
    sup = gatasker.TaskSupervisor()
    sup.set_greenlet_pool(pool_size=1000, reserve_normal=0, reserve_high=0)
    sup.start()
    gatasker.wait_completed([sup.put_task(_noop, tt=gatasker.TT_GREENLET) for _ in range(100)])
    started = time.perf_counter()
    tasks = [sup.put_task(_noop, tt=gatasker.TT_GREENLET) for _ in range(n)]
    gatasker.wait_completed(tasks)
    elapsed = time.perf_counter() - started
    sup.stop()
    return _rate(n, elapsed)


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
        task = put(lambda *a, **k: box.append(time.perf_counter()))
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
