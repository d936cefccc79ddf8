"""Webhook triggers through the API: signatures, replay window, limits, redelivery, inputs."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import textwrap
import time
import uuid

import httpx
import pytest
from temporalio.client import Client

from switchyard.api.routers import hooks
from switchyard.triggers.signatures import sign_switchyard

pytestmark = [pytest.mark.temporal, pytest.mark.no_record]

SECRET = "whsec-" + uuid.uuid4().hex
FLOW = """
name: {name}
inputs:
  repo: {{type: string, required: true}}
  number: {{type: integer, required: true}}
outputs:
  repo: "{{{{ Inputs.repo }}}}"
  action: "{{{{ Trigger.event.body.action }}}}"
  event: "{{{{ Trigger.event.headers['x-github-event'] }}}}"
triggers:
  - id: github
    webhook: {{connection: {conn}}}
    inputs:
      repo: "{{{{ Trigger.event.body.repository.full_name }}}}"
      number: "{{{{ Trigger.event.body.issue.number }}}}"
steps:
  - id: s
    transform: "Inputs.number"
"""
BODY = json.dumps(
    {"action": "opened", "issue": {"number": 7}, "repository": {"full_name": "acme/api"}}
).encode()


def github(body: bytes, secret: str = SECRET, delivery: str | None = None) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "X-Hub-Signature-256": f"sha256={digest}",
        "X-GitHub-Event": "issues",
        "Content-Type": "application/json",
    }
    if delivery:
        headers["X-GitHub-Delivery"] = delivery
    return headers


@pytest.fixture
async def hook(admin: httpx.AsyncClient) -> str:
    """A published workflow with a webhook trigger; returns its hook path."""
    conn = f"hook-{uuid.uuid4().hex[:6]}"
    made = await admin.post(
        "/api/v1/connections",
        json={"name": conn, "type": "webhook_secret", "fields": {}, "secrets": {"secret": SECRET}},
    )
    assert made.status_code == 201, made.text
    name = f"wh-{uuid.uuid4().hex[:8]}"
    text = textwrap.dedent(FLOW).format(name=name, conn=conn)
    put = await admin.put(
        f"/api/v1/workflows/{name}?publish=true",
        content=text,
        headers={"Content-Type": "application/yaml"},
    )
    assert put.status_code == 201, put.text
    return f"/hooks/{name}/github"


async def test_signed_delivery_starts_a_run_once(
    admin: httpx.AsyncClient, hook: str, client: Client
) -> None:
    delivery = str(uuid.uuid4())
    answer = await admin.post(hook, content=BODY, headers=github(BODY, delivery=delivery))
    assert answer.status_code == 202, answer.text
    [run_id] = answer.json()["runs"]
    result = await asyncio.wait_for(client.get_workflow_handle(run_id).result(), 60)
    assert result["outputs"] == {"repo": "acme/api", "action": "opened", "event": "issues"}
    assert result["trigger"]["type"] == "webhook"
    assert "x-hub-signature-256" not in result["trigger"]["event"]["headers"]

    again = await admin.post(hook, content=BODY, headers=github(BODY, delivery=delivery))
    assert again.status_code == 202
    assert again.json()["duplicate"] is True and again.json()["runs"] == [run_id]


async def test_switchyard_signature_and_replay_window(admin: httpx.AsyncClient, hook: str) -> None:
    fresh = {"X-Switchyard-Signature": sign_switchyard(SECRET, BODY)}
    assert (await admin.post(hook, content=BODY, headers=fresh)).status_code == 202
    stale = {"X-Switchyard-Signature": sign_switchyard(SECRET, BODY, int(time.time()) - 600)}
    answer = await admin.post(hook, content=BODY, headers=stale)
    assert answer.status_code == 401
    assert "more than 300 s" in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        github(BODY, secret="wrong"),
        github(b"other body"),
        {"X-Switchyard-Signature": "t=1,v1=00"},
    ],
    ids=["missing", "wrong-secret", "other-body", "garbage"],
)
async def test_bad_signatures_are_401(
    admin: httpx.AsyncClient, hook: str, headers: dict[str, str]
) -> None:
    answer = await admin.post(hook, content=BODY, headers=headers)
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["type"] == "Unauthorized"


async def test_no_bearer_token_needed_but_unknown_hooks_are_404(hook: str, admin) -> None:
    transport = admin._transport
    async with httpx.AsyncClient(transport=transport, base_url="http://switchyard.test") as anon:
        ok = await anon.post(hook, content=BODY, headers=github(BODY))
        assert ok.status_code == 202
        name = hook.split("/")[2]
        for path in (f"/hooks/{name}/nope", "/hooks/missing/github"):
            assert (await anon.post(path, content=BODY, headers=github(BODY))).status_code == 404


async def test_rotation_accepts_the_previous_secret(admin: httpx.AsyncClient, hook: str) -> None:
    conn = (await admin.get("/api/v1/connections")).json()["items"]
    [mine] = [c for c in conn if c["type"] == "webhook_secret" and c["name"].startswith("hook-")][
        -1:
    ]
    updated = await admin.put(
        f"/api/v1/connections/{mine['name']}",
        json={"secrets": {"secret": "new-secret", "previous_secret": SECRET}},
    )
    assert updated.status_code == 200, updated.text
    assert (await admin.post(hook, content=BODY, headers=github(BODY))).status_code == 202
    new = github(BODY, secret="new-secret")
    assert (await admin.post(hook, content=BODY, headers=new)).status_code == 202


async def test_inputs_that_do_not_fit_are_recorded_not_a_crash(
    admin: httpx.AsyncClient, hook: str
) -> None:
    body = json.dumps(
        {"action": "opened", "issue": {"number": "seven"}, "repository": {"full_name": "a/b"}}
    ).encode()
    answer = await admin.post(hook, content=body, headers=github(body))
    assert answer.status_code == 202
    assert answer.json()["runs"] == []
    assert "inputs do not fit the workflow" in answer.json()["reason"]
    shown = (await admin.get(f"/api/v1/events/{answer.json()['event']}")).json()
    assert shown["decisions"][0]["reason"] == answer.json()["reason"]


async def test_size_and_rate_limits(
    admin: httpx.AsyncClient, hook: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = b"x" * (hooks.MAX_BODY + 1)
    assert (await admin.post(hook, content=big, headers=github(big))).status_code == 413
    monkeypatch.setattr(hooks, "WEBHOOK_RATE", 3)
    monkeypatch.setattr(hooks, "WEBHOOK_PERIOD", 60.0)
    codes = []
    for n in range(5):
        body = json.dumps({"n": n}).encode()
        answer = await admin.post(hook.replace("github", "other"), content=body)
        codes.append(answer.status_code)
    assert codes[-1] == 429
    limited = await admin.post(hook.replace("github", "other"), content=b"{}")
    assert int(limited.headers["Retry-After"]) >= 1
