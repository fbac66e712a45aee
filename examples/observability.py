"""Observability: statistics per priority, the hub watchdog catching a
greenlet that blocks the hub, the inspect endpoint read by
``python -m gatasker inspect``, and a Prometheus scrape (when
prometheus_client is installed).

Run it plain (``python examples/observability.py``) or monkey-patched
(``python examples/observability.py --patched``): the same code works in both.
"""

import sys

if __name__ == '__main__' and '--patched' in sys.argv:
    from gevent import monkey

    monkey.patch_all()

import logging
import subprocess

from gevent import monkey

import gatasker
from gatasker import TASK_HIGH, TASK_LOW, TT_GREENLET, TT_THREAD

real_sleep = monkey.get_original('time', 'sleep')  # blocks the OS thread, also when patched


class WatchdogReports(logging.Handler):
    """Keeps the watchdog's warnings (an application would just log them)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []
        self.reported = monkey.get_original('_thread', 'allocate_lock')()
        self.reported.acquire()

    def emit(self, record):
        self.messages.append(record.getMessage())
        if len(self.messages) == 1:
            self.reported.release()


def work(seconds, **_):
    real_sleep(seconds)


def statistics(sup):
    print('1. statistics() per priority')
    tasks = [sup.put_task(work, (0.01,), tt=TT_THREAD, priority=priority)
             for priority in [TASK_LOW] * 20 + [TASK_HIGH] * 5]
    gatasker.wait_completed(tasks)
    thread = sup.statistics().tiers['thread']
    for priority, name in ((TASK_HIGH, 'HIGH'), (TASK_LOW, 'LOW')):
        stats = thread.priorities[priority]
        print(f'   {name}: {stats.completed} completed, queue wait p99 <= '
              f'{stats.queue_wait.quantile(0.99) * 1000:g} ms, run time p99 <= '
              f'{stats.run_time.quantile(0.99) * 1000:g} ms')


def watchdog(sup):
    print('2. the hub watchdog')
    reports = WatchdogReports()
    gatasker.logger.addHandler(reports)
    try:
        sup.watch_hub(0.05)

        def render_report(**_):
            # Stands for a blocking call in a greenlet task (the whole hub waits);
            # here it ends once the watchdog has reported it, so nothing depends on timing.
            reports.reported.acquire(True, 30)

        sup.put_task(render_report, tt=TT_GREENLET).wait()
        sup.put_task(lambda **_: None, tt=TT_GREENLET).wait()  # the hub answers again
    finally:
        gatasker.logger.removeHandler(reports)
    hub = sup.statistics().hub
    print(f'   incidents: {hub.incidents}; the report names the offender: '
          f'{"render_report" in reports.messages[0]}')
    assert hub.incidents >= 1 and 'render_report' in hub.last_stack


def inspect(sup):
    print('3. python -m gatasker inspect')
    host, port = sup.serve_inspect(('127.0.0.1', 0))
    view = subprocess.run([sys.executable, '-m', 'gatasker', 'inspect', f'{host}:{port}',
                           '--once'], capture_output=True, text=True, timeout=60, check=True)
    print('   ' + view.stdout.strip().replace('\n', '\n   '))
    assert f'supervisor {sup.id}' in view.stdout


def prometheus(sup):
    try:
        from prometheus_client import CollectorRegistry, generate_latest
    except ImportError:
        print('4. (prometheus_client is not installed: pip install gatasker[prometheus])')
        return
    from gatasker.contrib import prometheus as gatasker_prometheus
    print('4. a Prometheus scrape')
    registry = CollectorRegistry()
    gatasker_prometheus.register(sup, registry=registry)
    lines = [line for line in generate_latest(registry).decode().splitlines()
             if line.startswith('gatasker_tasks_completed_total') and 'thread' in line]
    print('   ' + '\n   '.join(lines))
    assert any('priority="low"' in line and line.endswith(' 20.0') for line in lines)


if __name__ == '__main__':
    supervisor = gatasker.TaskSupervisor(supervisor_id='observed', pool_size=2,
                                         reserve_normal=0, reserve_high=2)
    supervisor.start()
    try:
        statistics(supervisor)
        watchdog(supervisor)
        inspect(supervisor)
        prometheus(supervisor)
        print('mode:', supervisor.mode)
    finally:
        supervisor.stop()
    print('ok')
