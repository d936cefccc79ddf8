"""Acting on runs through the API: cancel, rerun, approvals; reading past Temporal's retention."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from werkzeug import Request, Response

from api.runs_support import (  # noqa: F401
    app_fixture,
    connections,
    database_url_for_test,
    extras,
    finished,
    recorded,
    save,
    status_is,
)
from control.runs_support import APPROVAL, ECHO, SLOW, delete_from_temporal
from switchyard.control import audit
from switchyard.control.db import Database

pytestmark = pytest.mark.temporal


async def start(api: httpx.AsyncClient, name: str, **body: Any) -> dict[str, Any]:
    reply = await api.post(f"/api/v1/workflows/{name}/runs", json=body)
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


async def actions(database: Database, action: str) -> list[audit.AuditEntry]:
    async with database.session() as s:
        return await audit.query(s, action=action)


async def test_cancel(api: httpx.AsyncClient, database: Database) -> None:
    await save(database, SLOW)
    run = await start(api, "slow")
    await status_is(api, run["id"], "running")
    reply = await api.post(f"/api/v1/runs/{run['id']}/cancel")
    assert reply.status_code == 202, reply.text
    done = await finished(api, run["id"])
    assert done["status"] == "cancelled"
    assert done["steps"]["nap"]["status"] == "cancelled"
    again = await api.post(f"/api/v1/runs/{run['id']}/cancel")
    assert again.status_code == 409 and "already ended" in again.json()["error"]["message"]
    assert [e.resource for e in await actions(database, "run.cancel")] == [f"run:{run['id']}"]
    assert (await api.post("/api/v1/runs/nope/cancel")).status_code == 404


class Flaky:
    """A fake API: `/fetch` always works, `/flaky` fails until `fixed`; calls are counted."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.calls: Counter[str] = Counter()
        self.fixed = False
        server.expect_request("/fetch").respond_with_handler(self._handle)
        server.expect_request("/flaky").respond_with_handler(self._handle)

    def _handle(self, request: Request) -> Response:
        self.calls[request.path] += 1
        if request.path == "/flaky" and not self.fixed:
            return Response("down", status=500)
        return Response(json.dumps({"v": 7}), content_type="application/json")


async def test_rerun_from_start_and_from_the_failed_step(
    api: httpx.AsyncClient, database: Database, httpserver: Any
) -> None:
    fake = Flaky(httpserver)
    await save(
        database,
        f"""
        name: flaky
        inputs:
          who: {{type: string, default: sre}}
        steps:
          - id: fetch
            action: http.request
            with: {{url: "{httpserver.url_for("/fetch")}"}}
            next: flaky
          - id: flaky
            action: http.request
            with: {{url: "{httpserver.url_for("/flaky")}"}}
            retry: {{max_attempts: 1}}
        """,
    )
    first = await finished(api, (await start(api, "flaky", inputs={"who": "ops"}))["id"])
    assert first["status"] == "failed" and first["error"]["step"] == "flaky"
    assert dict(fake.calls) == {"/fetch": 1, "/flaky": 1}

    bogus = await api.post(f"/api/v1/runs/{first['id']}/rerun", json={"from": "bogus"})
    assert bogus.status_code == 422

    fake.fixed = True
    reply = await api.post(f"/api/v1/runs/{first['id']}/rerun", json={"from": "failed"})
    assert reply.status_code == 201, reply.text
    second = reply.json()
    assert second["rerun_of"] == first["id"] and second["inputs"] == {"who": "ops"}
    second = await finished(api, second["id"])
    assert second["status"] == "succeeded"
    assert second["steps"]["fetch"]["reused"] is True
    assert second["steps"]["fetch"]["output"] == first["steps"]["fetch"]["output"]
    assert dict(fake.calls) == {"/fetch": 1, "/flaky": 2}  # fetch was not called again
    assert (await recorded(database, second["id"])).rerun_of == first["id"]

    third = (await api.post(f"/api/v1/runs/{first['id']}/rerun", json={"from": "start"})).json()
    third = await finished(api, third["id"])
    assert third["status"] == "succeeded" and "reused" not in third["steps"]["fetch"]
    assert dict(fake.calls) == {"/fetch": 2, "/flaky": 3}
    refused = await api.post(f"/api/v1/runs/{third['id']}/rerun", json={"from": "failed"})
    assert refused.status_code == 409 and "succeeded" in refused.json()["error"]["message"]
    entries = await actions(database, "run.rerun")
    assert sorted(e.details["from"] for e in entries) == ["failed", "start"]
    assert {e.details["rerun_of"] for e in entries} == {first["id"]}


async def test_rerun_of_a_running_run_is_refused(
    api: httpx.AsyncClient, database: Database
) -> None:
    await save(database, SLOW)
    run = await start(api, "slow")
    reply = await api.post(f"/api/v1/runs/{run['id']}/rerun")
    assert reply.status_code == 409 and "still running" in reply.json()["error"]["message"]
    await api.post(f"/api/v1/runs/{run['id']}/cancel")


async def test_approvals_check_the_approvers(
    api: httpx.AsyncClient, as_role: Any, database: Database
) -> None:
    await save(database, APPROVAL)  # approvers: [admin, boss]
    run = await start(api, "needs-approval")
    await status_is(api, run["id"], "waiting")
    url = f"/api/v1/runs/{run['id']}/approvals/ask"
    operator = await as_role("operator", "olga")
    refused = await operator.post(url, json={"choice": "approve"})
    assert refused.status_code == 403 and "admin, boss" in refused.json()["error"]["message"]
    viewer = await as_role("viewer", "vicky")  # no runs_approve at all
    assert (await viewer.post(url, json={"choice": "approve"})).status_code == 403
    boss = await as_role("operator", "boss")
    bad = await boss.post(url, json={"choice": "maybe"})
    assert bad.status_code == 422 and bad.json()["error"]["problems"][0]["location"] == "choice"
    assert (await boss.post(url.replace("/ask", "/done"), json={"choice": "x"})).status_code == 409
    reply = await boss.post(url, json={"choice": "approve", "comment": "ship it"})
    assert reply.status_code == 200, reply.text
    decision = reply.json()
    assert (decision["choice"], decision["by"], decision["comment"]) == (
        "approve",
        "boss",
        "ship it",
    )
    done = await finished(api, run["id"])
    assert done["steps"]["done"]["output"] == "approved by boss"
    late = await boss.post(url, json={"choice": "approve"})
    assert late.status_code == 409
    entries = await actions(database, "run.approve")
    assert [(e.actor, e.details) for e in entries] == [
        ("boss", {"step": "ask", "choice": "approve"})
    ]


async def test_a_run_is_readable_after_temporal_forgot_it(
    api: httpx.AsyncClient, database: Database, client: Client
) -> None:
    await save(database, ECHO)
    run = await finished(api, (await start(api, "echo-twice", inputs={"n": 9}))["id"])
    await recorded(database, run["id"])
    await delete_from_temporal(client, run["id"])
    reply = await api.get(f"/api/v1/runs/{run['id']}")
    assert reply.status_code == 200, reply.text
    again = reply.json()
    assert again["status"] == "succeeded" and again["outputs"] == {"n": 10}
    assert again["steps"] == run["steps"]
    listed = (await api.get("/api/v1/runs?workflow=echo-twice")).json()["items"]
    assert [item["id"] for item in listed] == [run["id"]]
