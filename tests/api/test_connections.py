"""Connections through the HTTP API: validation, write-only secrets, grants."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from switchyard.control.connections import DbConnections
from switchyard.control.db import Database

from .conftest import audit_actions

SECRET = "ghp_very-secret-value"


async def test_create_show_list_update_delete(
    api: httpx.AsyncClient, database: Database, tmp_path: Path
) -> None:
    r = await api.post(
        "/api/v1/connections",
        json={
            "name": "github",
            "type": "http",
            "fields": {"base_url": "https://api.github.test", "auth": "bearer"},
            "secrets": {"token": SECRET},
        },
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["secrets"] == ["token"] and created["created_by"] == "admin"
    assert SECRET not in r.text
    shown = await api.get("/api/v1/connections/github")
    assert shown.json()["fields"]["base_url"] == "https://api.github.test"
    assert SECRET not in shown.text
    await api.post(
        "/api/v1/connections",
        json={"name": "hook", "type": "webhook_secret", "secrets": {"secret": "k"}},
    )
    listed = (await api.get("/api/v1/connections", params={"limit": 1})).json()
    assert [c["name"] for c in listed["items"]] == ["github"]
    more = (await api.get("/api/v1/connections", params={"cursor": listed["next_cursor"]})).json()
    assert [c["name"] for c in more["items"]] == ["hook"]
    by_type = (await api.get("/api/v1/connections", params={"type": "webhook_secret"})).json()
    assert [c["name"] for c in by_type["items"]] == ["hook"]
    assert SECRET not in json.dumps(listed)

    # A field change keeps the secret; the worker resolves the new state.
    r = await api.put(
        "/api/v1/connections/github",
        json={"fields": {"base_url": "https://ghe.test", "auth": "bearer"}},
    )
    assert r.status_code == 200 and r.json()["secrets"] == ["token"]
    resolver = DbConnections(database, tmp_path / "data")
    found = await resolver.get("github")
    assert found.secrets == {"token": SECRET} and found.fields["base_url"] == "https://ghe.test"
    r = await api.put("/api/v1/connections/github", json={"secrets": {"token": "new"}})
    assert (await resolver.get("github")).secrets == {"token": "new"}
    r = await api.put("/api/v1/connections/github", json={"secrets": {"token": None}})
    assert r.json()["secrets"] == []
    assert (
        await api.put("/api/v1/connections/github", json={"type": "webhook_secret"})
    ).status_code == 422
    assert (await api.put("/api/v1/connections/nope", json={})).status_code == 404

    assert (await api.delete("/api/v1/connections/github")).status_code == 204
    assert (await api.get("/api/v1/connections/github")).status_code == 404
    assert (await api.delete("/api/v1/connections/github")).status_code == 404
    entries = (await api.get("/api/v1/audit", params={"action": "connection.*"})).json()["items"]
    assert [e[1] for e in audit_actions(entries)] == [
        "connection.delete",
        "connection.update",
        "connection.update",
        "connection.update",
        "connection.create",
        "connection.create",
    ]
    assert SECRET not in json.dumps(entries) and '"new"' not in json.dumps(entries)


async def test_invalid_connections_are_located_422s(api: httpx.AsyncClient) -> None:
    r = await api.post(
        "/api/v1/connections",
        json={"name": "x", "type": "http", "fields": {"auth": "magic"}, "secrets": {"pin": "1"}},
    )
    assert r.status_code == 422
    assert {p["location"] for p in r.json()["error"]["problems"]} == {"fields.auth", "secrets.pin"}
    r = await api.post("/api/v1/connections", json={"name": "x", "type": "pigeon"})
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["location"] == "type"
    r = await api.post("/api/v1/connections", json={"name": "Bad Name", "type": "http"})
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["location"] == "name"
    r = await api.post(
        "/api/v1/connections", json={"name": "x", "type": "http", "secrets": {"token": 5}}
    )
    assert r.status_code == 422
    await api.post("/api/v1/connections", json={"name": "x", "type": "http"})
    assert (
        await api.post("/api/v1/connections", json={"name": "x", "type": "http"})
    ).status_code == 409


async def test_connection_grants(
    api: httpx.AsyncClient, as_role: Callable[..., Awaitable[httpx.AsyncClient]]
) -> None:
    for name in ("one", "two"):
        await api.post("/api/v1/connections", json={"name": name, "type": "http"})
    viewer = await as_role("viewer", "vera")
    assert (await viewer.put("/api/v1/connections/one", json={"fields": {}})).status_code == 403
    r = await api.put(
        "/api/v1/connections/one/grants",
        json=[{"subject": "user:vera", "permissions": ["connections_update"]}],
    )
    assert r.status_code == 200, r.text
    assert (await viewer.put("/api/v1/connections/one", json={"fields": {}})).status_code == 200
    assert (await viewer.put("/api/v1/connections/two", json={"fields": {}})).status_code == 403
    assert (await viewer.delete("/api/v1/connections/one")).status_code == 403
    assert (await viewer.get("/api/v1/connections/one/grants")).status_code == 200
    bad = await api.put(
        "/api/v1/connections/one/grants",
        json=[{"subject": "user:vera", "permissions": ["workflows_run"]}],
    )
    assert bad.status_code == 422
    assert (await api.put("/api/v1/connections/ghost/grants", json=[])).status_code == 404
    # Deleting the connection drops its grants: a new one of that name starts clean.
    await api.delete("/api/v1/connections/one")
    await api.post("/api/v1/connections", json={"name": "one", "type": "http"})
    assert (await api.get("/api/v1/connections/one/grants")).json() == []
