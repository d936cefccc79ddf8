"""Who may call what: every endpoint of users, tokens, grants, workflows, audit,
connections, actions (and health), for each of the roles admin, editor, operator, viewer and
no token.

The expectations are written out by hand below, from the roles of DESIGN.md
("Security model") and api.md: not derived from the code under test. Each
cell works on resources of its own (`wf-<row>-<role>`), so cells do not see
each other's changes and an allowed call gets its exact success status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from switchyard.connections.crypto import Keyring
from switchyard.control import auth, connections, workflows
from switchyard.control.db import Database

from .conftest import client_for

ROLES = ("admin", "editor", "operator", "viewer", "anonymous")
YAML = {"Content-Type": "application/yaml"}


def definition(name: str, text: str = "hi") -> str:
    return f"name: {name}\nsteps:\n  - id: a\n    action: core.echo\n    with: {{t: {text!r}}}\n"


@dataclass
class Row:
    """One endpoint call; `expect` is the status for admin, editor, operator, viewer, anonymous."""

    method: str
    path: str
    expect: tuple[int, int, int, int, int]
    json: Any = None
    content: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: What must exist for the cell: "workflow", "connection", "user" (`target-...`),
    #: "token" (a token of that user, `{token}` in the path).
    needs: tuple[str, ...] = ()


# fmt: off
MATRIX: dict[str, Row] = {
    # -- health: no token needed ------------------------------------------------------------------
    "health":              Row("GET", "/api/v1/health", (200, 200, 200, 200, 200)),
    # -- users ---------------------------------------------------------------------------------
    "users.create":        Row("POST", "/api/v1/users", (201, 403, 403, 403, 401),
                               json={"name": "new-{cell}", "role": "viewer"}),
    "users.list":          Row("GET", "/api/v1/users", (200, 403, 403, 403, 401)),
    "users.update":        Row("PATCH", "/api/v1/users/target-{cell}", (200, 403, 403, 403, 401),
                               json={"role": "operator"}, needs=("user",)),
    "me":                  Row("GET", "/api/v1/me", (200, 200, 200, 200, 401)),
    # -- tokens --------------------------------------------------------------------------------
    "tokens.create.own":   Row("POST", "/api/v1/tokens", (201, 201, 201, 201, 401), json={}),
    "tokens.create.other": Row("POST", "/api/v1/tokens", (201, 403, 403, 403, 401),
                               json={"user": "target-{cell}"}, needs=("user",)),
    "tokens.list":         Row("GET", "/api/v1/tokens", (200, 200, 200, 200, 401)),
    "tokens.delete.other": Row("DELETE", "/api/v1/tokens/{token}", (204, 403, 403, 403, 401),
                               needs=("user", "token")),
    # -- grants --------------------------------------------------------------------------------
    "grants.workflow.put": Row("PUT", "/api/v1/workflows/wf-{cell}/grants",
                               (200, 403, 403, 403, 401), json=[], needs=("workflow",)),
    "grants.workflow.get": Row("GET", "/api/v1/workflows/wf-{cell}/grants",
                               (200, 200, 200, 200, 401), needs=("workflow",)),
    "grants.conn.put":     Row("PUT", "/api/v1/connections/conn-{cell}/grants",
                               (200, 403, 403, 403, 401), json=[], needs=("connection",)),
    "grants.conn.get":     Row("GET", "/api/v1/connections/conn-{cell}/grants",
                               (200, 200, 200, 200, 401), needs=("connection",)),
    # -- workflows -----------------------------------------------------------------------------
    "workflows.create":    Row("PUT", "/api/v1/workflows/wf-{cell}", (201, 201, 403, 403, 401),
                               content=definition("wf-{cell}"), headers=YAML),
    "workflows.update":    Row("PUT", "/api/v1/workflows/wf-{cell}", (200, 200, 403, 403, 401),
                               content=definition("wf-{cell}", "changed"), headers=YAML,
                               needs=("workflow",)),
    "workflows.update.publish": Row("PUT", "/api/v1/workflows/wf-{cell}?publish=true",
                               (200, 200, 403, 403, 401),
                               content=definition("wf-{cell}", "changed"), headers=YAML,
                               needs=("workflow",)),
    "workflows.list":      Row("GET", "/api/v1/workflows", (200, 200, 200, 200, 401)),
    "workflows.get":       Row("GET", "/api/v1/workflows/wf-{cell}", (200, 200, 200, 200, 401),
                               needs=("workflow",)),
    "workflows.get.missing": Row("GET", "/api/v1/workflows/ghost-{cell}",
                               (404, 404, 404, 404, 401)),
    "workflows.versions":  Row("GET", "/api/v1/workflows/wf-{cell}/versions",
                               (200, 200, 200, 200, 401), needs=("workflow",)),
    "workflows.version":   Row("GET", "/api/v1/workflows/wf-{cell}/versions/1",
                               (200, 200, 200, 200, 401), needs=("workflow",)),
    "workflows.publish":   Row("POST", "/api/v1/workflows/wf-{cell}/publish",
                               (200, 200, 403, 403, 401), json={"version": 1},
                               needs=("workflow",)),
    "workflows.delete":    Row("DELETE", "/api/v1/workflows/wf-{cell}", (204, 204, 403, 403, 401),
                               needs=("workflow",)),
    "workflows.validate":  Row("POST", "/api/v1/workflows/validate", (200, 200, 200, 200, 401),
                               content=definition("v"), headers=YAML),
    # -- audit ---------------------------------------------------------------------------------
    "audit.list":          Row("GET", "/api/v1/audit", (200, 403, 403, 403, 401)),
    # -- connections ---------------------------------------------------------------------------
    "connections.create":  Row("POST", "/api/v1/connections", (201, 201, 403, 403, 401),
                               json={"name": "conn-{cell}", "type": "http"}),
    "connections.list":    Row("GET", "/api/v1/connections", (200, 200, 200, 200, 401)),
    "connections.get":     Row("GET", "/api/v1/connections/conn-{cell}",
                               (200, 200, 200, 200, 401), needs=("connection",)),
    "connections.update":  Row("PUT", "/api/v1/connections/conn-{cell}",
                               (200, 200, 403, 403, 401), json={"fields": {}},
                               needs=("connection",)),
    "connections.delete":  Row("DELETE", "/api/v1/connections/conn-{cell}",
                               (204, 204, 403, 403, 401), needs=("connection",)),
    # -- actions -------------------------------------------------------------------------------
    "actions.list":        Row("GET", "/api/v1/actions", (200, 200, 200, 200, 401)),
    "actions.get":         Row("GET", "/api/v1/actions/core.echo", (200, 200, 200, 200, 401)),
}
# fmt: on


async def _prepare(db: Database, keys: Keyring, row: Row, cell: str) -> dict[str, str]:
    """Create what the cell's call needs; returns the placeholders of its path."""
    values = {"cell": cell}
    async with db.session() as s:
        if "workflow" in row.needs:
            await workflows.save(s, f"wf-{cell}", definition(f"wf-{cell}"), "yaml", author=None)
        if "connection" in row.needs:
            await connections.create(s, keys, f"conn-{cell}", "http")
        if "user" in row.needs:
            user = await auth.create_user(s, f"target-{cell}", "viewer")
            if "token" in row.needs:
                values["token"], _ = await auth.create_token(s, user.id)
    return values


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, replacement in values.items():
            value = value.replace("{" + key + "}", replacement)
        return value
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    return value


