"""The runs API on PostgreSQL (smoke): start, idempotency, the recorder, list, read."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from api.runs_support import (  # noqa: F401
    app_fixture,
    connections,
    extras,
    finished,
    recorded,
    save,
)
from api.runs_support import postgres_url_for_test as database_url_for_test  # noqa: F401
from control.runs_support import ECHO
from switchyard.control.db import Database

pytestmark = pytest.mark.temporal


async def test_runs_on_postgresql(api: httpx.AsyncClient, database: Database) -> None:
    assert database.url.startswith("postgresql")
    await save(database, ECHO)
    body = {"inputs": {"n": 1}, "idempotency_key": "pg-1"}
    replies = await asyncio.gather(
        *(api.post("/api/v1/workflows/echo-twice/runs", json=body) for _ in range(5))
    )
    assert sorted(r.status_code for r in replies) == [200] * 4 + [201]
    run_id = replies[0].json()["id"]
    assert (await finished(api, run_id))["outputs"] == {"n": 2}
    row = await recorded(database, run_id)
    assert row.status == "succeeded" and row.idempotency_key == "pg-1"
    page = (await api.get("/api/v1/runs?workflow=echo-twice&status=succeeded")).json()
    assert [item["id"] for item in page["items"]] == [run_id]
    assert (await api.get(f"/api/v1/runs/{run_id}")).json()["steps"]["second"]["output"] == {"n": 2}
