"""Run traces reach a real OTLP/HTTP endpoint when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set.

The collector is a local HTTP server that decodes the OTLP protobuf body the
exporter posts, as an OpenTelemetry collector would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from switchyard.api.app import AppState
from switchyard.api.tracing import setup_tracing
from switchyard.config import Settings
from switchyard.control.db import Database, database_url


def test_run_spans_are_exported_over_otlp_http(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    received: list[ExportTraceServiceRequest] = []

    def collect(request: Request) -> Response:
        assert request.headers["Content-Type"] == "application/x-protobuf"
        message = ExportTraceServiceRequest()
        message.ParseFromString(request.get_data())
        received.append(message)
        return Response(b"", 200, content_type="application/x-protobuf")

    httpserver.expect_request("/v1/traces", method="POST").respond_with_handler(collect)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", httpserver.url_for("/v1/traces"))
    state = AppState(settings=Settings(data_dir=tmp_path), db=Database(database_url(tmp_path, {})))
    tracer = setup_tracing(state)
    assert tracer is not None
    run = {
        "id": "run-1",
        "workflow": "heal",
        "version": 2,
        "status": "failed",
        "error": {"type": "HttpServerError", "message": "503", "step": "restart"},
        "trigger": {"type": "monitor"},
        "started_at": "2026-11-27T10:00:00Z",
        "finished_at": "2026-11-27T10:00:05Z",
        "steps": {
            "check": {"status": "succeeded", "attempts": 1,
                      "started_at": "2026-11-27T10:00:00Z", "finished_at": "2026-11-27T10:00:01Z"},
            "restart": {"status": "failed", "attempts": 3,
                        "error": {"type": "HttpServerError", "message": "503"},
                        "started_at": "2026-11-27T10:00:01Z",
                        "finished_at": "2026-11-27T10:00:05Z"},
        },
    }  # fmt: skip
    action = {"kind": "action", "action": "http.request"}
    tracer.emit(run, {"check": action, "restart": action})
    tracer.shutdown()  # flushes the batch
    spans = [
        span
        for message in received
        for resource in message.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    names = sorted(span.name for span in spans)
    assert len(spans) == 3, names
    root = next(s for s in spans if not s.parent_span_id)
    assert {s.parent_span_id for s in spans if s is not root} == {root.span_id}
    assert root.end_time_unix_nano - root.start_time_unix_nano == 5_000_000_000
    restart = next(s for s in spans if s.name == "step restart")
    attrs = {a.key: a.value for a in restart.attributes}
    assert attrs["switchyard.step.action"].string_value == "http.request"
    assert attrs["switchyard.step.attempts"].int_value == 3
