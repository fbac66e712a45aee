"""The tour ``python -m gatasker`` (or ``python -m gatasker demo``) runs.

It prints what ran where: priorities under saturation, tiers, workers and
an actor. ``--patched`` runs it monkey-patched (embedded mode); the patching
happens in `gatasker.__main__` before this module is imported.
"""

from __future__ import annotations

import time
from collections import Counter

import gatasker
from gatasker import TASK_CRITICAL, TASK_HIGH, TASK_LOW, TASK_NORMAL, TT_GREENLET, TT_THREAD
from gatasker._bridge import Latch, allocate_lock, real_thread_name

NAMES = {TASK_CRITICAL: 'CRITICAL', TASK_HIGH: 'HIGH', TASK_NORMAL: 'NORMAL', TASK_LOW: 'LOW'}


class Journal:
    """Where and in which order the demo's tasks started."""

    def __init__(self) -> None:
        self.lock = allocate_lock()
        self.rows: list[tuple[str, str]] = []

    def note(self, label: str) -> None:
        with self.lock:
            self.rows.append((label, real_thread_name()))


def priorities(sup: gatasker.TaskSupervisor) -> None:
    print('1. Priorities under saturation (thread tier: pool_size=2, reserve_normal=1, '
          'reserve_high=1)')
    journal = Journal()
    gate = Latch()

    def job(label: str, **_: object) -> None:
        journal.note(label)
        gate.wait(10)

    sup.set_thread_pool(pool_size=2, reserve_normal=1, reserve_high=1)
    tasks = []
    for priority, count in ((TASK_LOW, 5), (TASK_NORMAL, 3), (TASK_HIGH, 3), (TASK_CRITICAL, 1)):
        for i in range(count):
            tasks.append(sup.put_task(job, (f'{NAMES[priority]}-{i}',), priority=priority,
                                      tt=TT_THREAD))
    while len(journal.rows) < 5:  # 2 LOW, +1 NORMAL, +1 HIGH, +1 CRITICAL start at once
        time.sleep(0.01)
    info = sup.get_info()
    print(f'   running at saturation: {info.thread_tasks_count} '
          f'(LOW fills 2 slots, NORMAL and HIGH take their reserves, CRITICAL bypasses)')
    queued = ', '.join(f'{NAMES[p]}={n}' for p, n in info.thread_queued.items() if n)
    print(f'   waiting: {queued}')
    gate.set()
    gatasker.wait_completed(tasks)
    print('   start order: ' + ' '.join(label for label, _ in journal.rows))
    print('   every waiting HIGH started before any waiting NORMAL, every NORMAL before LOW.')
    threads = Counter(thread for _, thread in journal.rows)
    print(f'   OS threads used: {len(threads)}')


def tiers(sup: gatasker.TaskSupervisor) -> None:
    print('\n2. Tiers')
    journal = Journal()

    @gatasker.background_task(tt=TT_GREENLET, supervisor=sup)
    def cooperative(i: int) -> int:
        journal.note('greenlet')
        return i

    @gatasker.background_task(tt=TT_THREAD, supervisor=sup)
    def blocking(i: int) -> int:
        journal.note('thread')
        return i

    started = time.perf_counter()
    tasks = [cooperative(i) for i in range(2000)] + [blocking(i) for i in range(200)]
    results = gatasker.wait_completed(tasks)
    elapsed = time.perf_counter() - started
    assert results == list(range(2000)) + list(range(200))
    for tier in ('greenlet', 'thread'):
        threads = Counter(thread for label, thread in journal.rows if label == tier)
        names = ', '.join(sorted(t for t in threads if not t.startswith('thread-')))
        named = f' ({names})' if names else ' (ThreadPool threads)'
        print(f'   {sum(threads.values()):5d} {tier:8s} tasks ran on {len(threads)} OS '
              f'thread(s){named}')
    print(f'   {len(tasks)} tasks in {elapsed * 1000:.0f} ms')


def workers_and_actors(sup: gatasker.TaskSupervisor) -> None:
    print('\n3. Workers and an actor')
    ticks = Journal()
    items = Journal()
    done = Latch()
    five_ticks = Latch()

    @gatasker.background_worker(interval=0.02, supervisor=sup)
    def heartbeat(**_: object) -> None:
        ticks.note('tick')
        if len(ticks.rows) >= 5:
            five_ticks.set()

    @gatasker.background_worker(q=True, supervisor=sup)
    def consumer(item: object, **_: object) -> None:
        items.note(str(item))
        if item == 9:
            done.set()

    class Counter_(gatasker.Actor):
        def on_start(self) -> None:
            self.total = 0

        def on_receive(self, message: object) -> int:
            if isinstance(message, int):
                self.total += message
            return self.total

    heartbeat.start()
    consumer.start()
    for i in range(10):
        consumer.put(i)
    done.wait(10)
    counter = Counter_.spawn(supervisor=sup)
    for i in range(1, 101):
        counter.tell(i)
    total = counter.ask(0, timeout=10)
    five_ticks.wait(10)
    heartbeat.stop()
    consumer.stop()
    counter.stop()
    print(f'   interval worker (every 20 ms) ticked {len(ticks.rows)} times; queue worker took '
          f'{len(items.rows)} items in order: {[int(i) for i, _ in items.rows] == list(range(10))}')
    print(f'   actor summed 100 told messages; ask() answered {total}')


def main() -> None:
    sup = gatasker.TaskSupervisor(supervisor_id='demo')
    sup.start()
    print(f'gatasker {gatasker.__version__}: supervisor {sup.id!r} in {sup.mode} mode '
          f'(monkey-patched: {sup.mode == "embedded"})\n')
    try:
        priorities(sup)
        tiers(sup)
        workers_and_actors(sup)
    finally:
        sup.stop()
    print('\nsupervisor stopped; nothing left running.')

