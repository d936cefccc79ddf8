"""Fixtures of the runs API tests: the app with Temporal, a worker and the run recorder.

Import the fixtures into a test module (`from api.runs_support import app_fixture,
...`): the `app` fixture there replaces the conftest's app (which has no Temporal), so `api`,
`as_role` and `token_for` give clients of this one. The database is SQLite
(`database_url_for_test`); a module that imports `postgres_url_for_test` as
`database_url_for_test` runs on PostgreSQL instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from temporalio.client import Client

from control.runs_support import eventually, worker
from switchyard.api.app import create_app
from switchyard.config import Settings
from switchyard.connections import StaticConnections
from switchyard.control import workflows
from switchyard.control.db import Database, database_url
from switchyard.control.runs_service import connection_check
from switchyard.engine.devserver import free_port


@pytest.fixture
def database_url_for_test(tmp_path: Path) -> str:
    return database_url(tmp_path, {})


@pytest.fixture
def postgres_url_for_test(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("pg_cluster").fresh_database())


@pytest.fixture
def connections() -> StaticConnections:
    """The connections the worker resolves (a test may replace it)."""
    return StaticConnections({})


@pytest.fixture
def extras() -> dict[str, Any]:
    """`AppState.extras` before start-up (a test may add a span exporter)."""
    return {"recorder_options": {"interval": 0.2}}


@pytest.fixture(name="app")
async def app_fixture(
    database: Database,
    client: Client,
    task_queue: str,
    tmp_data_dir: Path,
    connections: StaticConnections,
    extras: dict[str, Any],
) -> AsyncIterator[FastAPI]:
    """The API with Temporal and the run recorder, a worker on the test's task queue."""
    settings = Settings(data_dir=tmp_data_dir, task_queue=task_queue)
    application = create_app(settings, database, temporal=client, migrate=False)
    application.state.switchyard.extras.update(extras)
    check = connection_check(database)
    async with (
        worker(client, task_queue, tmp_data_dir, connections=connections, connection_check=check),
        application.router.lifespan_context(application),
    ):
        yield application


async def save(db: Database, text: str, *, publish: bool = True) -> int:
    """Store a workflow version (as `PUT /api/v1/workflows/{name}` does); its number."""
    text = textwrap.dedent(text)
    name = text.split("name:", 1)[1].split()[0]
    async with db.session() as session:
        result = await workflows.save(
            session, name, text, "yaml", author="test", publish_it=publish
        )
    return result.version


async def finished(api: httpx.AsyncClient, run_id: str, timeout: float = 60) -> dict[str, Any]:
    """The run once it has ended (read through the API)."""

    async def check() -> dict[str, Any] | None:
        reply = await api.get(f"/api/v1/runs/{run_id}")
        assert reply.status_code == 200, reply.text
        run = reply.json()
        return run if run["status"] in ("succeeded", "failed", "cancelled", "timed_out") else None

    return await eventually(check, timeout=timeout)


async def recorded(db: Database, run_id: str, timeout: float = 60) -> Any:
    """The run's row once the recorder has stored its final state."""
    from switchyard.control import runs

    async def check() -> Any:
        async with db.session() as session:
            row = await runs.get_run(session, run_id)
        return row if row is not None and row.status in runs.FINAL else None

    return await eventually(check, timeout=timeout)


async def status_is(api: httpx.AsyncClient, run_id: str, status: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        run = (await api.get(f"/api/v1/runs/{run_id}")).json()
        return run if run.get("status") == status else None

    return await eventually(check)


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """The app on a real loopback HTTP server (uvicorn, in this event loop); its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: _started(server), timeout=30, every=0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _started(server: uvicorn.Server) -> bool:
    return bool(server.started)
