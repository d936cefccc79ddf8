"""Database engine, sessions and migrations.

One `Database` per process: it owns the async engine and the session
factory. `Database.migrate()` brings the schema to the newest Alembic
revision; every entry point that opens the database (the API, `switchyard
up`, tests) calls it first, so a fresh data directory just works.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

__all__ = ["Base", "Database", "database_url"]

MIGRATIONS = Path(__file__).parent / "migrations"

# Stable constraint names, so migrations can refer to them on every backend.
_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base of every table (models live next to their feature)."""

    metadata = MetaData(naming_convention=_NAMING)


def database_url(data_dir: Path, environ: dict[str, str] | None = None) -> str:
    """`SWITCHYARD_DATABASE_URL`, else SQLite in the data directory.

    A plain `postgresql://` URL is given the asyncpg driver.
    """
    env = os.environ if environ is None else environ
    url = env.get("SWITCHYARD_DATABASE_URL", "").strip()
    if not url:
        return f"sqlite+aiosqlite:///{Path(data_dir).resolve() / 'switchyard.db'}"
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


class Database:
    """The async engine and session factory for one database URL."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            engine_kwargs.setdefault("connect_args", {"timeout": 30})
        self.engine: AsyncEngine = create_async_engine(url, **engine_kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writer = asyncio.Lock()

    @asynccontextmanager
    async def session(self, *, write: bool = False) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed on success, rolled back on error.

        Args:
            write: The transaction writes, on a hot path (event ingest, the run
                recorder). SQLite takes one writer at a time and makes the others
                sleep and retry in steps of up to 100 ms while holding a pooled
                connection; under a burst that adds seconds. Write sessions of one
                process therefore queue here, in order, instead (no effect on
                PostgreSQL). Any session may still write: it then waits on
                SQLite's busy timeout as before.
        """
        if write and self.is_sqlite:
            async with self._writer, self.sessions() as session, session.begin():
                yield session
            return
        async with self.sessions() as session, session.begin():
            yield session

    async def migrate(self) -> None:
        """Upgrade the schema to the newest revision (idempotent)."""
        await asyncio.to_thread(upgrade, self.url)

    async def close(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL: readers don't block the writer (the API reads while the run
    # recorder writes); foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode, NORMAL loses no committed transaction on a process crash
    # (only, possibly, the last ones on a power loss) and commits far faster.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Run the Alembic migrations (blocking; the env runs them on an async engine).

    Each feature has its own branch of revisions (`branch_labels`), so
    `heads` upgrades them all.
    """
    from alembic import command

    command.upgrade(alembic_config(url), revision)
