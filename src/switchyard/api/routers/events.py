"""Events: `POST /api/v1/events` (normalized), `POST /api/v1/events/{adapter}`, and reads.

A 202 means the events are stored (committed) and so will be dispatched,
even if this process dies right after answering; `runs` lists the runs
they started (for a redelivered event, the runs it started the first time).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from switchyard.api import metrics
from switchyard.api.app import AppState, on_shutdown, on_startup
from switchyard.api.auth import Principal, TxSession, require
from switchyard.api.deps import StateDep
from switchyard.api.errors import ApiError
from switchyard.api.pagination import Cursor, Limit, decode_cursor, page, query_time
from switchyard.control import events as store
from switchyard.control.permissions import Permission as P
from switchyard.triggers.adapters import ADAPTERS
from switchyard.triggers.dispatcher import Dispatcher
from switchyard.triggers.events import Event, EventError, parse_events

router = APIRouter(tags=["events"])

#: Largest event body accepted (bytes); larger is 413.
MAX_BODY = 1024 * 1024


@on_startup
async def _start_dispatcher(state: AppState) -> None:
    dispatcher = Dispatcher(state.db, state.temporal, state.settings.task_queue)
    state.extras["dispatcher"] = dispatcher
    dispatcher.start()


@on_shutdown
async def _stop_dispatcher(state: AppState) -> None:
    dispatcher = state.extras.pop("dispatcher", None)
    if dispatcher is not None:
        await dispatcher.stop()


def dispatcher_of(state: AppState) -> Dispatcher:
    dispatcher = state.extras.get("dispatcher")
    if dispatcher is None:  # an app used without its lifespan (tests of other routers)
        dispatcher = state.extras["dispatcher"] = Dispatcher(
            state.db, state.temporal, state.settings.task_queue
        )
    return dispatcher  # type: ignore[no-any-return]


async def read_json(request: Request, limit: int = MAX_BODY) -> Any:
    """The JSON body, or a 413 / 400 naming the problem."""
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks) or b"null")
    except ValueError as exc:
        raise ApiError(400, f"body is not JSON: {exc}") from None


def _problems(exc: EventError) -> ApiError:
    return ApiError(422, f"invalid event: {exc}", problems=exc.problems)


async def accept(state: AppState, events: list[Event], via: str) -> dict[str, Any]:
    """Store and dispatch; counts what happened in /metrics."""
    result = await dispatcher_of(state).accept(events, via=via)
    new = [
        e for e, summary in zip(events, result["events"], strict=True) if not summary["duplicate"]
    ]
    for event in new:
        metrics.count_event_ingested(state, event.source)
    for summary in result["events"]:
        if summary["duplicate"]:
            continue
        for run_id in summary["runs"]:
            workflow = run_id.split("-ev-", 1)[0]
            metrics.count_event_matched(state, workflow)
            source = next(e.source for e in events if e.id == summary["id"])
            metrics.count_run_started(state, workflow, source)
    return result


async def _accept(state: AppState, events: list[Event], via: str) -> JSONResponse:
    return JSONResponse(await accept(state, events, via), status_code=202)


@router.post("/api/v1/events", status_code=202)
async def post_events(
    request: Request,
    state: StateDep,
    _: Annotated[Principal, Depends(require(P.EVENTS_CREATE))],
) -> JSONResponse:
    """Ingest a normalized event `{id, source, title, status, severity, tags, attributes,
    occurred_at, raw}` or a list of them."""
    try:
        events = parse_events(await read_json(request))
    except EventError as exc:
        raise _problems(exc) from None
    return await _accept(state, events, "events")


@router.post("/api/v1/events/{adapter}", status_code=202)
async def post_native_events(
    adapter: str,
    request: Request,
    state: StateDep,
    _: Annotated[Principal, Depends(require(P.EVENTS_CREATE))],
) -> JSONResponse:
    """Ingest a monitoring product's native webhook body (`alertmanager`, `grafana`, `datadog`)."""
    convert = ADAPTERS.get(adapter)
    if convert is None:
        raise ApiError(404, f"unknown adapter {adapter!r}; known: {', '.join(sorted(ADAPTERS))}")
    try:
        events = convert(await read_json(request))
    except EventError as exc:
        raise _problems(exc) from None
    return await _accept(state, events, adapter)


@router.get("/api/v1/events")
async def list_events(
    session: TxSession,
    _: Annotated[Principal, Depends(require(P.EVENTS_READ))],
    source: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Ingested events, newest first, with the runs they started."""
    after = decode_cursor(cursor, (str, str))
    before = (query_time(after[0], "cursor"), after[1]) if after else None
    rows = await store.list_events(
        session,
        limit=limit + 1,
        before=before,
        source=source,
        status=status,  # type: ignore[arg-type]
    )
    return page(rows, limit, lambda r: [r.received_at.isoformat(), r.id], lambda r: r.to_public())


@router.get("/api/v1/events/{event_id:path}")
async def get_event(
    event_id: str,
    session: TxSession,
    _: Annotated[Principal, Depends(require(P.EVENTS_READ))],
) -> dict[str, Any]:
    """One event: its runs, and for each workflow that did not match, why."""
    row = await store.get_event(session, event_id)
    if row is None:
        raise ApiError(404, f"event {event_id!r} not found")
    return row.to_public()
