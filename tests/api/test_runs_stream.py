"""`GET /api/v1/runs/{id}/stream`: server-sent events over a real HTTP connection."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.runs_support import (  # noqa: F401
    app_fixture,
    connections,
    database_url_for_test,
    extras,
    save,
    serve,
)
from control.runs_support import APPROVAL, ECHO
from switchyard.control.db import Database

pytestmark = pytest.mark.temporal


async def events(lines: Any) -> Any:
    """Parse `event:`/`data:` lines into (event, data) pairs as they arrive."""
    event, data = None, []
    async for line in lines:
        if line == "":
            if data:
                yield event, json.loads("\n".join(data))
            event, data = None, []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())


async def test_stream_sends_each_change_and_ends_after_the_final_state(
    app: FastAPI, admin_token: str, database: Database
) -> None:
    await save(database, APPROVAL)
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with serve(app) as base, httpx.AsyncClient(base_url=base, headers=headers) as http:
        run = (await http.post("/api/v1/workflows/needs-approval/runs", json={})).json()
        seen: list[dict[str, Any]] = []
        async with http.stream("GET", f"/api/v1/runs/{run['id']}/stream") as reply:
            assert reply.status_code == 200
            assert reply.headers["content-type"].startswith("text/event-stream")
            async for kind, data in events(reply.aiter_lines()):
                assert kind == "run"
                seen.append(data)
                if data["status"] == "waiting":
                    # Answered while the stream is open: the next events show it.
                    answer = await http.post(
                        f"/api/v1/runs/{run['id']}/approvals/ask", json={"choice": "approve"}
                    )
                    assert answer.status_code == 200, answer.text
        # The stream ended by itself after the final state.
        statuses = [s["status"] for s in seen]
        assert "waiting" in statuses and statuses[-1] == "succeeded"
        assert statuses.count("succeeded") == 1
        assert seen[-1]["steps"]["done"]["output"] == "approved by admin"
        assert all(a != b for a, b in itertools.pairwise(seen))  # changes only


async def test_stream_of_a_finished_run_and_errors(
    app: FastAPI, admin_token: str, database: Database
) -> None:
    await save(database, ECHO)
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with serve(app) as base, httpx.AsyncClient(base_url=base, headers=headers) as http:
        run = (await http.post("/api/v1/workflows/echo-twice/runs", json={})).json()
        async with http.stream("GET", f"/api/v1/runs/{run['id']}/stream") as reply:
            got = [data async for _, data in events(reply.aiter_lines())]
        assert got[-1]["status"] == "succeeded"
        # Once finished: one event, then the end.
        async with http.stream("GET", f"/api/v1/runs/{run['id']}/stream") as reply:
            again = [data async for _, data in events(reply.aiter_lines())]
        assert [r["status"] for r in again] == ["succeeded"]
        assert (await http.get("/api/v1/runs/nope/stream")).status_code == 404
        anonymous = await asyncio.wait_for(
            httpx.AsyncClient(base_url=base).get(f"/api/v1/runs/{run['id']}/stream"), 10
        )
        assert anonymous.status_code == 401
