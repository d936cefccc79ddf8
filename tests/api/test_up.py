"""`switchyard up` with the control plane: API and UI, admin bootstrap, a worker
that finds connections and `call:` targets in the database."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from switchyard.cli.api import ui_dist
from switchyard.definition.loader import parse_text
from switchyard.engine.client import start_run, wait_result
from switchyard.engine.converter import connect

pytestmark = [pytest.mark.temporal, pytest.mark.slow, pytest.mark.no_record]

CLI = [sys.executable, "-c", "from switchyard.cli import main; main()"]
SECRET = "up-secret-token-7"

CHILD = """
name: child
inputs:
  path: {type: string, required: true}
outputs:
  body: "{{ Steps.fetch.output.body }}"
steps:
  - id: fetch
    action: http.request
    connection: fake-api
    with: {url: "{{ Inputs.path }}"}
"""
PARENT = """
name: parent
steps:
  - id: run_child
    call: child
    with: {path: /hello}
"""


def _env(data: Path, **extra: str) -> dict[str, str]:
    drop = {"SWITCHYARD_URL", "SWITCHYARD_TOKEN", "TEMPORAL_ADDRESS", "SWITCHYARD_DATABASE_URL"}
    drop |= {"SWITCHYARD_MASTER_KEY", "SWITCHYARD_ADMIN_TOKEN"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return env | {"SWITCHYARD_DATA_DIR": str(data)} | extra


def start_up(data: Path, **env: str) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(
        [*CLI, "up", "--data-dir", str(data), "--port", "0"],
        env=_env(data, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith("engine worker on task queue"):
            return proc, lines
    raise AssertionError(f"`switchyard up` did not start (exit {proc.wait()}): {lines}")


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(60) == 0
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


@pytest.mark.timeout(300)
async def test_up_serves_the_api_and_its_worker_uses_the_database(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    seen: list[str] = []

    def hello(request: Request) -> Response:
        seen.append(request.headers.get("Authorization", ""))
        return Response('{"greeting": "hi"}', content_type="application/json")

    httpserver.expect_request("/hello").respond_with_handler(hello)
    data = tmp_path / "data"
    proc, lines = start_up(data)
    try:
        url = (data / "server-url").read_text().strip()
        token_file = data / "admin-token"
        assert token_file.stat().st_mode & 0o777 == 0o600
        assert f"admin token written to {token_file} (mode 600)" in lines
        assert any(line.startswith(f"API and UI at {url}") for line in lines)
        token = token_file.read_text().strip()
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as api:
            home = await api.get("/")
            dist = ui_dist()
            assert home.status_code == 200
            if dist is None:
                assert "UI is not built yet" in home.text
            else:  # the built UI; its pages are routed in the browser
                assert home.text == (dist / "index.html").read_text()
                page = await api.get("/workflows/anything")
                assert page.text == home.text
            missing = await api.get("/api/v1/nope")
            assert missing.status_code == 404 and missing.json()["error"]["type"] == "NotFound"
            assert (await api.get("/../../etc/passwd")).text == home.text
            health = (await api.get("/api/v1/health")).json()
            assert health == {"status": "ok", "temporal": "ok", "database": "ok"}
            audit = (await api.get("/api/v1/audit", params={"action": "user.bootstrap"})).json()
            assert [(e["actor"], e["resource"]) for e in audit["items"]] == [(None, "user:admin")]
            r = await api.post(
                "/api/v1/connections",
                json={
                    "name": "fake-api",
                    "type": "http",
                    "fields": {"base_url": httpserver.url_for("/").rstrip("/"), "auth": "bearer"},
                    "secrets": {"token": SECRET},
                },
            )
            assert r.status_code == 201, r.text
        # The CLI finds the server and the token through the data directory alone.
        for name, text in (("child", CHILD), ("parent", PARENT)):
            path = tmp_path / f"{name}.yaml"
            path.write_text(text)
            r = subprocess.run(
                [*CLI, "workflow", "apply", str(path), "--data-dir", str(data)],
                env=_env(data),
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert r.returncode == 0, r.stdout + r.stderr
        # A run of `parent`: `call: child` comes from the database, and so does the
        # connection (its secret is sent to the fake API).
        client = await connect((data / "temporal-address").read_text().strip())
        wf, problems = parse_text(PARENT)
        assert wf is not None, problems
        handle = await start_run(client, wf, {}, task_queue="switchyard")
        run = await asyncio.wait_for(wait_result(handle), 120)
        assert run["status"] == "succeeded", run
        assert run["steps"]["run_child"]["output"] == {"body": {"greeting": "hi"}}
        assert seen == [f"Bearer {SECRET}"]
    finally:
        stop(proc)
    assert not (data / "server-url").exists()
    # A second start keeps the admin and its token.
    proc, lines = start_up(data)
    try:
        assert f"admin token in {data / 'admin-token'}" in lines
        url = (data / "server-url").read_text().strip()
        r = httpx.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert r.json()["name"] == "admin"
    finally:
        stop(proc)


@pytest.mark.timeout(300)
def test_up_with_an_admin_token_from_the_environment(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc, lines = start_up(data, SWITCHYARD_ADMIN_TOKEN="syt_from-the-environment")
    try:
        assert "admin token: the value of SWITCHYARD_ADMIN_TOKEN" in lines
        assert not (data / "admin-token").exists()
        url = (data / "server-url").read_text().strip()
        r = httpx.get(
            f"{url}/api/v1/me", headers={"Authorization": "Bearer syt_from-the-environment"}
        )
        assert r.status_code == 200 and r.json()["role"] == "admin"
    finally:
        stop(proc)
