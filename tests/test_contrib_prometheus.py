"""gatasker.contrib.prometheus against the real prometheus_client."""

from __future__ import annotations

import socket
import textwrap
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from conftest import PATCHED, Recorder, run_python, settle

prometheus_client = pytest.importorskip(
    'prometheus_client', reason="needs the prometheus extra: pip install -e '.[prometheus]'")

from prometheus_client import CollectorRegistry, generate_latest  # noqa: E402

import gatasker  # noqa: E402
from gatasker import TASK_HIGH, TASK_LOW, TT_GREENLET, TT_THREAD  # noqa: E402
from gatasker.contrib import prometheus  # noqa: E402


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    result: float | None = registry.get_sample_value(name, labels)
    return result


def test_tasks_tiers_and_histograms(supervisor: gatasker.TaskSupervisor) -> None:
    registry = CollectorRegistry()
    prometheus.register(supervisor, registry=registry)
    sid = str(supervisor.id)
    supervisor.set_thread_pool(pool_size=1, reserve_normal=0, reserve_high=0)
    rec = Recorder()
    first = supervisor.put_task(rec.run, (1,), tt=TT_THREAD, priority=TASK_LOW)
    rec.wait_started(1)
    waiting = supervisor.put_task(rec.run, (2,), tt=TT_THREAD, priority=TASK_HIGH)
    doomed = supervisor.put_task(rec.run, (3,), tt=TT_THREAD, priority=TASK_LOW)
    settle(supervisor)
    thread_low = {'supervisor': sid, 'tier': 'thread', 'priority': 'low'}
    thread_high = {**thread_low, 'priority': 'high'}
    assert value(registry, 'gatasker_tasks_running', **thread_low) == 1
    assert value(registry, 'gatasker_tasks_queued', **thread_low) == 1
    assert value(registry, 'gatasker_tasks_queued', **thread_high) == 1
    assert value(registry, 'gatasker_tier_pool_size', supervisor=sid, tier='thread') == 1
    assert value(registry, 'gatasker_tier_reserve_high', supervisor=sid, tier='thread') == 0
    assert doomed.cancel()
    failing = supervisor.put_task(lambda **_: 1 / 0, tt=TT_GREENLET)
    rec.gate.set()
    gatasker.wait_completed([first, waiting, failing], timeout=10, return_exceptions=True)
    settle(supervisor)
    assert value(registry, 'gatasker_tasks_completed_total', **thread_low) == 1
    assert value(registry, 'gatasker_tasks_cancelled_total', **thread_low) == 1
    assert value(registry, 'gatasker_tasks_completed_total', **thread_high) == 1
    greenlet_normal = {'supervisor': sid, 'tier': 'greenlet', 'priority': 'normal'}
    assert value(registry, 'gatasker_tasks_failed_total', **greenlet_normal) == 1
    assert value(registry, 'gatasker_task_queue_wait_seconds_count', **thread_high) == 1
    assert value(registry, 'gatasker_task_run_seconds_count', **thread_low) == 1
    assert value(registry, 'gatasker_task_run_seconds_bucket', **thread_low, le='+Inf') == 1
    assert value(registry, 'gatasker_supervisor_running', supervisor=sid) == 1
    text = generate_latest(registry).decode()
    assert '# TYPE gatasker_task_queue_wait_seconds histogram' in text
    assert '# TYPE gatasker_tasks_completed_total counter' in text


def test_scraping_counts_nothing_itself(supervisor: gatasker.TaskSupervisor) -> None:
    registry = CollectorRegistry()
    prometheus.register(supervisor, registry=registry)
    supervisor.put_task(lambda **_: None, tt=TT_THREAD).wait(10)
    settle(supervisor)
    before = generate_latest(registry)
    for _ in range(3):
        assert generate_latest(registry) == before  # a scrape runs no task
    assert supervisor.statistics().tiers['thread'].completed == 1


