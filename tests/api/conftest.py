"""API fixtures: the real app over a real, migrated database (SQLite and PostgreSQL).

`api` is an `httpx.AsyncClient` calling the app in-process (ASGI) with the
admin's token; `token_for(role)` makes a user with that role and returns a
token of theirs. Every test gets its own database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI

from switchyard.api.app import create_app
from switchyard.config import Settings
from switchyard.control import auth
from switchyard.control.db import Database

TokenFor = Callable[..., Awaitable[str]]


@pytest.fixture(autouse=True)
def _no_env_master_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's SWITCHYARD_MASTER_KEY must not change what these tests see.
    monkeypatch.delenv("SWITCHYARD_MASTER_KEY", raising=False)
    monkeypatch.delenv("SWITCHYARD_PREVIOUS_MASTER_KEYS", raising=False)


@pytest.fixture
async def app(database: Database, tmp_path: Path) -> AsyncIterator[FastAPI]:
    """The API app over the test's database, started (lifespan hooks ran)."""
    settings = Settings(data_dir=tmp_path / "data")
    application = create_app(settings, database, migrate=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def admin_token(database: Database) -> str:
    async with database.session() as session:
        token = await auth.ensure_admin(session)
    assert token is not None
    return token


def audit_actions(entries: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(actor, action, resource) of audit entries, as listed."""
    return [(e["actor"], e["action"], e["resource"]) for e in entries]


def client_for(app: FastAPI, token: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 5555)),
        base_url="http://switchyard.test",
        headers=headers,
    )


@pytest.fixture
async def api(app: FastAPI, admin_token: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app with the admin's token."""
    async with client_for(app, admin_token) as client:
        yield client


@pytest.fixture
def token_for(database: Database) -> TokenFor:
    """`await token_for("viewer")`: a new user with that role (or `name=`) and a token of theirs."""

    async def make(role: str, name: str | None = None, expires_in: int | None = None) -> str:
        async with database.session() as session:
            user = await auth.find_user(session, name) if name else None
            if user is None:
                user = await auth.create_user(session, name or f"{role}-{uuid4().hex[:6]}", role)
            _, token = await auth.create_token(session, user.id, expires_in)
        return token

    return make


@pytest.fixture
async def as_role(
    app: FastAPI, token_for: TokenFor
) -> AsyncIterator[Callable[..., Awaitable[httpx.AsyncClient]]]:
    """`client = await as_role("editor")`: a client with a new user's token."""
    clients: list[httpx.AsyncClient] = []

    async def make(role: str, name: str | None = None) -> httpx.AsyncClient:
        client = client_for(app, await token_for(role, name))
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
