"""Export gatasker's statistics to Prometheus (extra ``gatasker[prometheus]``).

One call registers a collector::

    from gatasker.contrib import prometheus
    prometheus.register()                   # every running supervisor
    prometheus.start_http_server(9100)      # or serve the registry your own way

The collector reads `TaskSupervisor.statistics()` when Prometheus
scrapes, in the scraping thread: no polling worker, no task of its own (so
it never counts itself), nothing counted twice. Counters are the
supervisor's own totals, which survive a restart of the supervisor.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TypeVar

try:
    from prometheus_client import REGISTRY, CollectorRegistry
    from prometheus_client import start_http_server as _start_http_server
    from prometheus_client.core import (
        CounterMetricFamily,
        GaugeMetricFamily,
        HistogramMetricFamily,
        Metric,
    )
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("gatasker.contrib.prometheus needs prometheus_client: "
                      "pip install 'gatasker[prometheus]'") from exc

from .._constants import TASK_CRITICAL, TASK_HIGH, TASK_LOW, TASK_NORMAL
from .._process_child import PREPARING_ENV
from .._statistics import HistogramSnapshot, SupervisorStatistics
from .._supervisor import TaskSupervisor, running_supervisors

__all__ = ['GataskerCollector', 'register', 'start_http_server']

#: The metric families this collector makes.
F = TypeVar('F', bound=GaugeMetricFamily | CounterMetricFamily | HistogramMetricFamily)
_Kind = type[GaugeMetricFamily] | type[CounterMetricFamily]

PRIORITY_LABELS = {TASK_CRITICAL: 'critical', TASK_HIGH: 'high', TASK_NORMAL: 'normal',
                   TASK_LOW: 'low'}
_TIER = ['supervisor', 'tier']
_PRIORITY = ['supervisor', 'tier', 'priority']
_ACTOR = ['supervisor', 'actor', 'kind']

# (family, metric name, help, attribute of the statistics object), in output order.
_PRIORITY_METRICS: tuple[tuple[_Kind, str, str, str], ...] = (
    (GaugeMetricFamily, 'tasks_running', 'Tasks running', 'running'),
    (GaugeMetricFamily, 'tasks_queued', 'Tasks waiting for a slot', 'queued'),
    (CounterMetricFamily, 'tasks_completed', 'Tasks that ended (failed ones too)', 'completed'),
    (CounterMetricFamily, 'tasks_failed', 'Tasks that raised', 'failed'),
    (CounterMetricFamily, 'tasks_cancelled', 'Tasks canceled before they started', 'cancelled'),
    (CounterMetricFamily, 'tasks_timed_out',
     'Times a waiting task passed timeout_warning or timeout_critical', 'timed_out'),
)
_ACTOR_METRICS: tuple[tuple[_Kind, str, str, str], ...] = (
    (GaugeMetricFamily, 'actor_mailbox', 'Messages (items) waiting', 'mailbox'),
    (CounterMetricFamily, 'actor_handled', 'Messages handled (worker: executor runs)', 'handled'),
    (CounterMetricFamily, 'actor_failed', 'Messages whose handler (executor) raised', 'failed'),
    (CounterMetricFamily, 'actor_restarts', 'Times an ActorSupervisor restarted it', 'restarts'),
)


def _buckets(histogram: HistogramSnapshot) -> list[tuple[str, float]]:
    cumulative, buckets = 0, []
    for bound, count in zip(histogram.bounds, histogram.counts, strict=False):
        cumulative += count
        buckets.append((repr(float(bound)), float(cumulative)))
    buckets.append(('+Inf', float(histogram.count)))
    return buckets


class GataskerCollector:
    """A Prometheus collector of supervisors' statistics.

    *supervisors*: the supervisors to export; None (the default) exports
    every supervisor of the process that is running at scrape time.
    Metric names start with *namespace* (``gatasker``). `collect()` is
    called by prometheus_client in the scraping thread; it never blocks.
    """

    def __init__(self, supervisors: Iterable[TaskSupervisor] | None = None,
                 namespace: str = 'gatasker') -> None:
        if supervisors is not None:
            supervisors = list(supervisors)
            for sup in supervisors:
                if not isinstance(sup, TaskSupervisor):
                    raise TypeError(f'expected TaskSupervisor objects, got {sup!r}')
        if not isinstance(namespace, str) or not namespace.isidentifier():
            raise ValueError(f'namespace must be an identifier, got {namespace!r}')
        self._supervisors = supervisors
        self._ns = namespace

    def _snapshots(self) -> list[SupervisorStatistics]:
        supervisors = self._supervisors if self._supervisors is not None else running_supervisors()
        return [sup.statistics() for sup in supervisors]

    def collect(self) -> Iterator[Metric]:
        """Yield the metric families of one scrape."""
        ns = self._ns
        families: dict[str, Metric] = {}

        def family(kind: type[F], name: str, doc: str, labels: list[str]) -> F:
            found = families.get(name)
            if found is None:
                found = families[name] = kind(f'{ns}_{name}', doc, labels=labels)
            if not isinstance(found, kind):  # one name, one kind: the tables below say so
                raise TypeError(f'metric {name!r} is a {type(found).__name__}, not a {kind}')
            return found

        gauge, counter, histogram = GaugeMetricFamily, CounterMetricFamily, HistogramMetricFamily
        for stats in self._snapshots():
            sid = str(stats.id)
            family(gauge, 'supervisor_running', '1 while the supervisor accepts tasks',
                   ['supervisor']).add_metric([sid], float(stats.state == 'running'))
            family(gauge, 'actors', 'Running actors (workers included)',
                   ['supervisor']).add_metric([sid], stats.actors)
            family(gauge, 'workers', 'Running workers', ['supervisor']).add_metric(
                [sid], stats.workers)
            family(gauge, 'aloops', 'aloops of the supervisor', ['supervisor']).add_metric(
                [sid], stats.aloops)
            for tier in stats.tiers.values():
                labels = [sid, tier.name]
                family(gauge, 'tier_pool_size', 'Slots of the tier for LOW work (0: unlimited)',
                       _TIER).add_metric(labels, tier.pool_size)
                family(gauge, 'tier_reserve_normal', 'Extra slots NORMAL (and more important) '
                       'work may use', _TIER).add_metric(labels, tier.reserve_normal)
                family(gauge, 'tier_reserve_high', 'Extra slots HIGH work may use',
                       _TIER).add_metric(labels, tier.reserve_high)
                for priority, pri in tier.priorities.items():
                    plabels = [sid, tier.name, PRIORITY_LABELS[priority]]
                    for kind, name, doc, attr in _PRIORITY_METRICS:
                        family(kind, name, doc, _PRIORITY).add_metric(
                            plabels, getattr(pri, attr))
                    family(histogram, 'task_queue_wait_seconds', 'From queued (after any '
                           'delay) to started', _PRIORITY).add_metric(
                        plabels, _buckets(pri.queue_wait), pri.queue_wait.sum)
                    family(histogram, 'task_run_seconds', 'From started to ended',
                           _PRIORITY).add_metric(plabels, _buckets(pri.run_time),
                                                 pri.run_time.sum)
            for actor in stats.actor_statistics:
                alabels = [sid, actor.name, actor.kind]
                for kind, name, doc, attr in _ACTOR_METRICS:
                    family(kind, name, doc, _ACTOR).add_metric(alabels, getattr(actor, attr))
            pool = stats.process_pool
            if pool is not None:
                family(gauge, 'process_pool_processes', 'Configured worker processes',
                       ['supervisor']).add_metric([sid], pool.processes)
                family(gauge, 'process_pool_alive', 'Worker processes running',
                       ['supervisor']).add_metric([sid], pool.alive)
                family(counter, 'process_pool_replaced', 'Worker processes started in place '
                       'of one that ended', ['supervisor']).add_metric([sid], pool.replaced)
            hub = stats.hub
            if hub is not None:
                if hub.lag_p99 is not None:
                    family(gauge, 'hub_lag_p99_seconds', "99th percentile of the hub's recent "
                           'lag (hub watchdog)', ['supervisor']).add_metric([sid], hub.lag_p99)
                family(counter, 'hub_blocked_incidents', 'Times the hub was blocked longer '
                       'than the watchdog threshold', ['supervisor']).add_metric(
                    [sid], hub.incidents)
        yield from families.values()


def register(supervisors: Iterable[TaskSupervisor] | TaskSupervisor | None = None,
             registry: CollectorRegistry = REGISTRY,
             namespace: str = 'gatasker') -> GataskerCollector:
    """Register a `GataskerCollector` with *registry* and return it.

    *supervisors*: one supervisor, several, or None for every running one.
    Unregister with ``registry.unregister(collector)``. Raises ValueError
    when a collector with the same metric names is registered already
    (prometheus_client's check). Any thread; never blocks.
    """
    if isinstance(supervisors, TaskSupervisor):
        supervisors = [supervisors]
    collector = GataskerCollector(supervisors, namespace)
    registry.register(collector)
    return collector


def start_http_server(port: int, addr: str = '127.0.0.1',
                      registry: CollectorRegistry = REGISTRY) -> object:
    """prometheus_client's ``start_http_server``, loopback by default, that
    does nothing (and returns None) in a gatasker worker process while it
    imports the main script: a script that starts it at module level,
    outside ``if __name__ == '__main__':``, no longer fails with "address
    already in use" in its process-pool workers.

    Returns what prometheus_client returns (the server and its thread).
    """
    if os.environ.get(PREPARING_ENV):
        return None
    return _start_http_server(port, addr=addr, registry=registry)
