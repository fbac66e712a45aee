"""OpenTelemetry metrics and traces for gatasker (extra ``gatasker[otel]``).

::

    from gatasker.contrib import opentelemetry as gatasker_otel
    gatasker_otel.instrument()     # the global tracer and meter providers

*Traces*: one span per task, ``gatasker.task <name>``, from queued to ended,
with the event ``started`` and the attributes ``gatasker.task.id``,
``gatasker.task.priority``, ``gatasker.task.tier``, ``gatasker.supervisor``
and, at its end, ``gatasker.task.outcome`` (``completed``, ``failed``,
``canceled``). Its parent is the span current where the task was queued;
the target runs with the task's span current — in a greenlet, an OS thread,
an aloop (coroutine tasks) or a worker process of the built-in pool (through
the W3C trace-context headers) — so spans it starts are its children. A
message told or asked while a span is current is handled in a
``gatasker.message <actor>`` span, its child.

*Metrics*: the statistics of every running supervisor, read when the
metric reader collects (observable instruments), and two histograms,
``gatasker.task.queue_wait`` and ``gatasker.task.run_time`` (seconds),
recorded when a task ends.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

try:
    from opentelemetry import context as otel_context
    from opentelemetry import metrics, propagate, trace
    from opentelemetry.context import Context
    from opentelemetry.metrics import CallbackOptions, Meter, MeterProvider, Observation
    from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("gatasker.contrib.opentelemetry needs opentelemetry-api: "
                      "pip install 'gatasker[otel]'") from exc

from .. import _tracing
from .._constants import (
    TASK_CRITICAL,
    TASK_HIGH,
    TASK_LOW,
    TASK_NORMAL,
    TASK_STATUS_CANCELED,
    TIER_NAMES,
)
from .._logging import logger
from .._statistics import SupervisorStatistics
from .._supervisor import TaskSupervisor, running_supervisors
from .._task import Task
from .._task_run import TaskRun
from .._tracing import MessageReceiver
from .._version import __version__

__all__ = ['Instrumentation', 'instrument']

PRIORITY_NAMES = {TASK_CRITICAL: 'critical', TASK_HIGH: 'high', TASK_NORMAL: 'normal',
                  TASK_LOW: 'low'}


def _task_name(task: Task[Any]) -> str:
    return task.name or getattr(task.target, '__qualname__', None) or type(task.target).__name__


def _ns(seconds: float) -> int:
    return int(seconds * 1e9)


class _InContext:
    """A process task's target that runs in the context carried from the parent."""

    def __init__(self, target: Callable[..., object], carrier: dict[str, str]) -> None:
        self.target = target
        self.carrier = carrier

    def __call__(self, *args: object, **kwargs: object) -> object:
        token = otel_context.attach(propagate.extract(self.carrier))
        try:
            return self.target(*args, **kwargs)
        finally:
            otel_context.detach(token)


