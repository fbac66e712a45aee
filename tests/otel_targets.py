"""Process-task targets for test_contrib_opentelemetry (importable in worker processes)."""

from __future__ import annotations

from typing import Any


def current_trace(**_: Any) -> tuple[int, int]:
    """The trace and span id current in the worker process."""
    from opentelemetry import trace
    context = trace.get_current_span().get_span_context()
    return context.trace_id, context.span_id
