"""Who may call what, continued: runs, events, schedules, webhooks and metrics.

The same rule as tests/api/test_rbac_matrix.py (that file covers users,
tokens, grants, workflows, audit, connections, actions and health): the
expected status for admin, editor, operator, viewer and no token is written
out by hand from the roles of DESIGN.md, and every route of these routers
must appear below. These endpoints need Temporal, so this matrix runs on the
app with a worker (tests/triggers/conftest.py). Each cell works on its own
run so that an allowed call gets its exact success status.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from switchyard.control import auth
from switchyard.control.db import Database

pytestmark = [pytest.mark.temporal, pytest.mark.no_record]

ROLES = ("admin", "editor", "operator", "viewer", "anonymous")
PAYLOADS = Path(__file__).parent / "payloads"
FLOW = """
name: {name}
triggers:
  - id: tick
    schedule: {{every: 1h}}
  - monitor: {{match: "false"}}
steps:
  - id: ask
    approval: "go?"
    timeout: 1h
"""


@dataclass
class Row:
    method: str
    path: str
    expect: tuple[int, int, int, int, int]
    json: Any = None
    #: The cell needs a run of its own waiting on its approval (`{run}` in the path).
    run: bool = False
    #: ... and that run has ended (cancelled): a rerun needs a finished run.
    ended: bool = False


# fmt: off
MATRIX: dict[str, Row] = {
    "runs.start":    Row("POST", "/api/v1/workflows/{wf}/runs", (201, 201, 201, 403, 401),
                         json={"inputs": {}}),
    "runs.list":     Row("GET", "/api/v1/runs", (200, 200, 200, 200, 401)),
    "runs.get":      Row("GET", "/api/v1/runs/{run}", (200, 200, 200, 200, 401), run=True),
    "runs.cancel":   Row("POST", "/api/v1/runs/{run}/cancel", (202, 202, 202, 403, 401), run=True),
    "runs.rerun":    Row("POST", "/api/v1/runs/{run}/rerun", (201, 201, 201, 403, 401),
                         json={"from": "start"}, run=True, ended=True),
    "runs.approve":  Row("POST", "/api/v1/runs/{run}/approvals/ask", (200, 200, 200, 403, 401),
                         json={"choice": "approve"}, run=True),
    "events.post":   Row("POST", "/api/v1/events", (202, 202, 202, 403, 401),
                         json={"title": "x", "tags": ["matrix"]}),
    "events.native": Row("POST", "/api/v1/events/alertmanager", (202, 202, 202, 403, 401),
                         json=json.loads((PAYLOADS / "alertmanager.json").read_text())),
    "events.list":   Row("GET", "/api/v1/events", (200, 200, 200, 200, 401)),
    "events.get":    Row("GET", "/api/v1/events/matrix-event", (200, 200, 200, 200, 401)),
    "schedules.list": Row("GET", "/api/v1/schedules", (200, 200, 200, 200, 401)),
    "schedules.pause": Row("POST", "/api/v1/workflows/{wf}/schedules/tick/pause",
                           (200, 200, 403, 403, 401), json={}),
    "schedules.resume": Row("POST", "/api/v1/workflows/{wf}/schedules/tick/resume",
                            (200, 200, 403, 403, 401), json={}),
    "schedules.backfill": Row("POST", "/api/v1/workflows/{wf}/schedules/tick/backfill",
                              (202, 202, 403, 403, 401),
                              json={"start": "2026-01-01T00:00:00Z",
                                    "end": "2026-01-01T01:00:00Z"}),
    # Webhooks authenticate by signature, never by token (test_webhooks_api.py):
    # an unknown hook is 404 for everyone.
    "hooks":         Row("POST", "/hooks/{wf}/nope", (404, 404, 404, 404, 404), json={}),
    # Prometheus scrapes without a token.
    "metrics":       Row("GET", "/metrics", (200, 200, 200, 200, 200)),
}
# fmt: on

COVERED_TAGS = {"runs", "events", "schedules", "webhooks", "metrics"}


async def test_the_matrix_covers_every_route(trigger_app: FastAPI) -> None:
    calls = [(row.method, row.path) for row in MATRIX.values()]
    for route in trigger_app.routes:
        if not isinstance(route, APIRoute):
            continue
        if not (COVERED_TAGS & set(route.tags) or route.path == "/metrics"):
            continue
        if route.path.endswith("/stream"):
            continue  # a stream: its reads need runs_read like runs.get (test_runs_stream.py)
        for method in route.methods:
            concrete = [
                p.replace("{wf}", "w").replace("{run}", "r").replace("{id}", "i")
                for m, p in calls
                if m == method
            ]
            assert any(route.path_regex.match(p) for p in concrete), (
                f"{method} {route.path} is not in the matrix"
            )


async def test_rbac_matrix_runs_events_schedules(
    trigger_app: FastAPI, db: Database, admin: httpx.AsyncClient
) -> None:
    transport = admin._transport
    clients: dict[str, httpx.AsyncClient] = {"admin": admin}
    for role in ("editor", "operator", "viewer"):
        async with db.session() as session:
            user = await auth.create_user(session, f"m-{role}-{uuid.uuid4().hex[:4]}", role)
            _, token = await auth.create_token(session, user.id)
        clients[role] = httpx.AsyncClient(
            transport=transport,
            base_url="http://switchyard.test",
            headers={"Authorization": f"Bearer {token}"},
        )
    clients["anonymous"] = httpx.AsyncClient(transport=transport, base_url="http://switchyard.test")
    wf = f"matrix-{uuid.uuid4().hex[:6]}"
    put = await admin.put(
        f"/api/v1/workflows/{wf}?publish=true",
        content=FLOW.format(name=wf),
        headers={"Content-Type": "application/yaml"},
    )
    assert put.status_code == 201, put.text
    seeded = await admin.post("/api/v1/events", json={"id": "matrix-event", "title": "seed"})
    assert seeded.status_code == 202

    async def until(run_id: str, status: str) -> None:
        for _ in range(200):
            run = (await admin.get(f"/api/v1/runs/{run_id}")).json()
            if run.get("status") == status:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"run {run_id} never became {status}: {run}")

    async def waiting_run(ended: bool) -> str:
        started = await admin.post(f"/api/v1/workflows/{wf}/runs", json={"inputs": {}})
        assert started.status_code == 201, started.text
        run_id = str(started.json()["id"])
        await until(run_id, "waiting")
        if ended:
            assert (await admin.post(f"/api/v1/runs/{run_id}/cancel")).status_code == 202
            await until(run_id, "cancelled")
        return run_id

    wrong = []
    try:
        for name, row in MATRIX.items():
            for role, expected in zip(ROLES, row.expect, strict=True):
                path = row.path.replace("{wf}", wf)
                if row.run:
                    path = path.replace("{run}", await waiting_run(row.ended))
                body = row.json
                if name == "events.post":
                    body = {**row.json, "id": f"m-{role}-{uuid.uuid4().hex[:6]}"}
                answer = await clients[role].request(row.method, path, json=body)
                if answer.status_code != expected:
                    wrong.append(f"{name} as {role}: {answer.status_code} != {expected}: "
                                 f"{answer.text[:200]}")  # fmt: skip
    finally:
        for role, client in clients.items():
            if role != "admin":
                await client.aclose()
        await admin.delete(f"/api/v1/workflows/{wf}")
    assert wrong == []
