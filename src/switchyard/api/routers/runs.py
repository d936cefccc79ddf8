"""Runs: start, list, read (live, or as a stream), cancel, rerun, approve.

Reads need `runs_read`, starts and reruns `workflows_run`, cancels
`runs_cancel` and approvals `runs_approve`, each by role or by a grant on
the run's workflow. A run executes as the caller (its connections are
checked against the caller's `connections_use` when its steps run). Every
start, cancel, rerun and approval is in the audit log.

This module also starts the run recorder with the app and serves
`GET /metrics` (`switchyard.api.metrics`).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from temporalio.service import RPCError

from switchyard.api import metrics, tracing
from switchyard.api.app import AppState, on_shutdown, on_startup
from switchyard.api.auth import CurrentPrincipal, TxSession, authorize
from switchyard.api.deps import StateDep, TemporalDep
from switchyard.api.errors import ApiError
from switchyard.api.pagination import Cursor, Limit, decode_cursor, page
from switchyard.api.routers import runs_actions
from switchyard.api.routers.runs_actions import allow, record, refused, run_or_404, unavailable
from switchyard.control import runs as store
from switchyard.control import workflows
from switchyard.control.permissions import Permission as P
from switchyard.control.recorder import RecorderOptions, RunRecorder
from switchyard.control.runs_service import RunRefused, read_run, start_run
from switchyard.control.timestamps import iso, parse_time

router = APIRouter(tags=["runs"])
router.include_router(runs_actions.router)
router.include_router(metrics.router)

RunId = Annotated[str, Path(min_length=1, max_length=255, description="run id")]
Name = Annotated[str, Path(min_length=1, max_length=64, description="workflow name")]
#: Seconds between two reads of a streamed run, and between keep-alive comments.
STREAM_POLL = 0.5
STREAM_KEEPALIVE = 15.0


class StartBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    inputs: dict[str, Any] = Field(default_factory=dict)
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)


# ---------------------------------------------------------------- start


@router.post("/api/v1/workflows/{name}/runs", status_code=201)
async def start(
    name: Name,
    principal: CurrentPrincipal,
    state: StateDep,
    temporal: TemporalDep,
    request: Request,
    response: Response,
    body: Annotated[StartBody | None, Body()] = None,
) -> dict[str, Any]:
    """Start a run of the workflow (its published version, else the latest, or `version`).

    The same `idempotency_key` for the same workflow answers the run it
    started (200) instead of starting another.
    """
    body = body or StartBody()
    await allow(state, principal, P.WORKFLOWS_RUN, name)
    try:
        async with state.db.session() as session:
            version = await workflows.resolve_version(session, name, body.version)
    except LookupError as exc:
        raise ApiError(404, str(exc).strip("'\"")) from None
    try:
        started = await start_run(
            state.db,
            temporal,
            task_queue=state.settings.task_queue,
            definition=version.definition,
            version=version.number,
            inputs=body.inputs,
            trigger={"type": "manual", "user": principal.name},
            identity=principal.id,
            idempotency_key=body.idempotency_key,
        )
    except RunRefused as exc:
        raise refused(exc) from None
    except RPCError as exc:
        raise unavailable(exc) from None
    if not started.created:
        response.status_code = 200
        return started.run
    await record(
        state,
        principal,
        request,
        "run.start",
        started.run["id"],
        workflow=name,
        version=version.number,
        idempotency_key=body.idempotency_key,
    )
    metrics.count_run_started(state, name, "manual")
    return started.run


# ---------------------------------------------------------------- read


@router.get("/api/v1/runs")
async def list_runs(
    principal: CurrentPrincipal,
    session: TxSession,
    workflow: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[
        str | None, Query(max_length=200, description="a status, or several: failed,timed_out")
    ] = None,
    trigger: Annotated[str | None, Query(max_length=32, description="trigger type")] = None,
    since: Annotated[str | None, Query(max_length=64, description="started at or after")] = None,
    until: Annotated[str | None, Query(max_length=64, description="started before")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Runs newest first (from the event store): summaries without inputs, outputs, steps."""
    if workflow is not None:
        await authorize(session, principal, P.RUNS_READ, "workflow", workflow)
    elif not principal.can(P.RUNS_READ):
        raise ApiError(403, "permission 'runs_read' is required (or filter by a workflow)")
    problems = []
    try:
        wanted = store.statuses(status)
    except ValueError as exc:
        problems.append({"location": "status", "message": str(exc)})
    times = {}
    for field, text in (("since", since), ("until", until)):
        try:
            times[field] = parse_time(text) if text else None
        except ValueError:
            problems.append({"location": field, "message": f"not a date-time: {text!r}"})
    if problems:
        raise ApiError(422, f"invalid filter: {problems[0]['message']}", problems=problems)
    key = decode_cursor(cursor, (str, str))
    try:
        after = (parse_time(key[0]), key[1]) if key else None
    except ValueError:
        raise ApiError(400, "invalid cursor: pass the next_cursor of a previous page") from None
    rows = await store.list_runs(
        session,
        workflow=workflow,
        status=wanted,
        trigger=trigger,
        since=times["since"],
        until=times["until"],
        after=after,
        limit=limit + 1,
    )
    return page(rows, limit, key=lambda r: [iso(r.started_at), r.id], render=store.summary)


