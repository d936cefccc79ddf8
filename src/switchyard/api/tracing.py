"""OpenTelemetry traces of runs, derived from their final snapshots.

When a run finishes, the run recorder hands its run JSON here and one trace
is emitted: a `run <workflow>` span from the run's start to its end, a child
span per step that ran (attributes: status, attempts, kind, action type,
error), and under a loop step one span per iteration with its steps. The
spans carry the run's own timestamps, so the trace shows the run as it
happened even though it is emitted afterwards, and tracing costs the run
nothing (no interceptor, no history event).

Tracing is on when an exporter is configured: `OTEL_EXPORTER_OTLP_ENDPOINT`
(or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) with the `opentelemetry-exporter-otlp`
package installed, or an exporter object put in `state.extras["span_exporter"]`
before the app starts (tests use the SDK's in-memory exporter).
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Any

from switchyard.api.app import AppState

__all__ = ["MAX_SPANS", "RunTracer", "setup_tracing"]

log = logging.getLogger(__name__)

#: Spans per run at most (a loop over many items keeps its first iterations).
MAX_SPANS = 1000


def _ns(text: Any) -> int | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return int(value.timestamp() * 1_000_000_000)


class RunTracer:
    """Emits one trace per finished run through its own tracer provider."""

    def __init__(self, exporter: Any, *, batch: bool = True) -> None:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        self.provider = TracerProvider(resource=Resource.create({"service.name": "switchyard"}))
        processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        self.provider.add_span_processor(processor)
        self.tracer = self.provider.get_tracer("switchyard.runs")

    def emit(self, run: dict[str, Any], kinds: dict[str, Any]) -> None:
        """The trace of one finished run."""
        from opentelemetry import trace

        start = _ns(run.get("started_at"))
        end = _ns(run.get("finished_at")) or start
        trigger = (run.get("trigger") or {}).get("type") or "manual"
        span = self.tracer.start_span(
            f"run {run.get('workflow')}",
            start_time=start,
            attributes=_clean(
                {
                    "switchyard.run.id": run.get("id"),
                    "switchyard.workflow": run.get("workflow"),
                    "switchyard.workflow.version": run.get("version"),
                    "switchyard.run.status": run.get("status"),
                    "switchyard.trigger.type": trigger,
                    "switchyard.run.rerun_of": run.get("rerun_of"),
                }
            ),
        )
        _status(span, run.get("status"), run.get("error"))
        budget = [MAX_SPANS - 1]
        self._steps(trace.set_span_in_context(span), run.get("steps") or {}, kinds, "", budget)
        span.end(end_time=end)

    def _steps(
        self,
        parent: Any,
        steps: dict[str, Any],
        kinds: dict[str, Any],
        prefix: str,
        budget: list[int],
    ) -> None:
        from opentelemetry import trace

        for sid, st in steps.items():
            start = _ns(st.get("started_at"))
            if start is None or budget[0] <= 0:
                continue  # never ran (pending, skipped)
            budget[0] -= 1
            kind = kinds.get(sid) or {}
            span = self.tracer.start_span(
                f"step {prefix}{sid}",
                context=parent,
                start_time=start,
                attributes=_clean(
                    {
                        "switchyard.step.id": f"{prefix}{sid}",
                        "switchyard.step.status": st.get("status"),
                        "switchyard.step.attempts": st.get("attempts"),
                        "switchyard.step.kind": kind.get("kind"),
                        "switchyard.step.action": kind.get("action"),
                        "switchyard.step.reused": bool(st.get("reused")),
                    }
                ),
            )
            _status(span, st.get("status"), st.get("error"))
            context = trace.set_span_in_context(span)
            for it in st.get("iterations") or []:
                if budget[0] <= 0:
                    break
                self._iteration(context, it, kind.get("do") or {}, f"{prefix}{sid}", budget)
            span.end(end_time=_ns(st.get("finished_at")) or start)

    def _iteration(
        self, parent: Any, it: dict[str, Any], kinds: dict[str, Any], path: str, budget: list[int]
    ) -> None:
        from opentelemetry import trace

        steps = it.get("steps") or {}
        starts = [t for t in (_ns(s.get("started_at")) for s in steps.values()) if t]
        ends = [t for t in (_ns(s.get("finished_at")) for s in steps.values()) if t]
        if not starts:
            return
        budget[0] -= 1
        index = it.get("index")
        span = self.tracer.start_span(
            f"iteration {path}[{index}]",
            context=parent,
            start_time=min(starts),
            attributes=_clean(
                {"switchyard.iteration.index": index, "switchyard.step.status": it.get("status")}
            ),
        )
        _status(span, it.get("status"), it.get("error"))
        self._steps(trace.set_span_in_context(span), steps, kinds, f"{path}[{index}].", budget)
        span.end(end_time=max(ends) if ends else min(starts))

    def shutdown(self) -> None:
        """Flush and stop the exporter."""
        self.provider.shutdown()


def _clean(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if v is not None}


def _status(span: Any, status: Any, error: Any) -> None:
    from opentelemetry.trace import Status, StatusCode

    if status in ("failed", "timed_out"):
        err = error if isinstance(error, dict) else {}
        span.set_status(Status(StatusCode.ERROR, str(err.get("message") or status)))
        if err.get("type"):
            span.set_attribute("switchyard.error.type", str(err["type"]))
    elif status == "succeeded":
        span.set_status(Status(StatusCode.OK))


def setup_tracing(state: AppState) -> RunTracer | None:
    """The app's run tracer, or None when no exporter is configured."""
    exporter = state.extras.get("span_exporter")
    if exporter is not None:
        return RunTracer(exporter, batch=False)
    if not (
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    ):
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter,
        )
    except ImportError:
        log.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but opentelemetry-exporter-otlp is not "
            "installed: run traces are off"
        )
        return None
    return RunTracer(OTLPSpanExporter())