class Instrumentation:
    """What `instrument()` installed; `uninstrument()` removes it.

    Implements the core's tracer hooks; every hook is quick and logs
    instead of raising.
    """

    def __init__(self, tracer_provider: TracerProvider | None,
                 meter_provider: MeterProvider | None,
                 supervisors: Iterable[TaskSupervisor] | None, traces: bool) -> None:
        self._supervisors = list(supervisors) if supervisors is not None else None
        self._tracer = trace.get_tracer('gatasker', __version__, tracer_provider) \
            if traces else None
        meter = metrics.get_meter('gatasker', __version__, meter_provider=meter_provider)
        self._queue_wait = meter.create_histogram(
            'gatasker.task.queue_wait', unit='s',
            description='From queued (after any delay) to started')
        self._run_time = meter.create_histogram(
            'gatasker.task.run_time', unit='s', description='From started to ended')
        #: The span of every task traced and not ended yet (a dict's single
        #: operations are atomic: any thread may queue, run or end a task).
        self._spans: dict[Task[Any], Span] = {}
        self._observe_statistics(meter)

    def uninstrument(self) -> None:
        """Stop tracing new tasks and messages (spans already started still end).

        The observable metrics stay registered with the meter provider, as
        OTel has no way to remove them; they report nothing afterwards.
        """
        if _tracing.tracer is self:
            _tracing.tracer = None
        self._supervisors = []

    # -- traces: the core's hooks ---------------------------------------------------------

    def _watched(self, supervisor: object) -> bool:
        return self._supervisors is None or supervisor in self._supervisors

    def task_queued(self, record: TaskRun, supervisor: object) -> Span | bool | None:
        if not self._watched(supervisor):
            return None
        task = record.task
        span = None
        if self._tracer is not None:
            span = self._tracer.start_span(
                f'gatasker.task {_task_name(task)}', kind=SpanKind.INTERNAL,
                start_time=_ns(task.time_queued), attributes={
                    'gatasker.task.id': str(task.id),
                    'gatasker.task.priority': PRIORITY_NAMES.get(task.priority, str(task.priority)),
                    'gatasker.task.tier': TIER_NAMES.get(task.tt, str(task.tt)),
                    'gatasker.supervisor': str(getattr(supervisor, 'id', supervisor)),
                })
            self._spans[task] = span
        record.add_done_callback(functools.partial(self._task_ended, span))
        return span if span is not None else False  # False: measured, not traced

    def _task_ended(self, span: Span | None, task: Task[Any]) -> None:
        # In the thread that ended the task: the supervisor's hub, or a cancel() caller.
        self._spans.pop(task, None)
        try:
            attributes = {'gatasker.task.tier': TIER_NAMES.get(task.tt, str(task.tt)),
                          'gatasker.task.priority': PRIORITY_NAMES.get(task.priority, '')}
            started, ended = task.time_started, task.time_completed
            if task.status != TASK_STATUS_CANCELED and started is not None and ended is not None:
                self._queue_wait.record(
                    max(0.0, started - task.time_queued - (task.delay or 0.0)), attributes)
                self._run_time.record(max(0.0, ended - started), attributes)
            if span is None:
                return
            if task.status == TASK_STATUS_CANCELED:
                outcome = 'canceled'
            elif task.exception is not None:
                outcome = 'failed'
                span.record_exception(task.exception)
                span.set_status(Status(StatusCode.ERROR, repr(task.exception)))
            else:
                outcome = 'completed'
            span.set_attribute('gatasker.task.outcome', outcome)
            span.end(end_time=_ns(ended) if ended is not None else None)
        except Exception:
            logger.exception('opentelemetry: ending the span of %r failed', task)

    @contextmanager
    def task_running(self, task: Task[Any]) -> Iterator[None]:
        span = self._spans.get(task)
        if span is None:
            yield
            return
        span.add_event('started', timestamp=_ns(task.time_started or 0.0) or None)
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            yield
        finally:
            otel_context.detach(token)

    def coroutine(self, task: Task[Any],
                  coro: Coroutine[Any, Any, Any]) -> Coroutine[Any, Any, Any]:
        async def in_context() -> object:
            with self.task_running(task):
                return await coro
        return in_context()

    def process_target(self, task: Task[Any],
                       target: Callable[..., Any]) -> Callable[..., Any]:
        span = self._spans.get(task)
        if span is None:
            return target
        span.add_event('started')
        carrier: dict[str, str] = {}
        propagate.inject(carrier, context=trace.set_span_in_context(span))
        return _InContext(target, carrier)

    def message_sent(self) -> Context | None:
        if self._tracer is None:
            return None
        context = otel_context.get_current()
        return context if trace.get_current_span(context).get_span_context().is_valid else None

    @contextmanager
    def message_handling(self, actor: MessageReceiver, carried: object) -> Iterator[None]:
        if self._tracer is None or (self._supervisors is not None
                                    and actor.supervisor not in self._supervisors):
            yield
            return
        with self._tracer.start_as_current_span(
                f'gatasker.message {actor.name}',
                context=carried if isinstance(carried, Context) else None, kind=SpanKind.CONSUMER,
                attributes={'gatasker.actor': str(actor.name)}, record_exception=False,
                set_status_on_exception=True):
            yield

    # -- metrics -------------------------------------------------------------------------

    def _snapshots(self) -> list[SupervisorStatistics]:
        supervisors = self._supervisors if self._supervisors is not None else running_supervisors()
        return [sup.statistics() for sup in supervisors]

    def _observe_statistics(self, meter: Meter) -> None:
        def per_priority(field: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
            def observe(_: CallbackOptions) -> Iterable[Observation]:
                return [Observation(getattr(pri, field), {
                            'gatasker.supervisor': str(stats.id),
                            'gatasker.task.tier': tier.name,
                            'gatasker.task.priority': PRIORITY_NAMES[priority]})
                        for stats in self._snapshots() for tier in stats.tiers.values()
                        for priority, pri in tier.priorities.items()]
            return observe

        def per_tier(field: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
            def observe(_: CallbackOptions) -> Iterable[Observation]:
                return [Observation(getattr(tier, field), {
                            'gatasker.supervisor': str(stats.id),
                            'gatasker.task.tier': tier.name})
                        for stats in self._snapshots() for tier in stats.tiers.values()]
            return observe

        def per_actor(field: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
            def observe(_: CallbackOptions) -> Iterable[Observation]:
                return [Observation(getattr(actor, field), {
                            'gatasker.supervisor': str(stats.id), 'gatasker.actor': actor.name,
                            'gatasker.actor.kind': actor.kind})
                        for stats in self._snapshots() for actor in stats.actor_statistics]
            return observe

        def per_supervisor(get: Callable[[SupervisorStatistics], float | None]
                           ) -> Callable[[CallbackOptions], Iterable[Observation]]:
            def observe(_: CallbackOptions) -> Iterable[Observation]:
                observations = []
                for stats in self._snapshots():
                    value = get(stats)
                    if value is not None:
                        observations.append(
                            Observation(value, {'gatasker.supervisor': str(stats.id)}))
                return observations
            return observe

        gauge, counter = meter.create_observable_gauge, meter.create_observable_counter
        gauge('gatasker.tasks.running', [per_priority('running')], description='Tasks running')
        gauge('gatasker.tasks.queued', [per_priority('queued')],
              description='Tasks waiting for a slot')
        for field, what in (('completed', 'Tasks that ended (failed ones too)'),
                            ('failed', 'Tasks that raised'),
                            ('cancelled', 'Tasks canceled before they started'),
                            ('timed_out', 'Times a waiting task passed a timeout level')):
            counter(f'gatasker.tasks.{field}', [per_priority(field)], description=what)
        for field in ('pool_size', 'reserve_normal', 'reserve_high'):
            gauge(f'gatasker.tier.{field}', [per_tier(field)], description=f'The tier {field}')
        gauge('gatasker.actor.mailbox', [per_actor('mailbox')],
              description='Messages (items) waiting')
        counter('gatasker.actor.handled', [per_actor('handled')],
                description='Messages handled (worker: executor runs)')
        counter('gatasker.actor.failed', [per_actor('failed')],
                description='Messages whose handler (executor) raised')
        counter('gatasker.actor.restarts', [per_actor('restarts')],
                description='Times an ActorSupervisor restarted it')
        gauge('gatasker.aloops', [per_supervisor(lambda s: s.aloops)], description='aloops')
        gauge('gatasker.process_pool.alive', [per_supervisor(
            lambda s: s.process_pool.alive if s.process_pool else None)],
            description='Worker processes running')
        counter('gatasker.process_pool.replaced', [per_supervisor(
            lambda s: s.process_pool.replaced if s.process_pool else None)],
            description='Worker processes started in place of one that ended')
        gauge('gatasker.hub.lag_p99', [per_supervisor(
            lambda s: s.hub.lag_p99 if s.hub else None)], unit='s',
            description="99th percentile of the hub's recent lag (hub watchdog)")
        counter('gatasker.hub.incidents', [per_supervisor(
            lambda s: s.hub.incidents if s.hub else None)],
            description='Times the hub was blocked longer than the watchdog threshold')


def instrument(tracer_provider: TracerProvider | None = None,
               meter_provider: MeterProvider | None = None,
               supervisors: Iterable[TaskSupervisor] | TaskSupervisor | None = None,
               traces: bool = True) -> Instrumentation:
    """Trace tasks and actor messages and export statistics as OTel metrics.

    *tracer_provider*/*meter_provider*: the providers to use (default: the
    global ones). *supervisors*: one supervisor, several, or None for every
    running one. ``traces=False`` keeps the metrics only. Raises
    RuntimeError when gatasker is instrumented already (call
    ``uninstrument()`` on the first one). Any thread; never blocks.
    """
    if _tracing.tracer is not None:
        raise RuntimeError('gatasker is instrumented already: uninstrument() it first')
    if isinstance(supervisors, TaskSupervisor):
        supervisors = [supervisors]
    elif supervisors is not None:
        supervisors = list(supervisors)
        for sup in supervisors:
            if not isinstance(sup, TaskSupervisor):
                raise TypeError(f'expected TaskSupervisor objects, got {sup!r}')
    instrumentation = Instrumentation(tracer_provider, meter_provider, supervisors, traces)
    _tracing.tracer = instrumentation
    return instrumentation