@router.get("/api/v1/runs/{run_id}")
async def get(run_id: RunId, principal: CurrentPrincipal, state: StateDep) -> dict[str, Any]:
    """The run JSON: live while it runs, from the event store once it has finished."""
    run = await run_or_404(state, run_id)
    await allow(state, principal, P.RUNS_READ, str(run["workflow"]))
    return run


@router.get(
    "/api/v1/runs/{run_id}/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(run_id: RunId, principal: CurrentPrincipal, state: StateDep) -> StreamingResponse:
    """Server-sent events: `event: run` with the run JSON on every change; ends after
    the final state. A comment line every 15 s keeps idle connections open."""
    run = await run_or_404(state, run_id)
    await allow(state, principal, P.RUNS_READ, str(run["workflow"]))
    return StreamingResponse(
        _events(state, run_id, run),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(state: AppState, run_id: str, run: dict[str, Any] | None) -> AsyncIterator[str]:
    last = ""
    sent_at = time.monotonic()
    number = 0
    while run is not None:
        text = json.dumps(run, separators=(",", ":"), default=str)
        if text != last:
            number += 1
            yield f"event: run\nid: {number}\ndata: {text}\n\n"
            last, sent_at = text, time.monotonic()
        elif time.monotonic() - sent_at > STREAM_KEEPALIVE:
            yield ": keep-alive\n\n"
            sent_at = time.monotonic()
        if run.get("status") in store.FINAL:
            return
        await asyncio.sleep(STREAM_POLL)
        try:
            run = await read_run(state.db, state.temporal, run_id)
        except RPCError:
            continue  # Temporal briefly unreachable: try again at the next tick


# ---------------------------------------------------------------- the recorder


def _recorder_options(state: AppState) -> tuple[bool, RecorderOptions]:
    given = dict(state.extras.get("recorder_options") or {})
    enabled = bool(given.pop("enabled", True))
    interval = os.environ.get("SWITCHYARD_RECORDER_INTERVAL", "").strip()
    if interval and "interval" not in given:
        given["interval"] = float(interval)
    given.setdefault("task_queue", state.settings.task_queue)
    return enabled, RecorderOptions(**given)


class _Observers:
    """The recorder's hooks: metrics, and traces when an exporter is configured."""

    def __init__(self, found: metrics.Metrics, tracer: tracing.RunTracer | None) -> None:
        self.metrics = found
        self.tracer = tracer

    def run_started(self, run: dict[str, Any]) -> None:
        self.metrics.run_started(run)

    def run_finished(self, run: dict[str, Any], kinds: dict[str, Any]) -> None:
        self.metrics.run_finished(run, kinds)
        if self.tracer is not None:
            self.tracer.emit(run, kinds)

    def swept(self, stats: Any) -> None:
        self.metrics.swept(stats)


@on_startup
async def start_recorder(state: AppState) -> None:
    """Start the run recorder (when Temporal is configured) and the run tracer."""
    tracer = tracing.setup_tracing(state)
    state.extras["tracer"] = tracer
    enabled, options = _recorder_options(state)
    if state.temporal is None or not enabled:
        return
    recorder = RunRecorder(
        state.db,
        state.temporal,
        options=options,
        hooks=_Observers(metrics.metrics_of(state), tracer),
    )
    recorder.start()
    state.extras["recorder"] = recorder


@on_shutdown
async def stop_recorder(state: AppState) -> None:
    """Stop the run recorder and flush the traces."""
    recorder = state.extras.pop("recorder", None)
    if recorder is not None:
        await recorder.stop()
    tracer = state.extras.pop("tracer", None)
    if tracer is not None:
        tracer.shutdown()
