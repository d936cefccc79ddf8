"""Runs API: start (versions, inputs, idempotency, identity), read, list, permissions."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from api.runs_support import (  # noqa: F401
    app_fixture,
    connections,
    database_url_for_test,
    extras,
    finished,
    recorded,
    save,
)
from control.runs_support import ECHO, eventually
from switchyard.control import audit, auth
from switchyard.control import runs as store
from switchyard.control.db import Database

pytestmark = pytest.mark.temporal

V2 = ECHO.replace("n: {type: integer, default: 1}", "n: {type: integer, default: 100}")


async def test_start_read_and_finish(api: httpx.AsyncClient, database: Database) -> None:
    await save(database, ECHO)
    reply = await api.post("/api/v1/workflows/echo-twice/runs", json={"inputs": {"n": 2}})
    assert reply.status_code == 201, reply.text
    run = reply.json()
    assert run["status"] == "running" and run["workflow"] == "echo-twice"
    assert run["version"] == 1 and run["inputs"] == {"n": 2}
    assert run["steps"] == {"first": {"status": "pending"}, "second": {"status": "pending"}}
    assert run["trigger"] == {"type": "manual", "user": "admin"}
    done = await finished(api, run["id"])
    assert done["status"] == "succeeded" and done["outputs"] == {"n": 3}
    assert done["steps"]["second"]["output"] == {"n": 3}
    async with database.session() as s:
        admin = await auth.find_user(s, "admin")
        assert admin is not None and done["identity"] == admin.id  # runs as the caller
        entries = await audit.query(s, action="run.start")
    assert [(e.actor, e.resource) for e in entries] == [("admin", f"run:{run['id']}")]

    row = await recorded(database, run["id"])
    assert row.status == "succeeded"
    assert row.identity == done["identity"] and row.snapshot["outputs"] == {"n": 3}


async def test_version_defaults_to_published_else_latest(
    api: httpx.AsyncClient, database: Database
) -> None:
    await save(database, ECHO, publish=False)
    await save(database, V2, publish=False)

    async def started(body: dict[str, Any]) -> dict[str, Any]:
        reply = await api.post("/api/v1/workflows/echo-twice/runs", json=body)
        assert reply.status_code == 201, reply.text
        return reply.json()

    latest = await started({})
    assert (latest["version"], latest["inputs"]) == (2, {"n": 100})
    async with database.session() as s:
        from switchyard.control import workflows

        await workflows.publish(s, "echo-twice", 1)
    published = await started({})
    assert (published["version"], published["inputs"]) == (1, {"n": 1})
    assert (await started({"version": 2}))["version"] == 2
    missing = await api.post("/api/v1/workflows/echo-twice/runs", json={"version": 9})
    assert missing.status_code == 404 and "no version 9" in missing.json()["error"]["message"]
    unknown = await api.post("/api/v1/workflows/nope/runs", json={})
    assert unknown.status_code == 404
    await finished(api, latest["id"])
    await finished(api, published["id"])


async def test_inputs_are_checked_before_starting(
    api: httpx.AsyncClient, database: Database, client: Client, task_queue: str
) -> None:
    await save(
        database,
        """
        name: typed
        inputs:
          service: {type: string, required: true}
          limit: {type: integer, default: 3}
        steps:
          - id: a
            transform: "1"
        """,
    )
    reply = await api.post(
        "/api/v1/workflows/typed/runs", json={"inputs": {"limit": "many", "extra": 1}}
    )
    assert reply.status_code == 422, reply.text
    problems = reply.json()["error"]["problems"]
    assert sorted(p["location"] for p in problems) == [
        "inputs.extra",
        "inputs.limit",
        "inputs.service",
    ]
    assert "required" in next(p for p in problems if p["location"] == "inputs.service")["message"]
    bad_body = await api.post("/api/v1/workflows/typed/runs", json={"inputs": [1]})
    assert bad_body.status_code == 422
    assert [w async for w in client.list_workflows(f'TaskQueue = "{task_queue}"')] == []
    async with database.session() as s:
        assert await store.list_runs(s) == []


async def test_idempotency_key_returns_the_same_run(
    api: httpx.AsyncClient, database: Database, client: Client, task_queue: str
) -> None:
    await save(database, ECHO)
    body = {"inputs": {"n": 5}, "idempotency_key": "deploy-42"}
    first = await api.post("/api/v1/workflows/echo-twice/runs", json=body)
    again = await api.post("/api/v1/workflows/echo-twice/runs", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]

    # Concurrent requests with a new key: one run, whoever wins.
    body = {"inputs": {"n": 6}, "idempotency_key": "deploy-43"}
    replies = await asyncio.gather(
        *(api.post("/api/v1/workflows/echo-twice/runs", json=body) for _ in range(8))
    )
    codes = sorted(r.status_code for r in replies)
    assert codes == [200] * 7 + [201], [r.text for r in replies]
    assert len({r.json()["id"] for r in replies}) == 1
    await finished(api, replies[0].json()["id"])
    await finished(api, first.json()["id"])
    started = [w.id async for w in client.list_workflows(f'TaskQueue = "{task_queue}"')]
    assert sorted(started) == sorted({first.json()["id"], replies[0].json()["id"]})
    async with database.session() as s:
        entries = await audit.query(s, action="run.start")
    assert len(entries) == 2  # the runs started, not the answers that found them


async def test_permissions_and_grants(
    api: httpx.AsyncClient, as_role: Any, database: Database
) -> None:
    await save(database, ECHO)
    viewer = await as_role("viewer", "vera")
    refused = await viewer.post("/api/v1/workflows/echo-twice/runs", json={})
    assert refused.status_code == 403
    assert "workflows_run" in refused.json()["error"]["message"]
    async with database.session() as s:
        await auth.set_grants(s, "workflow", "echo-twice", [("user:vera", ["workflows_run"])])
    reply = await viewer.post("/api/v1/workflows/echo-twice/runs", json={})
    assert reply.status_code == 201, reply.text
    run = await finished(viewer, reply.json()["id"])
    async with database.session() as s:
        vera = await auth.find_user(s, "vera")
    assert vera is not None and run["identity"] == vera.id
    anonymous = await httpx.AsyncClient(
        transport=api._transport, base_url="http://switchyard.test"
    ).get(f"/api/v1/runs/{run['id']}")
    assert anonymous.status_code == 401
    assert (await viewer.post(f"/api/v1/runs/{run['id']}/cancel")).status_code == 403


async def test_list_filters_and_pages(api: httpx.AsyncClient, database: Database) -> None:
    await save(database, ECHO)
    await save(database, V2.replace("echo-twice", "echo-other"))
    ids = []
    for name in ("echo-twice", "echo-other", "echo-twice"):
        reply = await api.post(f"/api/v1/workflows/{name}/runs", json={})
        ids.append(reply.json()["id"])
    for run_id in ids:
        await recorded(database, run_id)  # the list reads the event store

    async def listed(query: str) -> list[str]:
        reply = await api.get(f"/api/v1/runs?{query}")
        assert reply.status_code == 200, reply.text
        return [item["id"] for item in reply.json()["items"]]

    assert await listed("") == ids[::-1]  # newest first
    assert await listed("workflow=echo-twice") == [ids[2], ids[0]]
    assert await listed("status=succeeded&trigger=manual") == ids[::-1]
    assert await listed("status=failed") == []
    assert await listed("trigger=schedule") == []
    first = (await api.get("/api/v1/runs?limit=2")).json()
    assert [i["id"] for i in first["items"]] == [ids[2], ids[1]] and first["next_cursor"]
    assert set(first["items"][0]) >= {"id", "workflow", "status", "trigger", "started_at"}
    assert "steps" not in first["items"][0]
    rest = (await api.get(f"/api/v1/runs?limit=2&cursor={first['next_cursor']}")).json()
    assert [i["id"] for i in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    started = first["items"][1]["started_at"]
    assert await listed(f"since={started}") == [ids[2], ids[1]]
    assert await listed(f"until={started}") == [ids[0]]
    bad = await api.get("/api/v1/runs?status=bogus&since=yesterday")
    assert bad.status_code == 422
    assert [p["location"] for p in bad.json()["error"]["problems"]] == ["status", "since"]
    assert (await api.get("/api/v1/runs?cursor=garbage")).status_code == 400
    assert (await api.get("/api/v1/runs?limit=501")).status_code == 422
    assert (await api.get("/api/v1/runs/no-such-run")).status_code == 404


async def test_a_loop_child_is_not_a_run(api: httpx.AsyncClient, database: Database) -> None:
    await save(
        database,
        """
        name: loops
        steps:
          - id: each
            for_each: "[1, 2]"
            do:
              - id: nap
                sleep: 1s
        """,
    )
    run = (await api.post("/api/v1/workflows/loops/runs", json={})).json()
    child = f"{run['id']}.each"

    async def looping() -> bool:
        steps = (await api.get(f"/api/v1/runs/{run['id']}")).json()["steps"]
        return bool(steps["each"].get("iterations"))

    await eventually(looping)  # the loop's child workflow exists now
    assert (await api.get(f"/api/v1/runs/{child}")).status_code == 404
    done = await finished(api, run["id"])
    assert [it["index"] for it in done["steps"]["each"]["iterations"]] == [0, 1]
    assert (await api.get(f"/api/v1/runs/{child}")).status_code == 404
