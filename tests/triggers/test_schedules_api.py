"""Schedules follow publishing through the API; pause, resume and backfill endpoints."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest
from temporalio.client import Client

pytestmark = [pytest.mark.temporal, pytest.mark.no_record]

FLOW = """
name: {name}
inputs:
  who: {{type: string, required: true}}
outputs:
  at: "{{{{ Trigger.scheduled_at }}}}"
triggers:
  - id: tick
    schedule: {{every: {every}}}
    inputs: {{who: {who}}}
steps:
  - id: s
    transform: "Inputs.who"
"""


async def put(api: httpx.AsyncClient, name: str, publish: bool, every="1h", who="a") -> dict:
    answer = await api.put(
        f"/api/v1/workflows/{name}" + ("?publish=true" if publish else ""),
        content=FLOW.format(name=name, every=every, who=who),
        headers={"Content-Type": "application/yaml"},
    )
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


async def schedules_of(api: httpx.AsyncClient, name: str) -> list[dict]:
    answer = await api.get(f"/api/v1/schedules?workflow={name}")
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def test_publish_creates_pause_survives_delete_removes(
    admin: httpx.AsyncClient, client: Client
) -> None:
    name = f"sch-{uuid.uuid4().hex[:8]}"
    await put(admin, name, publish=False)
    assert await schedules_of(admin, name) == []  # a draft has no schedule

    await put(admin, name, publish=True)
    [tick] = await schedules_of(admin, name)
    assert tick["id"] == f"switchyard:{name}:tick" and not tick["paused"]
    assert tick["next_fire_times"]

    paused = await admin.post(
        f"/api/v1/workflows/{name}/schedules/tick/pause", json={"note": "maintenance"}
    )
    assert paused.status_code == 200 and paused.json()["paused"]
    await put(admin, name, publish=True, who="b")  # v2
    [tick] = await schedules_of(admin, name)
    assert tick["paused"] and tick["note"] == "maintenance"
    resumed = await admin.post(f"/api/v1/workflows/{name}/schedules/tick/resume", json={})
    assert not resumed.json()["paused"]

    backfill = await admin.post(
        f"/api/v1/workflows/{name}/schedules/tick/backfill",
        json={"start": "2026-01-01T00:00:00Z", "end": "2025-01-01T00:00:00Z"},
    )
    assert backfill.status_code == 422
    missing = await admin.post(f"/api/v1/workflows/{name}/schedules/nope/pause", json={})
    assert missing.status_code == 404

    audit = (await admin.get("/api/v1/audit?action=schedule.*")).json()["items"]
    assert {e["action"] for e in audit} >= {"schedule.pause", "schedule.resume"}

    assert (await admin.delete(f"/api/v1/workflows/{name}")).status_code == 204
    assert await schedules_of(admin, name) == []


async def test_a_published_schedule_runs_with_scheduled_at(
    admin: httpx.AsyncClient, client: Client
) -> None:
    name = f"sch-{uuid.uuid4().hex[:8]}"
    await put(admin, name, publish=True, every="1s")
    try:
        deadline = time.monotonic() + 30
        found: list = []
        while not found and time.monotonic() < deadline:
            found = [
                w
                async for w in client.list_workflows(
                    f"WorkflowType = 'switchyard.run' AND SwitchyardWorkflow = '{name}'"
                )
            ]
            await asyncio.sleep(0.5)
        assert found, "the schedule started a run"
        result = await asyncio.wait_for(client.get_workflow_handle(found[0].id).result(), 60)
        assert result["trigger"]["type"] == "schedule"
        assert result["outputs"]["at"].endswith("Z")
    finally:
        await admin.delete(f"/api/v1/workflows/{name}")
