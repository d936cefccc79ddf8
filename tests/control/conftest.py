"""Storage fixtures: a migrated `Database` on SQLite and on PostgreSQL.

`database` is parametrized over both backends: every storage test runs
twice. PostgreSQL is one cluster per session, a fresh database per test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from pgcluster import PgCluster, find_pg_bin
from switchyard.control.db import Database, database_url


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
