"""A run executes as its caller: a step may use a connection only with `connections_use`."""

from __future__ import annotations

from typing import Any

import pytest

from api.runs_support import (  # noqa: F401
    app_fixture,
    database_url_for_test,
    extras,
    finished,
    save,
)
from switchyard.connections import Connection, StaticConnections
from switchyard.control import auth
from switchyard.control.db import Database
from switchyard.control.permissions import Permission, Role

pytestmark = pytest.mark.temporal


@pytest.fixture
def connections(httpserver: Any) -> StaticConnections:
    return StaticConnections(
        [
            Connection(
                "prod-api",
                "http",
                fields={"base_url": httpserver.url_for("/"), "auth": "bearer"},
                secrets={"token": "s3cret"},
            )
        ]
    )


PING = """
name: ping
steps:
  - id: ping
    action: http.request
    connection: prod-api
    with: {url: /ping}
"""


async def test_a_step_fails_with_permission_denied_without_connections_use(
    as_role: Any, database: Database, httpserver: Any
) -> None:
    # Roles that use connections everywhere (operator and up) need no grant; a
    # viewer allowed to run this one workflow is the identity without it.
    assert not auth.role_allows(Role.VIEWER, Permission.CONNECTIONS_USE)
    httpserver.expect_request("/ping").respond_with_json({"pong": True})
    await save(database, PING)
    ray = await as_role("viewer", "ray")
    async with database.session() as s:
        await auth.set_grants(s, "workflow", "ping", [("user:ray", ["workflows_run"])])

    reply = await ray.post("/api/v1/workflows/ping/runs", json={})
    assert reply.status_code == 201, reply.text
    run = await finished(ray, reply.json()["id"])
    assert run["status"] == "failed"
    step = run["steps"]["ping"]
    assert step["error"]["type"] == "PermissionDenied", step
    assert "prod-api" in step["error"]["message"] and step["attempts"] == 1  # not retried
    assert httpserver.log == []  # the connection was never used

    async with database.session() as s:
        await auth.set_grants(s, "connection", "prod-api", [("user:ray", ["connections_use"])])
    reply = await ray.post("/api/v1/workflows/ping/runs", json={})
    run = await finished(ray, reply.json()["id"])
    assert run["status"] == "succeeded", run
    assert run["steps"]["ping"]["output"]["body"] == {"pong": True}
    request = httpserver.log[0][0]
    assert request.headers["Authorization"] == "Bearer s3cret"


async def test_an_operator_uses_connections_by_role(
    as_role: Any, database: Database, httpserver: Any
) -> None:
    httpserver.expect_request("/ping").respond_with_json({"pong": True})
    await save(database, PING)
    operator = await as_role("operator", "otto")
    run = await finished(
        operator, (await operator.post("/api/v1/workflows/ping/runs", json={})).json()["id"]
    )
    assert run["status"] == "succeeded", run
