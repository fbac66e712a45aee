"""gatasker.contrib.opentelemetry against the real OpenTelemetry SDK (in-memory exporters)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import settle

pytest.importorskip('opentelemetry.sdk', reason="needs the otel extra and opentelemetry-sdk")

import gevent
import otel_targets
from greenlet import GreenletExit
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

import gatasker
from gatasker import TASK_HIGH, TT_GREENLET, TT_MP, TT_THREAD, _tracing
from gatasker.contrib import opentelemetry as gatasker_otel


class Otel:
    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.tracer = self.tracer_provider.get_tracer('test')

    def spans(self, prefix: str = '') -> list[ReadableSpan]:
        return [s for s in self.exporter.get_finished_spans() if s.name.startswith(prefix)]

    def metrics(self) -> dict[str, list[Any]]:
        data = self.reader.get_metrics_data()
        found: dict[str, list[Any]] = {}
        assert data is not None
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    found.setdefault(metric.name, []).extend(metric.data.data_points)
        return found


@pytest.fixture
def otel() -> Iterator[Otel]:
    tools = Otel()
    instrumentation = gatasker_otel.instrument(tools.tracer_provider, tools.meter_provider)
    try:
        yield tools
    finally:
        instrumentation.uninstrument()
        tools.tracer_provider.shutdown()
        tools.meter_provider.shutdown()


@pytest.mark.parametrize('tt', [TT_THREAD, TT_GREENLET])
def test_task_span_is_a_child_of_the_caller_and_current_in_the_target(
        supervisor: gatasker.TaskSupervisor, otel: Otel, tt: int) -> None:
    def target(**_: Any) -> tuple[int, int]:
        with otel.tracer.start_as_current_span('inside'):
            pass
        context = trace.get_current_span().get_span_context()
        return context.trace_id, context.span_id

    with otel.tracer.start_as_current_span('caller') as caller:
        task = supervisor.put_task(target, tt=tt, priority=TASK_HIGH, name='job')
    trace_id, span_id = task.get(timeout=10)
    settle(supervisor)
    [span] = otel.spans('gatasker.task')
    assert span.name == 'gatasker.task job'
    assert span.parent is not None and span.parent.span_id == caller.get_span_context().span_id
    assert span.context.trace_id == trace_id == caller.get_span_context().trace_id
    assert span.context.span_id == span_id  # the task's span is current in the target
    [inside] = otel.spans('inside')
    assert inside.parent is not None and inside.parent.span_id == span.context.span_id
    assert span.attributes is not None
    assert span.attributes['gatasker.task.priority'] == 'high'
    assert span.attributes['gatasker.task.tier'] == ('thread' if tt == TT_THREAD else 'greenlet')
    assert span.attributes['gatasker.task.outcome'] == 'completed'
    assert [event.name for event in span.events] == ['started']
    assert span.start_time is not None and span.end_time is not None
    assert span.start_time <= span.events[0].timestamp <= span.end_time


@pytest.mark.parametrize('error', [ValueError('bad'), SystemExit(3), KeyboardInterrupt(),
                                   GreenletExit(), gevent.Timeout()])
def test_failed_and_canceled_tasks_end_their_spans(
        supervisor: gatasker.TaskSupervisor, otel: Otel, error: BaseException) -> None:
    def fail(**_: Any) -> None:
        raise error

    task = supervisor.put_task(fail, tt=TT_THREAD)
    task.wait(10)
    assert isinstance(task.exception, type(error))
    delayed = supervisor.put_task(fail, tt=TT_THREAD, delay=3600)
    assert delayed.cancel()
    settle(supervisor)
    spans = {s.attributes['gatasker.task.id']: s for s in otel.spans('gatasker.task')
             if s.attributes is not None}
    failed, canceled = spans[str(task.id)], spans[str(delayed.id)]
    assert failed.attributes is not None and canceled.attributes is not None
    assert failed.attributes['gatasker.task.outcome'] == 'failed'
    assert failed.status.status_code == trace.StatusCode.ERROR
    assert [e.name for e in failed.events] == ['started', 'exception']
    assert canceled.attributes['gatasker.task.outcome'] == 'canceled'
    assert [e.name for e in canceled.events] == []


def test_tell_and_ask_carry_the_context_into_the_handler(
        supervisor: gatasker.TaskSupervisor, otel: Otel) -> None:
    seen: list[tuple[int, int]] = []
    done = gatasker._bridge.Latch()

    class Recorder(gatasker.Actor):
        def on_receive(self, message: Any) -> Any:
            context = trace.get_current_span().get_span_context()
            seen.append((context.trace_id, context.span_id))
            if message == 'told':
                done.set()
            return message

    actor = Recorder.spawn(name='recorder', supervisor=supervisor)
    try:
        with otel.tracer.start_as_current_span('sender') as sender:
            actor.tell('told')
            assert actor.ask('asked', timeout=10) == 'asked'
        assert done.wait(10)
        actor.tell('untraced')  # no span current: handled without one
        assert actor.ask('barrier', timeout=10) == 'barrier'
    finally:
        actor.stop()
    messages = otel.spans('gatasker.message')
    assert len(messages) == 2
    for span, (trace_id, span_id) in zip(messages, seen[:2], strict=True):
        assert span.name == 'gatasker.message recorder'
        assert span.parent is not None and span.parent.span_id == sender.get_span_context().span_id
        assert (span.context.trace_id, span.context.span_id) == (trace_id, span_id)
    assert seen[2][0] == 0 and seen[3][0] == 0  # invalid span: nothing current


def test_queue_worker_items_carry_the_context(supervisor: gatasker.TaskSupervisor,
                                              otel: Otel) -> None:
    seen = []
    done = gatasker._bridge.Latch()

    def handle(item: Any, **_: Any) -> None:
        seen.append(trace.get_current_span().get_span_context().trace_id)
        done.set()

    worker = gatasker.background_worker(q=True, name='items', supervisor=supervisor)(handle)
    worker.start()
    try:
        with otel.tracer.start_as_current_span('producer') as producer:
            worker.put(1)
        assert done.wait(10)
    finally:
        worker.stop()
    assert seen == [producer.get_span_context().trace_id]
    [message] = otel.spans('gatasker.message items')
    [task] = otel.spans('gatasker.task')
    assert task.parent is not None and task.parent.span_id == message.context.span_id


def test_coroutine_tasks_on_an_aloop(supervisor: gatasker.TaskSupervisor, otel: Otel) -> None:
    aloop = supervisor.create_aloop('otel', default=True)
    assert aloop

    async def coro(**_: Any) -> int:
        await asyncio.sleep(0)
        return trace.get_current_span().get_span_context().span_id

    with otel.tracer.start_as_current_span('caller') as caller:
        task = supervisor.put_task(coro, tt=gatasker.TT_COROUTINE, _pass_task_id=False)
    span_id = task.get(timeout=10)
    settle(supervisor)
    [span] = otel.spans('gatasker.task')
    assert span.context.span_id == span_id
    assert span.parent is not None and span.parent.span_id == caller.get_span_context().span_id
    assert span.attributes is not None and span.attributes['gatasker.task.tier'] == 'coroutine'


def test_process_tasks_carry_the_context_to_the_worker_process(
        supervisor: gatasker.TaskSupervisor, otel: Otel) -> None:
    supervisor.create_mp_pool(processes=1)
    with otel.tracer.start_as_current_span('caller'):
        task = supervisor.put_task(otel_targets.current_trace, tt=TT_MP)
    trace_id, span_id = task.get(timeout=60)
    settle(supervisor)
    [span] = otel.spans('gatasker.task')
    assert (span.context.trace_id, span.context.span_id) == (trace_id, span_id)
    assert span.attributes is not None and span.attributes['gatasker.task.tier'] == 'mp'


def test_metrics(supervisor: gatasker.TaskSupervisor, otel: Otel) -> None:
    tasks = [supervisor.put_task(lambda **_: None, tt=TT_THREAD) for _ in range(3)]
    gatasker.wait_completed(tasks, timeout=10)
    settle(supervisor)
    found = otel.metrics()
    sid = str(supervisor.id)

    def point(name: str, **attributes: str) -> Any:
        matching = [p for p in found[name] if all(
            p.attributes.get(f'gatasker.{k.replace("_", ".")}') == v
            for k, v in attributes.items())]
        assert len(matching) == 1, (name, attributes, found.get(name))
        return matching[0]

    labels = {'supervisor': sid, 'task_tier': 'thread', 'task_priority': 'normal'}
    assert point('gatasker.tasks.completed', **labels).value == 3
    assert point('gatasker.tasks.running', **labels).value == 0
    assert point('gatasker.tier.pool_size', supervisor=sid, task_tier='thread').value == 15
    wait = point('gatasker.task.queue_wait', task_tier='thread', task_priority='normal')
    assert wait.count == 3
    assert point('gatasker.task.run_time', task_tier='thread', task_priority='normal').count == 3


def test_instrument_twice_is_refused(otel: Otel) -> None:
    with pytest.raises(RuntimeError):
        gatasker_otel.instrument()


def test_bad_supervisors_are_refused_before_anything_is_installed() -> None:
    with pytest.raises(TypeError):
        gatasker_otel.instrument(supervisors=[object()])  # type: ignore[list-item]
    assert _tracing.tracer is None


def test_only_the_given_supervisors_are_traced(supervisor: gatasker.TaskSupervisor) -> None:
    tools = Otel()
    other = gatasker.TaskSupervisor(supervisor_id='other')
    other.start()
    instrumentation = gatasker_otel.instrument(tools.tracer_provider, tools.meter_provider,
                                               supervisors=supervisor)
    try:
        supervisor.put_task(lambda **_: None, tt=TT_THREAD, name='mine').wait(10)
        other.put_task(lambda **_: None, tt=TT_THREAD, name='theirs').wait(10)
        settle(supervisor)
        settle(other)
        assert [s.name for s in tools.spans('gatasker.task')] == ['gatasker.task mine']
    finally:
        instrumentation.uninstrument()
        other.stop()
    supervisor.put_task(lambda **_: None, tt=TT_THREAD, name='after').wait(10)
    settle(supervisor)
    assert [s.name for s in tools.spans('gatasker.task')] == ['gatasker.task mine']
