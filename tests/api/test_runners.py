"""Private runners: `runner:` steps run on the runner, only allow-listed actions, and
`GET /api/v1/runners` shows the runners workflows name with their liveness."""

from __future__ import annotations

from pathlib import Path
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
    save,
)
from control.runs_support import eventually
from switchyard.api.routers.runners import named_runners
from switchyard.control.db import Database
from switchyard.runner import build_runner

pytestmark = pytest.mark.temporal

EDGE = """
name: edge-check
steps:
  - id: here
    action: core.echo
    with: {where: engine}
    next: there
  - id: there
    action: core.echo
    runner: dc1
    with: {where: "runner {{ Steps.here.output.where }}"}
"""

FORBIDDEN = """
name: edge-forbidden
steps:
  - id: call
    action: http.request
    runner: dc1
    with: {url: "http://127.0.0.1:9/never"}
"""

LOOPED = """
name: edge-loop
steps:
  - id: each
    for_each: "[1, 2]"
    do:
      - id: inner
        action: core.echo
        runner: dc2
        with: {n: "{{ Item }}"}
"""


async def test_runner_steps_run_on_the_runner_and_only_allowed_actions(
    api: httpx.AsyncClient,
    database: Database,
    client: Client,
    tmp_path: Path,
    token_for: Any,
) -> None:
    for text in (EDGE, FORBIDDEN, LOOPED):
        await save(database, text)

    reply = await api.get("/api/v1/runners")
    assert reply.status_code == 200, reply.text
    listed = {r["name"]: r for r in reply.json()["items"]}
    assert sorted(listed) == ["dc1", "dc2"]
    assert listed["dc1"]["workflows"] == ["edge-check", "edge-forbidden"]
    assert listed["dc2"]["workflows"] == ["edge-loop"]
    assert listed["dc1"]["task_queue"] == "switchyard-runner-dc1"
    assert listed["dc1"]["online"] is False and listed["dc1"]["pollers"] == []

    async with build_runner(client, "dc1", allow=["core.*"], data_dir=tmp_path / "dc1"):

        async def dc1_online() -> dict[str, Any] | None:
            items = (await api.get("/api/v1/runners")).json()["items"]
            dc1 = next(r for r in items if r["name"] == "dc1")
            return dc1 if dc1["online"] else None

        dc1 = await eventually(dc1_online, timeout=30)
        assert len(dc1["pollers"]) >= 1 and dc1["last_seen"] is not None
        assert dc1["pollers"][0]["identity"]

        run = await finished(
            api, (await api.post("/api/v1/workflows/edge-check/runs", json={})).json()["id"]
        )
        assert run["status"] == "succeeded", run
        # Only the runner polls its queue: the step ran there, with the engine's output.
        assert run["steps"]["there"]["output"] == {"where": "runner engine"}

        run = await finished(
            api, (await api.post("/api/v1/workflows/edge-forbidden/runs", json={})).json()["id"]
        )
        assert run["status"] == "failed"
        error = run["steps"]["call"]["error"]
        assert error["type"] == "PermissionDenied", error
        assert "http.request" in error["message"] and "core.*" in error["message"]
        assert run["steps"]["call"]["attempts"] == 1  # never retried

    viewer = await token_for("viewer")
    reply = await api.get(
        "/api/v1/runners", params={"limit": 1}, headers={"Authorization": f"Bearer {viewer}"}
    )
    assert reply.status_code == 200, reply.text
    first = reply.json()
    assert [r["name"] for r in first["items"]] == ["dc1"] and first["next_cursor"]
    reply = await api.get("/api/v1/runners", params={"cursor": first["next_cursor"]})
    assert [r["name"] for r in reply.json()["items"]] == ["dc2"]
    assert reply.json()["next_cursor"] is None


def test_runner_names_are_found_in_loop_bodies_and_odd_shapes_are_ignored() -> None:
    definitions = {
        "a": {"steps": [{"id": "x", "runner": "r1"}, {"id": "l", "do": [{"runner": "r2"}]}]},
        "b": {"steps": [{"id": "y", "runner": "r1"}, "not a step", {"runner": 5}]},
        "c": {"steps": "not a list"},
    }
    assert named_runners(definitions) == {"r1": ["a", "b"], "r2": ["a"]}


def test_a_runner_needs_a_name_and_an_allow_list(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="runner name"):
        build_runner(None, "Bad Name", allow=["core.*"], data_dir=tmp_path)
    with pytest.raises(ValueError, match="allow-list"):
        build_runner(None, "dc1", allow=[], data_dir=tmp_path)


def test_the_runner_command_refuses_a_bad_name_and_a_missing_allow_list() -> None:
    from typer.testing import CliRunner

    from switchyard.cli import _register, app

    _register()
    result = CliRunner().invoke(app, ["runner", "Bad Name", "--allow", "core.*"])
    assert result.exit_code == 2 and "NAME" in result.output
    result = CliRunner().invoke(app, ["runner", "dc1"])
    assert result.exit_code == 2 and "--allow" in result.output