def test_actors_workers_and_the_hub(supervisor: gatasker.TaskSupervisor) -> None:
    registry = CollectorRegistry()
    prometheus.register([supervisor], registry=registry)
    supervisor.watch_hub(5)

    class Echo(gatasker.Actor):
        def on_receive(self, message: Any) -> Any:
            return 1 / message

    echo = Echo.spawn(name='echo', supervisor=supervisor)
    try:
        assert echo.ask(1, timeout=10) == 1.0
        with pytest.raises(ZeroDivisionError):
            echo.ask(0, timeout=10)
        sid = str(supervisor.id)
        labels = {'supervisor': sid, 'actor': 'echo', 'kind': 'actor'}
        assert value(registry, 'gatasker_actor_handled_total', **labels) == 2
        assert value(registry, 'gatasker_actor_failed_total', **labels) == 1
        assert value(registry, 'gatasker_actor_restarts_total', **labels) == 0
        assert value(registry, 'gatasker_actor_mailbox', **labels) == 0
        assert value(registry, 'gatasker_actors', supervisor=sid) == 1
        assert value(registry, 'gatasker_hub_blocked_incidents_total', supervisor=sid) == 0
    finally:
        echo.stop()


def test_every_running_supervisor_by_default() -> None:
    registry = CollectorRegistry()
    prometheus.register(registry=registry, namespace='app')
    sup = gatasker.TaskSupervisor(supervisor_id='scraped')
    assert value(registry, 'app_supervisor_running', supervisor='scraped') is None
    sup.start()
    try:
        assert value(registry, 'app_supervisor_running', supervisor='scraped') == 1
    finally:
        sup.stop()
    assert value(registry, 'app_supervisor_running', supervisor='scraped') is None


@pytest.mark.parametrize('call, error', [
    (lambda: prometheus.GataskerCollector([object()]), TypeError),  # type: ignore[list-item]
    (lambda: prometheus.GataskerCollector(namespace='bad name'), ValueError)])
def test_bad_arguments(call: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        call()


def test_a_second_register_on_one_registry_is_refused(
        supervisor: gatasker.TaskSupervisor) -> None:
    registry = CollectorRegistry(auto_describe=True)
    prometheus.register(supervisor, registry=registry)
    with pytest.raises(ValueError):
        prometheus.register(supervisor, registry=registry)


APP = '''
import sys
import urllib.request

import gatasker
from gatasker.contrib import prometheus

import mp_work

# Unguarded on purpose: the process-pool workers import this module too.
PORT = int(sys.argv[1])
prometheus.register()
prometheus.start_http_server(PORT)

if __name__ == '__main__':
    sup = gatasker.TaskSupervisor(supervisor_id='mp')
    sup.start()
    sup.create_mp_pool(processes=2)
    tasks = [sup.put_task(mp_work.square, (i,), tt=gatasker.TT_MP) for i in range(6)]
    assert gatasker.wait_completed(tasks, timeout=60) == [i * i for i in range(6)]
    text = urllib.request.urlopen(f'http://127.0.0.1:{PORT}/metrics', timeout=30).read().decode()
    line = 'gatasker_tasks_completed_total{priority="normal",supervisor="mp",tier="mp"} 6.0'
    assert line in text, text
    assert 'gatasker_process_pool_alive{supervisor="mp"} 2.0' in text, text
    sup.stop()
    print('ok')
'''


def test_start_http_server_in_an_unguarded_script_with_process_workers(tmp_path: Path) -> None:
    (tmp_path / 'mp_work.py').write_text('def square(x, **_):\n    return x * x\n')
    script = tmp_path / 'app.py'
    script.write_text(textwrap.dedent(APP))
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    code = f'''
        import runpy, sys
        sys.path.insert(0, {str(tmp_path)!r})
        sys.argv = [{str(script)!r}, '{port}']
        runpy.run_path({str(script)!r}, run_name='__main__')
    '''
    result = run_python(code, patched=PATCHED, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'ok'
    assert 'Address already in use' not in result.stderr


def test_scrape_over_http(supervisor: gatasker.TaskSupervisor) -> None:
    registry = CollectorRegistry()
    prometheus.register(supervisor, registry=registry)
    server, thread = prometheus.start_http_server(0, registry=registry)
    try:
        port = server.server_address[1]
        text = urllib.request.urlopen(f'http://127.0.0.1:{port}/metrics', timeout=30).read()
        assert f'gatasker_supervisor_running{{supervisor="{supervisor.id}"}} 1.0' in text.decode()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
