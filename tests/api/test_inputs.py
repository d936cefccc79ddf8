"""Text the database cannot hold (NUL), and cursors out of range: 4xx on both backends."""

from __future__ import annotations

import base64
import json

import httpx

from switchyard.api.pagination import encode_cursor


async def test_nul_in_paths_queries_and_bodies_is_a_4xx(api: httpx.AsyncClient) -> None:
    for path in (
        "/api/v1/workflows/a%00b",
        "/api/v1/workflows/a%00b/versions",
        "/api/v1/connections/a%00b",
        "/api/v1/actions/a%00b",
    ):
        r = await api.get(path)
        assert r.status_code == 400, (path, r.text)
    for path, params in (
        ("/api/v1/audit", {"actor": "a\x00"}),
        ("/api/v1/connections", {"type": "\x00"}),
        ("/api/v1/tokens", {"user": "\x00"}),
        ("/api/v1/actions", {"q": "\x00"}),
    ):
        r = await api.get(path, params=params)
        assert r.status_code == 400, (path, r.text)
    assert (await api.delete("/api/v1/tokens/%00")).status_code == 400
    assert (await api.patch("/api/v1/users/%00", json={"role": "viewer"})).status_code == 400
    r = await api.post("/api/v1/tokens", json={"user": "ad\x00min"})
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["location"] == "user"
    await api.put(
        "/api/v1/workflows/w", json={"name": "w", "steps": [{"id": "a", "set": {"x": 1}}]}
    )
    r = await api.put(
        "/api/v1/workflows/w/grants", json=[{"subject": "user:\x00", "permissions": []}]
    )
    assert r.status_code == 422
    r = await api.put(
        "/api/v1/workflows/w",
        params={"message": "\x00"},
        json={"name": "w", "steps": [{"id": "a", "set": {"x": 2}}]},
    )
    assert r.status_code == 400


async def test_cursors_the_database_cannot_compare_are_refused(api: httpx.AsyncClient) -> None:
    assert (
        await api.get("/api/v1/users", params={"cursor": encode_cursor(["\x00"])})
    ).status_code == 400
    assert (
        await api.get("/api/v1/audit", params={"cursor": encode_cursor([2**70])})
    ).status_code == 400
    assert (
        await api.get("/api/v1/audit", params={"cursor": encode_cursor([True])})
    ).status_code == 400
    raw = base64.urlsafe_b64encode(json.dumps({"a": 1}).encode()).decode()
    assert (await api.get("/api/v1/workflows", params={"cursor": raw})).status_code == 400
    await api.put(
        "/api/v1/workflows/w", json={"name": "w", "steps": [{"id": "a", "set": {"x": 1}}]}
    )
    for big in (2**40, -(2**40)):
        r = await api.get("/api/v1/workflows/w/versions", params={"cursor": encode_cursor([big])})
        assert r.status_code == 200, r.text
    r = await api.get("/api/v1/workflows/w/versions", params={"cursor": encode_cursor([2**40])})
    assert [v["number"] for v in r.json()["items"]] == [1]
