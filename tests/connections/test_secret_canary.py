"""The secret canary: a connection's secret never leaves the activity that uses it.

Workflows use a connection whose secrets are unique strings, in every way a
step can touch them: sent as a bearer token that a fake API echoes back in
its answer (output), echoed in a 500 answer (error, retried), used inside
`for_each` iterations (child workflows) and a failing `on_error` path. Then
the test searches, for the plain secret and its base64 forms:
- every Temporal history of those runs (children included), payloads decoded;
- the worker's log (a separate `switchyard worker` process at DEBUG level);
- the run JSON the CLI/API return;
- every file of the Temporal server's database and of the data directory
  (the encrypted local store and the control plane's database included).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from temporalio.client import Client
from werkzeug import Request, Response

from switchyard.connections.crypto import Keyring
from switchyard.control import connections as db_connections
from switchyard.control.db import Database, database_url
from switchyard.definition.validate import validate_text
from switchyard.engine.client import get_run, start_run, wait_result

pytestmark = [pytest.mark.temporal, pytest.mark.no_record]

CLI = [sys.executable, "-c", "from switchyard.cli import main; main()"]
TOKEN = f"canary-token-{uuid.uuid4().hex}"
PASSWORD = f"canary-pw-{uuid.uuid4().hex}"
DB_TOKEN = f"canary-db-{uuid.uuid4().hex}"


def _forms(secret: str) -> list[bytes]:
    """The secret as bytes, and as it would look base64-encoded at any alignment."""
    raw = secret.encode()
    forms = [raw]
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)
        # Drop the characters that depend on the neighbours.
        start = (shift * 4 + 2) // 3 + (1 if shift else 0)
        forms.append(encoded[start : len(encoded) - 4])
    return forms


def _find(blob: bytes) -> list[str]:
    return [s for s in (TOKEN, PASSWORD, DB_TOKEN) for form in _forms(s) if form in blob]


def _echo(request: Request) -> Response:
    return Response(
        json.dumps({"you_sent": request.headers.get("Authorization", "")}),
        content_type="application/json",
    )


def _fail_echo(request: Request) -> Response:
    return Response(
        json.dumps({"error": "bad token " + request.headers.get("Authorization", "")}),
        500,
        content_type="application/json",
    )


WORKFLOW = """
name: canary-{n}
inputs:
  items: {{type: array, default: [1, 2, 3]}}
steps:
  - id: echo
    action: http.request
    connection: canary
    with: {{url: /echo}}
    next: each
  - id: each
    for_each: "Inputs.items"
    concurrency: 2
    do:
      - id: call
        action: http.request
        connection: canary-basic
        with: {{url: /echo, query: {{i: "{{{{ Item }}}}"}}}}
    next: broken
  - id: broken
    action: http.request
    connection: canary
    with: {{url: /fail}}
    retry: {{max_attempts: 2, initial_interval: 100ms}}
    on_error: after
  - id: after
    set:
      seen: "Steps.broken.error.message + JSON.stringify(Steps.echo.output.body)"
    next: from_db
  - id: from_db
    action: http.request
    connection: canary-db
    with: {{url: /echo}}
"""


def _cli(*args: str, data_dir: Path, **kwargs) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SWITCHYARD_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=120, **kwargs
    )


async def test_secrets_never_leave_the_activity(
    client: Client, temporal_server, task_queue: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/echo").respond_with_handler(_echo)
    httpserver.expect_request("/fail").respond_with_handler(_fail_echo)
    data_dir = tmp_path / "data"
    base = httpserver.url_for("/")
    for args in (
        ["canary", "--field", "auth=bearer", "--secret", f"token={TOKEN}"],
        ["canary-basic", "--field", "auth=basic", "--secret", "username=ops",
         "--secret", f"password={PASSWORD}"],
    ):  # fmt: skip
        made = _cli(
            "connection", "create", args[0], "--type", "http",
            "--field", f"base_url={base}", *args[1:], data_dir=data_dir,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr

    # A third connection in the control plane's database (as the API stores
    # it): the worker finds the database in the data directory and reads it.
    db = Database(database_url(data_dir, {}))
    await db.migrate()
    async with db.session() as session:
        await db_connections.create(
            session, Keyring.load(data_dir), "canary-db", "http",
            {"base_url": base, "auth": "bearer"}, {"token": DB_TOKEN},
        )  # fmt: skip
    await db.close()

    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [*CLI, "worker", "--temporal-address", temporal_server.address,
             "--task-queue", task_queue, "--log-level", "DEBUG"],
            env={**os.environ, "SWITCHYARD_DATA_DIR": str(data_dir)},
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "worker polling" not in log_path.read_text():
            assert worker.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "worker did not start"
            await asyncio.sleep(0.2)
        runs = []
        for n in range(2):
            wf, problems = validate_text(textwrap.dedent(WORKFLOW.format(n=n)))
            assert wf is not None, problems
            handle = await start_run(client, wf, {}, task_queue=task_queue)
            await wait_result(handle)
            runs.append(handle.id)
        run_json = [await get_run(client, run_id) for run_id in runs]
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    # The runs did use the secrets: the fake API saw them and answered with them.
    sent = [r.headers.get("Authorization", "") for r, _ in httpserver.log]
    assert f"Bearer {TOKEN}" in sent
    assert f"Bearer {DB_TOKEN}" in sent
    assert any(s.startswith("Basic ") for s in sent)
    for run in run_json:
        assert run["status"] == "succeeded", run
        assert run["steps"]["echo"]["output"]["body"] == {"you_sent": "Bearer ***"}
        assert run["steps"]["broken"]["status"] == "failed"
        assert len(run["steps"]["each"]["iterations"]) == 3
        assert run["steps"]["from_db"]["output"]["body"] == {"you_sent": "Bearer ***"}

    leaks: dict[str, list[str]] = {}
    text = json.dumps(run_json)
    if found := _find(text.encode()):
        leaks["run JSON"] = found
    histories = []
    async for execution in client.list_workflows(
        " OR ".join(f"WorkflowId STARTS_WITH '{r}'" for r in runs)
    ):
        histories.append(execution.id)
        history = await client.get_workflow_handle(execution.id).fetch_history()
        blob = history.to_json().encode()
        decoded = b" ".join(
            base64.b64decode(m) for m in re.findall(rb'"data":\s*"([A-Za-z0-9+/=]+)"', blob)
        )
        if found := _find(blob + decoded):
            leaks[f"history {execution.id}"] = found
    assert len(histories) > len(runs), "the loop's child workflows were searched too"
    log_text = log_path.read_bytes()
    assert b"DEBUG" in log_text or b"INFO" in log_text, "the worker logged"
    if found := _find(log_text):
        leaks["worker log"] = found
    stores = [Path(temporal_server.db_filename).parent, data_dir]
    for root in stores:
        for path in root.rglob("*"):
            if path.is_file() and (found := _find(path.read_bytes())):
                leaks[str(path)] = found
    assert any(p.name.endswith(".json") for p in (data_dir / "connections").rglob("*"))
    assert (data_dir / "switchyard.db").exists(), "the control plane's database was searched"
    assert leaks == {}