@pytest.fixture
async def clients(app: FastAPI, admin_token: str, token_for: Callable[..., Awaitable[str]]) -> Any:
    made = {"admin": client_for(app, admin_token), "anonymous": client_for(app, None)}
    for role in ("editor", "operator", "viewer"):
        made[role] = client_for(app, await token_for(role, f"the-{role}"))
    yield made
    for client in made.values():
        await client.aclose()


@pytest.fixture
def keys(app: FastAPI) -> Keyring:
    """The master keys the app itself uses."""
    return Keyring.load(app.state.switchyard.settings.data_dir)


async def test_rbac_matrix(
    database: Database, keys: Keyring, clients: dict[str, httpx.AsyncClient]
) -> None:
    wrong: list[str] = []
    for index, (name, row) in enumerate(MATRIX.items()):
        for role, expected in zip(ROLES, row.expect, strict=True):
            values = await _prepare(database, keys, row, f"{index}-{role}")
            response = await clients[role].request(
                row.method,
                _fill(row.path, values),
                json=_fill(row.json, values),
                content=_fill(row.content, values),
                headers=row.headers,
            )
            if response.status_code != expected:
                wrong.append(
                    f"{name} as {role}: expected {expected}, got {response.status_code} "
                    f"{response.text[:200]}"
                )
            if expected == 401:
                assert response.headers.get("www-authenticate") == "Bearer"
    assert not wrong, "\n".join(wrong)


