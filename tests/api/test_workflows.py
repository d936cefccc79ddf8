"""Workflows and versions through the HTTP API."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from .conftest import audit_actions

EXAMPLES = Path(__file__).parent.parent / "definition" / "examples"
YAML = {"Content-Type": "application/yaml"}
CLI = [sys.executable, "-c", "from switchyard.cli import main; main()"]


def hello(name: str = "hello", text: str = "hi", *, comment: str = "") -> str:
    return (
        f"{comment}name: {name}\n"
        "steps:\n"
        "  - id: say\n"
        "    action: core.echo\n"
        f"    with: {{text: {text!r}}}\n"
    )


async def test_put_creates_then_versions_only_on_change(api: httpx.AsyncClient) -> None:
    r = await api.put("/api/v1/workflows/hello", content=hello(), headers=YAML)
    assert r.status_code == 201, r.text
    assert r.json() | {"warnings": []} == {
        "name": "hello",
        "version": 1,
        "published_version": None,
        "created": True,
        "changed": True,
        "warnings": [],
    }
    # Same definition (a comment and formatting differ): no new version, 200.
    r = await api.put("/api/v1/workflows/hello", content=hello(comment="# again\n"), headers=YAML)
    assert r.status_code == 200
    assert (r.json()["version"], r.json()["created"], r.json()["changed"]) == (1, False, False)
    # The same definition as JSON is still the same definition.
    as_json = yaml.safe_load(hello())
    r = await api.put("/api/v1/workflows/hello", json=as_json)
    assert (r.status_code, r.json()["version"]) == (200, 1)
    # A change: version 2; ?publish=true publishes it.
    r = await api.put(
        "/api/v1/workflows/hello",
        content=hello(text="hello"),
        headers=YAML,
        params={"publish": "true", "message": "friendlier"},
    )
    assert r.status_code == 200
    assert (r.json()["version"], r.json()["published_version"]) == (2, 2)
    got = (await api.get("/api/v1/workflows/hello")).json()
    assert got["latest_version"] == 2 and got["published_version"] == 2
    assert got["text"] == hello(text="hello")
    assert got["definition"]["steps"][0]["with"] == {"text": "hello"}
    assert got["version"]["author"] == "admin" and got["version"]["message"] == "friendlier"


async def test_json_body_keeps_its_text(api: httpx.AsyncClient) -> None:
    body = '{"name": "j", "steps": [{"id": "a", "set": {"x": 1}}]}'
    r = await api.put(
        "/api/v1/workflows/j", content=body, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 201, r.text
    got = (await api.get("/api/v1/workflows/j")).json()
    assert got["text"] == body and got["version"]["format"] == "json"


BROKEN = [
    "name: broken\nsteps:\n  - id: a\n    action: core.echo\n    next: nowhere\n",
    "name: broken\nsteps: [\n",
    "name: broken\nsteps:\n  - id: a\n    sleep: soon\n  - id: a\n    fail: {}\n",
    "- just\n- a list\n",
]


@pytest.fixture(scope="module")
def cli_problems(tmp_path_factory: pytest.TempPathFactory) -> list[list[dict[str, str]]]:
    """`switchyard validate --json` of each BROKEN text (one CLI run for all)."""
    directory = tmp_path_factory.mktemp("broken")
    paths = []
    for i, text in enumerate(BROKEN):
        paths.append(directory / f"broken{i}.yaml")
        paths[-1].write_text(text)
    cli = subprocess.run(
        [*CLI, "validate", "--json", *map(str, paths)], capture_output=True, text=True, timeout=120
    )
    assert cli.returncode == 2, cli.stderr
    return [entry["problems"] for entry in json.loads(cli.stdout)]


@pytest.mark.parametrize("index", range(len(BROKEN)))
async def test_invalid_definitions_get_the_validators_problems(
    api: httpx.AsyncClient, cli_problems: list[list[dict[str, str]]], index: int
) -> None:
    text, expected = BROKEN[index], cli_problems[index]
    assert expected
    r = await api.put("/api/v1/workflows/broken", content=text, headers=YAML)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["problems"] == expected
    assert r.json()["error"]["type"] == "ValidationError"
    r = await api.post("/api/v1/workflows/validate", content=text, headers=YAML)
    assert r.json() == {"valid": False, "problems": expected}
    assert (await api.get("/api/v1/workflows/broken")).status_code == 404


async def test_validate_endpoint_accepts_json_and_yaml(api: httpx.AsyncClient) -> None:
    r = await api.post("/api/v1/workflows/validate", content=hello(), headers=YAML)
    assert r.json() == {"valid": True, "problems": []}
    r = await api.post("/api/v1/workflows/validate", json=yaml.safe_load(hello()))
    assert r.json() == {"valid": True, "problems": []}
    r = await api.post(
        "/api/v1/workflows/validate", content="x", headers={"Content-Type": "text/plain"}
    )
    assert r.status_code == 415


async def test_name_must_match_and_bodies_are_checked(api: httpx.AsyncClient) -> None:
    r = await api.put("/api/v1/workflows/other", content=hello(), headers=YAML)
    assert r.status_code == 422
    assert r.json()["error"]["problems"][0]["location"] == "name"
    assert "'hello'" in r.json()["error"]["message"]
    r = await api.put("/api/v1/workflows/hello", content=hello(), headers={})
    assert r.status_code == 415
    r = await api.put(
        "/api/v1/workflows/hello", content=b"\xff\xfe", headers={"Content-Type": "text/yaml"}
    )
    assert r.status_code == 422
    big = "name: big\nsteps:\n  - id: a\n    set: {x: '" + "x" * (5 * 1024 * 1024) + "'}\n"
    r = await api.put("/api/v1/workflows/big", content=big, headers=YAML)
    assert r.status_code == 413


async def test_list_with_triggers_and_pagination(api: httpx.AsyncClient) -> None:
    text = (EXAMPLES / "restart-unhealthy-pods.yaml").read_text()
    assert (
        await api.put("/api/v1/workflows/restart-unhealthy-pods", content=text, headers=YAML)
    ).status_code == 201
    for name in ("a-one", "b-two", "c-three"):
        await api.put(f"/api/v1/workflows/{name}", content=hello(name), headers=YAML)
    await api.delete("/api/v1/workflows/b-two")
    first = (await api.get("/api/v1/workflows", params={"limit": 2})).json()
    assert [w["name"] for w in first["items"]] == ["a-one", "c-three"]
    rest = (await api.get("/api/v1/workflows", params={"cursor": first["next_cursor"]})).json()
    assert rest["next_cursor"] is None
    [item] = rest["items"]
    assert item["name"] == "restart-unhealthy-pods"
    assert (item["latest_version"], item["published_version"]) == (1, None)
    assert item["triggers"] == [
        {"id": "schedule", "type": "schedule"},
        {"id": "webhook", "type": "webhook"},
        {"id": "monitor", "type": "monitor"},
        {"id": "security_signal", "type": "security_signal"},
    ]
    assert "last_run" in item


async def test_versions_diff_publish_and_rollback(api: httpx.AsyncClient) -> None:
    for text in ("one", "two", "three"):
        await api.put("/api/v1/workflows/hello", content=hello(text=text), headers=YAML)
    versions = (await api.get("/api/v1/workflows/hello/versions")).json()
    assert [v["number"] for v in versions["items"]] == [3, 2, 1]
    assert all(v["author"] == "admin" and v["created_at"] for v in versions["items"])
    page = (await api.get("/api/v1/workflows/hello/versions", params={"limit": 1})).json()
    nxt = (
        await api.get(
            "/api/v1/workflows/hello/versions", params={"limit": 1, "cursor": page["next_cursor"]}
        )
    ).json()
    assert [v["number"] for v in nxt["items"]] == [2]
    v2 = (await api.get("/api/v1/workflows/hello/versions/2")).json()
    assert v2["text"] == hello(text="two")
    assert "-    with: {text: 'one'}\n+    with: {text: 'two'}\n" in v2["diff"]
    assert v2["diff"].startswith("--- hello@1\n+++ hello@2\n")
    assert (await api.get("/api/v1/workflows/hello/versions/1")).json()["diff"] == ""
    assert (await api.get("/api/v1/workflows/hello/versions/9")).status_code == 404

    r = await api.post("/api/v1/workflows/hello/publish", json={"version": 3})
    assert r.json() == {"name": "hello", "published_version": 3, "previous": None}
    r = await api.post("/api/v1/workflows/hello/publish", json={"version": 1})  # roll back
    assert r.json() == {"name": "hello", "published_version": 1, "previous": 3}
    listed = (await api.get("/api/v1/workflows")).json()["items"][0]
    assert (listed["latest_version"], listed["published_version"]) == (3, 1)
    assert (
        await api.post("/api/v1/workflows/hello/publish", json={"version": 7})
    ).status_code == 404
    assert (
        await api.post("/api/v1/workflows/nope/publish", json={"version": 1})
    ).status_code == 404
    assert (
        await api.post("/api/v1/workflows/hello/publish", json={"version": 0})
    ).status_code == 422


async def test_delete_is_soft_and_a_new_put_revives(api: httpx.AsyncClient) -> None:
    await api.put("/api/v1/workflows/hello", content=hello(text="one"), headers=YAML)
    await api.put(
        "/api/v1/workflows/hello", content=hello(text="two"), headers=YAML, params={"publish": True}
    )
    assert (await api.delete("/api/v1/workflows/hello")).status_code == 204
    assert (await api.get("/api/v1/workflows/hello")).status_code == 404
    assert (await api.delete("/api/v1/workflows/hello")).status_code == 404
    assert (await api.get("/api/v1/workflows")).json()["items"] == []
    r = await api.put("/api/v1/workflows/hello", content=hello(text="three"), headers=YAML)
    assert r.status_code == 201
    assert (r.json()["version"], r.json()["published_version"]) == (3, None)  # numbers go on


async def test_workflow_mutations_are_audited(api: httpx.AsyncClient) -> None:
    await api.put("/api/v1/workflows/hello", content=hello(), headers=YAML)
    await api.put("/api/v1/workflows/hello", content=hello(), headers=YAML)  # no change: no entry
    await api.put("/api/v1/workflows/hello", content=hello(text="x"), headers=YAML)
    await api.post("/api/v1/workflows/hello/publish", json={"version": 1})
    await api.delete("/api/v1/workflows/hello")
    entries = (await api.get("/api/v1/audit", params={"resource": "workflow:hello"})).json()
    assert audit_actions(entries["items"]) == [
        ("admin", "workflow.delete", "workflow:hello"),
        ("admin", "workflow.publish", "workflow:hello"),
        ("admin", "workflow.update", "workflow:hello"),
        ("admin", "workflow.create", "workflow:hello"),
    ]
    assert entries["items"][1]["details"] == {"version": 1, "previous": None}
