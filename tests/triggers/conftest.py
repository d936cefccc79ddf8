"""Trigger fixtures: the real API app with Temporal and a worker, on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import Client

from switchyard.api.app import create_app
from switchyard.config import Settings
from switchyard.control import auth
from switchyard.control.db import Database, database_url
from switchyard.engine.blobs import BlobStore
from switchyard.engine.worker import build_worker


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(database_url(tmp_path, {}))
    await database.migrate()
    yield database
    await database.close()


@pytest.fixture
async def trigger_app(
    db: Database, client: Client, task_queue: str, tmp_path: Path
) -> AsyncIterator[FastAPI]:
    """The API (lifespan started: dispatcher and sweep running) and an engine worker."""
    settings = Settings(data_dir=tmp_path / "data", task_queue=task_queue)
    app = create_app(settings, db, temporal=client, migrate=False)
    blobs = BlobStore(tmp_path / "blobs", 1 << 17)
    async with build_worker(client, task_queue, blobs=blobs), app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def admin(db: Database, trigger_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with db.session() as session:
        token = await auth.ensure_admin(session)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=trigger_app, client=("127.0.0.1", 5555)),
        base_url="http://switchyard.test",
        headers={"Authorization": f"Bearer {token}"},
    ) as api:
        yield api
