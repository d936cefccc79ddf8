"""Shared fixtures: a real Temporal dev server for the session, one task queue per test.

Tests that need Temporal take ``client`` (or ``temporal_server``) and a
``task_queue``; they are marked ``temporal`` automatically, so
``pytest -m "not temporal"`` runs the rest without starting a server.

Async fixtures and tests share pytest-asyncio's session event loop
(``asyncio_default_*_loop_scope = "session"`` in pyproject.toml), so the
session server and the per-test clients live on the same loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import uuid4

import pytest
import pytest_asyncio

from pgcluster import PgCluster, find_pg_bin
from switchyard.control.db import Database, database_url
from switchyard.engine.devserver import DevServer

if TYPE_CHECKING:
    from temporalio.client import Client

# Engine tests run loops and long runs against these limits, far below the
# production 51,200 events, so the history budget is exercised in seconds.
TEST_DYNAMIC_CONFIG = {
    "limit.historyCount.error": 2000,
    "limit.historyCount.suggestContinueAsNew": 1000,
}

_TEMPORAL_FIXTURES = frozenset({"temporal_server", "client"})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-histories",
        action="store_true",
        default=False,
        help="write the histories of replay-corpus runs to tests/replay/histories/",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "temporal: needs a real Temporal dev server")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _TEMPORAL_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.temporal)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def temporal_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DevServer]:
    """One Temporal dev server for the whole session (SQLite in a temp dir).

    Shared state: give every test its own task queue and workflow ids.
    """
    data_dir = tmp_path_factory.mktemp("temporal")
    async with DevServer(
        db_filename=data_dir / "temporal.sqlite",
        data_dir=data_dir,
        dynamic_config=TEST_DYNAMIC_CONFIG,
    ) as server:
        yield server


@pytest_asyncio.fixture(loop_scope="session")
async def client(temporal_server: DevServer) -> Client:
    """A Temporal client connected to the session server."""
    return await temporal_server.client()


@pytest.fixture
def task_queue() -> str:
    """A task queue no other test uses."""
    return f"test-{uuid4().hex[:8]}"


@pytest.fixture
def record_histories(request: pytest.FixtureRequest) -> bool:
    """True when pytest ran with ``--record-histories`` (refresh the replay corpus)."""
    return bool(request.config.getoption("--record-histories"))


@pytest.fixture
def tmp_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data directory, exported as ``SWITCHYARD_DATA_DIR``."""
    data_dir = tmp_path / "switchyard-data"
    data_dir.mkdir()
    monkeypatch.setenv("SWITCHYARD_DATA_DIR", str(data_dir))
    return data_dir


# -- storage: a migrated database on SQLite and on PostgreSQL ------------------
# `database` is parametrized over both backends: a test using it runs twice.
# PostgreSQL is one cluster per session (tests/pgcluster.py), a fresh database
# per test.


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.fail("PostgreSQL is not installed: run scripts/install")
    cluster = PgCluster(bin_dir)
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url_for_test(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return database_url(tmp_path, {})
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.fresh_database()


@pytest.fixture
async def database(database_url_for_test: str) -> AsyncIterator[Database]:
    """A migrated, empty database (SQLite file or PostgreSQL database)."""
    db = Database(database_url_for_test)
    await db.migrate()
    yield db
    await db.close()


# The suite ends without interpreter finalization: the Temporal runtime's and
# QuickJS's native threads can still be parked in Python callbacks, and tearing
# the interpreter down under them has aborted a process after its work was done
# (`PyGILState_Release ... finalizing`, seen in a `switchyard run` subprocess).
# By the last unconfigure hook every report is written and every fixture torn
# down, so leaving with pytest's own exit status loses nothing.
_exit_status = 0


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("xdist") and hasattr(config, "workerinput"):
        return  # an xdist worker: its controller decides
    import os
    import sys

    from switchyard.engine.devserver import terminate_all

    terminate_all()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_exit_status)
