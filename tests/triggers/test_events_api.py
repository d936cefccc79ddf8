"""Events through the API: matching, runs started once, reasons, adapters, bad input."""

from __future__ import annotations

import asyncio
import json
import textwrap
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import Client

from switchyard.control.db import Database
from switchyard.triggers.dispatcher import Dispatcher, event_run_id

pytestmark = [pytest.mark.temporal, pytest.mark.no_record]

PAYLOADS = Path(__file__).parent / "payloads"

HEAL = """
name: {name}
inputs:
  service: {{type: string, required: true}}
outputs:
  service: "{{{{ Inputs.service }}}}"
  title: "{{{{ Trigger.event.title }}}}"
triggers:
  - monitor:
      match: "Trigger.event.status == 'alert' && Trigger.event.tags.includes('team:sre')"
      rate_limit: {{count: 3, per: 1h}}
    inputs:
      service: "{{{{ (Trigger.event.attributes.labels || {{}}).service || 'web' }}}}"
steps:
  - id: s
    transform: "Inputs.service"
"""

OTHER = """
name: {name}
triggers:
  - security_signal:
      match: "Trigger.event.severity == 'critical'"
steps:
  - id: s
    transform: "1"
"""


async def publish(api: httpx.AsyncClient, text: str) -> str:
    name = f"wf-{uuid.uuid4().hex[:8]}"
    body = textwrap.dedent(text).format(name=name)
    answer = await api.put(
        f"/api/v1/workflows/{name}?publish=true",
        content=body,
        headers={"Content-Type": "application/yaml"},
    )
    assert answer.status_code in (200, 201), answer.text
    return name


async def result(client: Client, run_id: str) -> dict:
    return await asyncio.wait_for(client.get_workflow_handle(run_id).result(), 60)


async def test_an_event_starts_matching_workflows_once_with_reasons_for_the_rest(
    admin: httpx.AsyncClient, client: Client
) -> None:
    heal = await publish(admin, HEAL)
    other = await publish(admin, OTHER)
    event = {"id": f"ev-{uuid.uuid4().hex}", "title": "CPU high", "tags": ["team:sre"]}
    answer = await admin.post("/api/v1/events", json=event)
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["accepted"] == [event["id"]]
    assert body["runs"] == [event_run_id(heal, event["id"])]
    run = await result(client, body["runs"][0])
    assert run["outputs"] == {"service": "web", "title": "CPU high"}
    assert run["trigger"]["type"] == "monitor"

    # Delivered again: the same runs, nothing new.
    again = await admin.post("/api/v1/events", json=event)
    assert again.json()["runs"] == body["runs"]
    assert again.json()["events"][0]["duplicate"] is True

    shown = (await admin.get(f"/api/v1/events/{event['id']}")).json()
    assert shown["status"] == "dispatched" and shown["runs"] == body["runs"]
    reasons = {d["workflow"]: d for d in shown["decisions"]}
    assert reasons[heal]["matched"] and reasons[heal]["run"] == body["runs"][0]
    assert reasons[other]["reason"] == "event source 'monitor' is not 'security_signal'"


async def test_concurrent_deliveries_start_one_run(
    admin: httpx.AsyncClient, client: Client
) -> None:
    heal = await publish(admin, HEAL)
    event = {"id": f"ev-{uuid.uuid4().hex}", "title": "x", "tags": ["team:sre"]}
    answers = await asyncio.gather(*(admin.post("/api/v1/events", json=event) for _ in range(8)))
    assert {a.status_code for a in answers} == {202}
    assert {tuple(a.json()["runs"]) for a in answers} == {(event_run_id(heal, event["id"]),)}
    runs = [
        w async for w in client.list_workflows(f"WorkflowId = '{event_run_id(heal, event['id'])}'")
    ]
    assert len(runs) == 1


BURST = """
name: {name}
inputs:
  n: {{type: string, required: true}}
triggers:
  - monitor:
      match: "Trigger.event.tags.includes('burst')"
    inputs: {{n: "{{{{ Trigger.event.title }}}}"}}
steps:
  - id: s
    transform: "Inputs.n"
"""


