"""`GET /api/v1/audit` through the HTTP API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from .conftest import audit_actions


async def test_audit_filters_pagination_and_permission(
    api: httpx.AsyncClient, as_role: Callable[..., Awaitable[httpx.AsyncClient]]
) -> None:
    for i in range(3):
        await api.post("/api/v1/users", json={"name": f"u{i}", "role": "viewer"})
    editor = await as_role("editor", "eddie")
    await editor.put(
        "/api/v1/workflows/w",
        json={"name": "w", "steps": [{"id": "a", "set": {"x": 1}}]},
        headers={"User-Agent": "tests/1.0"},
    )
    first = (await api.get("/api/v1/audit", params={"limit": 2})).json()
    assert audit_actions(first["items"]) == [
        ("eddie", "workflow.create", "workflow:w"),
        ("admin", "user.create", "user:u2"),
    ]
    assert first["items"][0]["source"] == "127.0.0.1 tests/1.0"
    rest = (await api.get("/api/v1/audit", params={"cursor": first["next_cursor"]})).json()
    assert audit_actions(rest["items"]) == [
        ("admin", "user.create", "user:u1"),
        ("admin", "user.create", "user:u0"),
    ]
    assert rest["next_cursor"] is None
    by_actor = (await api.get("/api/v1/audit", params={"actor": "eddie"})).json()["items"]
    assert [e["action"] for e in by_actor] == ["workflow.create"]
    by_action = (await api.get("/api/v1/audit", params={"action": "user.*"})).json()["items"]
    assert len(by_action) == 3
    since = first["items"][0]["at"]
    newest = (await api.get("/api/v1/audit", params={"since": since})).json()["items"]
    assert [e["action"] for e in newest] == ["workflow.create"]
    until = (await api.get("/api/v1/audit", params={"until": since})).json()["items"]
    assert len(until) == 3
    bad = await api.get("/api/v1/audit", params={"since": "yesterday"})
    assert bad.status_code == 422 and bad.json()["error"]["problems"][0]["location"] == "since"
    assert (await editor.get("/api/v1/audit")).status_code == 403
