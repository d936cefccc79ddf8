"""`GET /metrics` (Prometheus) and OpenTelemetry traces of finished runs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from prometheus_client.parser import text_string_to_metric_families

from api.runs_support import (  # noqa: F401
    app_fixture,
    connections,
    database_url_for_test,
    finished,
    recorded,
    save,
)
from control.runs_support import eventually
from switchyard.api import metrics as api_metrics
from switchyard.control.db import Database

pytestmark = pytest.mark.temporal

LOOPY = """
name: loopy
steps:
  - id: each
    for_each: "[1, 2]"
    do:
      - id: echo
        action: core.echo
        with: {i: "{{ Item }}"}
    next: boom
  - id: boom
    fail: "stop here"
"""


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def extras(exporter: InMemorySpanExporter) -> dict[str, Any]:
    return {"recorder_options": {"interval": 0.2}, "span_exporter": exporter}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def test_metrics_count_runs_steps_events_and_lag(
    api: httpx.AsyncClient, app: FastAPI, database: Database
) -> None:
    await save(database, LOOPY)
    run = (await api.post("/api/v1/workflows/loopy/runs", json={})).json()
    assert (await finished(api, run["id"]))["status"] == "failed"
    await recorded(database, run["id"])
    state = app.state.switchyard
    api_metrics.count_event_ingested(state, "monitor", 3)
    api_metrics.count_event_matched(state, "loopy")

    async def scraped() -> dict[Any, float] | None:
        reply = await api.get("/metrics")
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/plain")
        found = samples(reply.text)
        key = ("switchyard_runs_finished_total", (("status", "failed"), ("workflow", "loopy")))
        lag = found.get(("switchyard_recorder_lag_seconds_count", ()), 0)
        # The lag is observed when the sweep that recorded the run ends.
        return found if found.get(key) == 1 and lag >= 1 else None

    found = await eventually(scraped)
    assert found[("switchyard_runs_started_total", (("trigger", "manual"), ("workflow", "loopy")))]
    echo = (
        "switchyard_step_duration_seconds_count",
        (("status", "succeeded"), ("type", "core.echo")),
    )
    assert found[echo] == 2  # the loop's iterations are counted too
    loop = (
        "switchyard_step_duration_seconds_count",
        (("status", "succeeded"), ("type", "for_each")),
    )
    assert found[loop] == 1
    assert found[("switchyard_events_ingested_total", (("source", "monitor"),))] == 3
    assert found[("switchyard_events_matched_total", (("workflow", "loopy"),))] == 1
    assert found[("switchyard_recorder_lag_seconds_count", ())] >= 1
    assert found[("switchyard_recorder_sweep_seconds_count", ())] >= 1
    assert ("switchyard_recorder_backlog", ()) in found
    assert ("switchyard_task_queue_backlog", (("type", "activity"),)) in found
    # Another app has its own registry.
    assert api_metrics.Metrics().registry is not api_metrics.metrics_of(state).registry


async def test_a_finished_run_is_one_trace(
    api: httpx.AsyncClient, database: Database, exporter: InMemorySpanExporter
) -> None:
    await save(database, LOOPY)
    run = (await api.post("/api/v1/workflows/loopy/runs", json={})).json()
    await recorded(database, run["id"])

    async def spans() -> list[Any]:
        got = list(exporter.get_finished_spans())
        return got if any(s.name == "run loopy" for s in got) else []

    got = {s.name: s for s in await eventually(spans)}
    root = got["run loopy"]
    assert root.attributes["switchyard.run.id"] == run["id"]
    assert root.attributes["switchyard.run.status"] == "failed"
    assert root.status.status_code == StatusCode.ERROR
    each, boom = got["step each"], got["step boom"]
    assert each.parent.span_id == root.context.span_id
    assert each.context.trace_id == root.context.trace_id
    assert each.attributes["switchyard.step.kind"] == "for_each"
    assert each.attributes["switchyard.step.attempts"] == 1
    assert boom.attributes["switchyard.step.status"] == "failed"
    assert boom.status.status_code == StatusCode.ERROR
    iteration = got["iteration each[1]"]
    assert iteration.parent.span_id == each.context.span_id
    echo = got["step each[1].echo"]
    assert echo.parent.span_id == iteration.context.span_id
    assert echo.attributes["switchyard.step.action"] == "core.echo"
    assert echo.attributes["switchyard.step.status"] == "succeeded"
    assert root.start_time <= each.start_time <= echo.start_time <= echo.end_time <= root.end_time
    names = [s.name for s in exporter.get_finished_spans()]
    assert names.count("run loopy") == 1 and names.count("step each[0].echo") == 1