async def test_an_invalid_token_is_refused_everywhere_but_health(
    app: FastAPI, database: Database, keys: Keyring
) -> None:
    async with client_for(app, "syt_not-a-real-token") as client:
        for index, (name, row) in enumerate(MATRIX.items()):
            values = await _prepare(database, keys, row, f"{index}-bad")
            r = await client.request(
                row.method,
                _fill(row.path, values),
                json=_fill(row.json, values),
                content=_fill(row.content, values),
                headers=row.headers,
            )
            assert r.status_code == (200 if name == "health" else 401), name


async def test_per_workflow_grants(
    api: httpx.AsyncClient, as_role: Callable[..., Awaitable[httpx.AsyncClient]]
) -> None:
    for name in ("wf-a", "wf-b"):
        await api.put(f"/api/v1/workflows/{name}", content=definition(name), headers=YAML)
    viewer = await as_role("viewer", "vera")
    other = await as_role("viewer", "walt")
    operator = await as_role("operator", "otto")
    r = await api.put(
        "/api/v1/workflows/wf-a/grants",
        json=[
            {"subject": "user:vera", "permissions": ["workflows_update"]},
            {"subject": "role:operator", "permissions": ["workflows_publish", "workflows_delete"]},
        ],
    )
    assert r.status_code == 200, r.text
    changed = definition("wf-a", "by vera")
    assert (
        await viewer.put("/api/v1/workflows/wf-a", content=changed, headers=YAML)
    ).status_code == 200
    changed_b = definition("wf-b", "by vera")
    assert (
        await viewer.put("/api/v1/workflows/wf-b", content=changed_b, headers=YAML)
    ).status_code == 403
    assert (
        await other.put("/api/v1/workflows/wf-a", content=changed, headers=YAML)
    ).status_code == 403
    # Update does not include publish: that needs its own grant.
    r = await viewer.put(
        "/api/v1/workflows/wf-a", content=changed, headers=YAML, params={"publish": "true"}
    )
    assert r.status_code == 403
    # A role grant reaches every user with the role, on that workflow only.
    assert (
        await operator.post("/api/v1/workflows/wf-a/publish", json={"version": 2})
    ).status_code == 200
    assert (
        await operator.post("/api/v1/workflows/wf-b/publish", json={"version": 1})
    ).status_code == 403
    assert (
        await viewer.post("/api/v1/workflows/wf-a/publish", json={"version": 1})
    ).status_code == 403
    assert (await operator.delete("/api/v1/workflows/wf-b")).status_code == 403
    assert (await operator.delete("/api/v1/workflows/wf-a")).status_code == 204
    # Grants go with the workflow: a new wf-a gives vera nothing.
    await api.put("/api/v1/workflows/wf-a", content=definition("wf-a"), headers=YAML)
    assert (
        await viewer.put("/api/v1/workflows/wf-a", content=changed, headers=YAML)
    ).status_code == 403


#: The OpenAPI tags of the routers this matrix covers.
COVERED_TAGS = {"health", "users", "workflows", "audit", "connections", "actions"}


def test_the_matrix_covers_every_endpoint(app: FastAPI) -> None:
    from fastapi.routing import APIRoute

    calls = [
        (row.method, row.path.split("?")[0].replace("{cell}", "x").replace("{token}", "t"))
        for row in MATRIX.values()
    ]
    for route in app.routes:
        if not isinstance(route, APIRoute) or not COVERED_TAGS & set(route.tags):
            continue
        for method in route.methods:
            assert any(m == method and route.path_regex.match(path) for m, path in calls), (
                f"{method} {route.path} is not in the RBAC matrix"
            )
