"""Property-based API testing: schemathesis generates requests from the app's own
OpenAPI document (`/api/v1/openapi.json`) for every operation of users, tokens,
grants, workflows, audit, connections, actions and health, sends them with an
admin token to a real server (uvicorn in a thread, on SQLite and on
PostgreSQL, which refuses more text than SQLite), and fails on any 5xx: bad
input must always be a 4xx.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from switchyard.api.app import create_app
from switchyard.config import Settings
from switchyard.control import auth, workflows
from switchyard.control.db import Database, database_url

#: The routers this suite covers (their OpenAPI tags).
TAGS = ["health", "users", "workflows", "audit", "actions", "connections"]
#: Examples per operation: enough to find the 500s, under two minutes in all
#: (`SWITCHYARD_FUZZ_EXAMPLES=500` hunts longer, `SWITCHYARD_FUZZ_RANDOM=1` with new seeds).
MAX_EXAMPLES = int(os.environ.get("SWITCHYARD_FUZZ_EXAMPLES", "40"))
#: (method, path) -> how many responses of each status, over the whole run.
STATUSES: defaultdict[tuple[str, str], Counter[int]] = defaultdict(Counter)


HELLO = "name: hello\nsteps:\n  - id: say\n    action: core.echo\n    with: {text: hi}\n"


class ThreadedServer:
    """uvicorn on a free loopback port, in a thread with its own event loop."""

    def __init__(self, data_dir: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("SWITCHYARD_MASTER_KEY", raising=False)
        self.data_dir = data_dir
        self.database_url = url
        self.token = ""
        self.ready = threading.Event()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: uvicorn.Server | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        db = Database(self.database_url)
        await db.migrate()
        async with db.session() as session:
            token = await auth.ensure_admin(session)
            # What the documented path examples name, so some calls find them.
            await auth.create_user(session, "alice", "viewer")
            await workflows.save(session, "hello", HELLO, "yaml", author="admin")
        assert token is not None
        self.token = token
        app = create_app(Settings(data_dir=self.data_dir), db, migrate=False)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self.ready.set()
        try:
            await self.server.serve()
        finally:
            await db.close()

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        assert self.ready.wait(60), "the server did not start"
        deadline = time.monotonic() + 30
        while not (self.server and self.server.started):
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ThreadedServer]:
    data_dir = tmp_path_factory.mktemp("schemathesis")
    if request.param == "sqlite":
        url = database_url(data_dir, {})
    else:
        url = request.getfixturevalue("pg_cluster").fresh_database()
    monkeypatch = pytest.MonkeyPatch()
    try:
        with ThreadedServer(data_dir, url, monkeypatch) as server:
            yield server
    finally:
        monkeypatch.undo()


def _openapi() -> dict[str, Any]:
    """The document the server serves at /api/v1/openapi.json (the app builds it offline).

    Loaded at collection, so each operation is a test of its own
    (`schemathesis.pytest.from_fixture` does not work with this pytest).
    """
    db = Database("sqlite+aiosqlite:///:memory:")  # not connected: only the routes matter
    return create_app(Settings(), db, migrate=False).openapi()


schema = schemathesis.openapi.from_dict(_openapi()).include(tag=TAGS)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=not os.environ.get("SWITCHYARD_FUZZ_RANDOM"),
)
def test_no_server_errors(case: Any, live_server: ThreadedServer) -> None:
    response = case.call_and_validate(
        base_url=live_server.url,
        headers={"Authorization": f"Bearer {live_server.token}"},
        checks=[not_a_server_error],
        timeout=30,
    )
    STATUSES[(case.method.upper(), case.path)][response.status_code] += 1


def test_the_generated_requests_got_through() -> None:
    """The suite above can fail: its requests reached the handlers, some succeeded."""
    documented = {
        (method.upper(), path)
        for path, item in _openapi()["paths"].items()
        for method in item
        if (path, method) in {(op.path, op.method) for op in _operations()}
    }
    assert documented <= set(STATUSES)
    for operation in documented:
        statuses = STATUSES[operation]
        assert any(s not in (401, 403, 405) for s in statuses), (operation, statuses)
    succeeded = {op for op in documented if any(200 <= s < 300 for s in STATUSES[op])}
    assert len(succeeded) >= 0.5 * len(documented), sorted(documented - succeeded)
    assert not any(s >= 500 for counts in STATUSES.values() for s in counts)


def _operations() -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def test_the_served_document_is_the_tested_one(live_server: ThreadedServer) -> None:
    import httpx

    assert httpx.get(f"{live_server.url}/api/v1/openapi.json").json() == _openapi()
    paths = {op.path for op in _operations()}
    for path in (
        "/api/v1/health",
        "/api/v1/users",
        "/api/v1/tokens",
        "/api/v1/tokens/{token_id}",
        "/api/v1/workflows",
        "/api/v1/workflows/{name}",
        "/api/v1/workflows/{name}/versions/{version}",
        "/api/v1/workflows/{name}/grants",
        "/api/v1/workflows/validate",
        "/api/v1/audit",
        "/api/v1/connections/{name}",
        "/api/v1/connections/{name}/grants",
        "/api/v1/actions/{type}",
    ):
        assert path in paths, path
