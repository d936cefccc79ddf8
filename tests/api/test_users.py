"""Authentication, users, tokens and grants through the HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from switchyard.control import auth
from switchyard.control.db import Database

from .conftest import TokenFor, audit_actions, client_for


async def test_health_needs_no_token(app: FastAPI) -> None:
    async with client_for(app, None) as anon:
        r = await anon.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json()["database"] == "ok"


async def test_missing_invalid_expired_revoked_tokens_are_401(
    app: FastAPI, database: Database, token_for: TokenFor
) -> None:
    good = await token_for("viewer", "vic")
    async with database.session() as s:
        user = await auth.find_user(s, "vic")
        expired_id, expired = await auth.create_token(s, user.id, expires_in=1)
        await s.execute(
            auth.Token.__table__.update()
            .where(auth.Token.id == expired_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=5))
        )
        revoked_id, revoked = await auth.create_token(s, user.id)
        await auth.revoke_token(s, revoked_id)
    for token in (None, "nope", expired, revoked, "x" * 2000):
        async with client_for(app, token) as c:
            r = await c.get("/api/v1/users")
        assert r.status_code == 401, (token, r.text)
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json()["error"]["type"] == "Unauthorized"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://t",
        headers={"Authorization": f"Basic {good}"},
    ) as c:
        assert (await c.get("/api/v1/me")).status_code == 401
    async with client_for(app, good) as c:
        me = (await c.get("/api/v1/me")).json()
        assert (me["name"], me["role"]) == ("vic", "viewer")
        assert (await c.get("/api/v1/users")).status_code == 403


async def test_create_and_list_users(api: httpx.AsyncClient) -> None:
    r = await api.post("/api/v1/users", json={"name": "alice", "role": "editor"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["name"] == "alice" and body["role"] == "editor" and body["id"]
    assert (
        await api.post("/api/v1/users", json={"name": "alice", "role": "viewer"})
    ).status_code == 409
    bad = await api.post("/api/v1/users", json={"name": "bob", "role": "root"})
    assert bad.status_code == 422
    assert bad.json()["error"]["problems"][0]["location"] == "body.role"
    bad = await api.post("/api/v1/users", json={"name": "Bob Smith", "role": "viewer"})
    assert bad.status_code == 422 and "invalid user name" in bad.json()["error"]["message"]
    for i in range(3):
        await api.post("/api/v1/users", json={"name": f"user{i}", "role": "viewer"})
    first = (await api.get("/api/v1/users", params={"limit": 2})).json()
    assert [u["name"] for u in first["items"]] == ["admin", "alice"]
    rest = (await api.get("/api/v1/users", params={"cursor": first["next_cursor"]})).json()
    assert [u["name"] for u in rest["items"]] == ["user0", "user1", "user2"]
    assert rest["next_cursor"] is None
    assert (await api.get("/api/v1/users", params={"cursor": "garbage"})).status_code == 400
    assert (await api.get("/api/v1/users", params={"limit": 501})).status_code == 422


async def test_disabling_a_user_stops_its_tokens(
    api: httpx.AsyncClient, app: FastAPI, token_for: TokenFor
) -> None:
    token = await token_for("operator", "olga")
    async with client_for(app, token) as olga:
        assert (await olga.get("/api/v1/me")).status_code == 200
        r = await api.patch("/api/v1/users/olga", json={"disabled": True})
        assert r.status_code == 200 and r.json()["disabled"] is True
        assert (await olga.get("/api/v1/me")).status_code == 401
        await api.patch("/api/v1/users/olga", json={"disabled": False, "role": "viewer"})
        assert (await olga.get("/api/v1/me")).json()["role"] == "viewer"
    assert (await api.patch("/api/v1/users/admin", json={"disabled": True})).status_code == 409
    assert (await api.patch("/api/v1/users/ghost", json={"role": "viewer"})).status_code == 404


async def test_tokens_for_others_need_admin_and_own_tokens_are_bounded(
    api: httpx.AsyncClient, app: FastAPI, token_for: TokenFor
) -> None:
    await api.post("/api/v1/users", json={"name": "alice", "role": "editor"})
    r = await api.post("/api/v1/tokens", json={"user": "alice", "expires_in": 3600})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["token"].startswith("syt_") and created["id"] and created["user"] == "alice"
    async with client_for(app, created["token"]) as alice:
        assert (await alice.get("/api/v1/me")).json()["name"] == "alice"
        # Users may create their own tokens, never outliving the one they used...
        own = await alice.post("/api/v1/tokens", json={})
        assert own.status_code == 201
        assert own.json()["expires_at"] == created["expires_at"]
        # ...but not tokens for someone else (and cannot probe who exists).
        assert (await alice.post("/api/v1/tokens", json={"user": "admin"})).status_code == 403
        assert (await alice.post("/api/v1/tokens", json={"user": "ghost"})).status_code == 403
        # Their own token list, not the admin's.
        listed = (await alice.get("/api/v1/tokens")).json()["items"]
        assert {t["id"] for t in listed} == {created["id"], own.json()["id"]}
        assert all("token" not in t and "hash" not in t for t in listed)
        assert (await alice.get("/api/v1/tokens", params={"user": "admin"})).status_code == 403
        # Revoking: one's own, yes; someone else's, no.
        admin_tokens = (await api.get("/api/v1/tokens")).json()["items"]
        r = await alice.delete(f"/api/v1/tokens/{admin_tokens[0]['id']}")
        assert r.status_code == 403
        assert (await alice.delete(f"/api/v1/tokens/{own.json()['id']}")).status_code == 204
    async with client_for(app, own.json()["token"]) as revoked:
        assert (await revoked.get("/api/v1/me")).status_code == 401
    assert (await api.delete(f"/api/v1/tokens/{created['id']}")).status_code == 204
    async with client_for(app, created["token"]) as revoked:
        assert (await revoked.get("/api/v1/me")).status_code == 401
    assert (await api.delete("/api/v1/tokens/nope")).status_code == 404
    assert (await api.post("/api/v1/tokens", json={"user": "ghost"})).status_code == 404
    assert (await api.post("/api/v1/tokens", json={"expires_in": 0})).status_code == 422
    assert (await api.get("/api/v1/tokens", params={"user": "alice"})).status_code == 200


async def test_grants_replace_and_validate(api: httpx.AsyncClient) -> None:
    await api.post("/api/v1/users", json={"name": "vera", "role": "viewer"})
    await api.put(
        "/api/v1/workflows/wf-a", json={"name": "wf-a", "steps": [{"id": "a", "set": {"x": 1}}]}
    )
    r = await api.put(
        "/api/v1/workflows/wf-a/grants",
        json=[
            {"subject": "user:vera", "permissions": ["workflows_update", "workflows_run"]},
            {"subject": "role:operator", "permissions": ["workflows_update"]},
        ],
    )
    assert r.status_code == 200, r.text
    assert r.json() == [
        {"subject": "role:operator", "permissions": ["workflows_update"]},
        {"subject": "user:vera", "permissions": ["workflows_run", "workflows_update"]},
    ]
    assert (await api.get("/api/v1/workflows/wf-a/grants")).json() == r.json()
    bad = await api.put(
        "/api/v1/workflows/wf-a/grants",
        json=[{"subject": "user:vera", "permissions": ["workflows_fly"]}],
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["problems"][0]["location"] == "[0].permissions"
    assert (await api.get("/api/v1/workflows/wf-a/grants")).json() == r.json()  # unchanged
    assert (await api.put("/api/v1/workflows/wf-a/grants", json=[])).json() == []


async def test_mutations_are_audited(api: httpx.AsyncClient) -> None:
    await api.post("/api/v1/users", json={"name": "alice", "role": "editor"})
    token = (await api.post("/api/v1/tokens", json={"user": "alice"})).json()
    await api.delete(f"/api/v1/tokens/{token['id']}")
    await api.patch("/api/v1/users/alice", json={"role": "viewer"})
    entries = (await api.get("/api/v1/audit")).json()["items"]
    assert audit_actions(entries) == [
        ("admin", "user.update", "user:alice"),
        ("admin", "token.delete", f"token:{token['id']}"),
        ("admin", "token.create", f"token:{token['id']}"),
        ("admin", "user.create", "user:alice"),
    ]
    assert entries[-1]["source"].startswith("127.0.0.1 ")
    assert token["token"] not in str(entries)