async def test_a_burst_shares_transactions_and_starts_one_run_per_event(
    admin: httpx.AsyncClient, client: Client, trigger_app: FastAPI
) -> None:
    """40 events at once (one of them delivered twice): each answered with its own run,
    each recorded as dispatched, and stored in fewer transactions than events."""
    name = await publish(admin, BURST)
    events = [
        {"id": f"ev-{uuid.uuid4().hex}", "title": f"e{i}", "tags": ["burst"]} for i in range(40)
    ]
    dispatcher = trigger_app.state.switchyard.extras["dispatcher"]
    batches_before = dispatcher._stores.batches
    answers = await asyncio.gather(
        *(admin.post("/api/v1/events", json=e) for e in [*events, events[7]])
    )
    assert {a.status_code for a in answers} == {202}
    for event, answer in zip([*events, events[7]], answers, strict=True):
        assert answer.json()["runs"] == [event_run_id(name, event["id"])]
    assert sorted(a.json()["events"][0]["duplicate"] for a in answers) == [False] * 40 + [True]
    assert 1 <= dispatcher._stores.batches - batches_before < 40
    outputs = await asyncio.gather(*(result(client, event_run_id(name, e["id"])) for e in events))
    assert [o["steps"]["s"]["output"] for o in outputs] == [e["title"] for e in events]
    listed = (await admin.get("/api/v1/events?limit=500")).json()["items"]
    mine = {e["id"]: e for e in listed if e["id"] in {ev["id"] for ev in events}}
    assert len(mine) == 40
    assert {e["status"] for e in mine.values()} == {"dispatched"}
    assert all(len(e["runs"]) == 1 for e in mine.values())


async def test_rate_limit_and_adapter(admin: httpx.AsyncClient, client: Client) -> None:
    heal = await publish(admin, HEAL)
    body = json.loads((PAYLOADS / "alertmanager.json").read_text())
    started = []
    for n in range(5):
        body["alerts"][0]["fingerprint"] = f"{uuid.uuid4().hex[:8]}{n}"
        answer = await admin.post("/api/v1/events/alertmanager", json=body)
        assert answer.status_code == 202, answer.text
        events = answer.json()["events"]
        assert len(events) == 2  # one firing, one resolved
        started += answer.json()["runs"]
    # count 3 per hour: the first three firing alerts started runs, then the limit.
    assert len(started) == 3
    run = await result(client, started[0])
    assert run["outputs"]["service"] == "checkout"
    listed = (await admin.get("/api/v1/events?limit=500")).json()["items"]
    limited = [
        d
        for e in listed
        for d in e["decisions"]
        if d["workflow"] == heal and d["reason"].startswith("rate limit")
    ]
    assert len(limited) == 2


async def test_bad_events_are_located_4xx(admin: httpx.AsyncClient) -> None:
    bad = await admin.post("/api/v1/events", json=[{"title": "ok"}, {"tags": 3}])
    assert bad.status_code == 422
    assert bad.json()["error"]["problems"][0]["location"] == "[1].tags"
    assert (await admin.post("/api/v1/events", content=b"{nope")).status_code == 400
    unknown = await admin.post("/api/v1/events/nagios", json={})
    assert unknown.status_code == 404
    huge = await admin.post("/api/v1/events", content=b"[" + b"1," * 600_000 + b"1]")
    assert huge.status_code == 413
    assert (await admin.post("/api/v1/events/grafana", json={"alerts": []})).status_code == 422


async def test_pending_events_are_dispatched_by_the_sweep(
    admin: httpx.AsyncClient, db: Database, client: Client, task_queue: str
) -> None:
    """An event stored while Temporal was unreachable (or before a crash) is not lost."""
    heal = await publish(admin, HEAL)
    offline = Dispatcher(db, None, task_queue)  # stores, cannot dispatch
    from switchyard.triggers.events import parse_events

    [event] = parse_events({"title": "later", "tags": ["team:sre"]})
    accepted = await offline.accept([event], via="events")
    assert accepted["events"][0]["status"] == "pending" and accepted["runs"] == []
    online = Dispatcher(db, client, task_queue)
    assert await online.sweep_once() >= 1
    shown = (await admin.get(f"/api/v1/events/{event.id}")).json()
    assert shown["status"] == "dispatched"
    assert shown["runs"] == [event_run_id(heal, event.id)]
    await result(client, shown["runs"][0])
