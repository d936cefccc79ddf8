"""The database layer itself: URLs, migrations on both backends."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from switchyard.control.db import Database, database_url


def test_database_url_defaults_to_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    url = database_url(tmp_path, {})
    assert url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/switchyard.db"


def test_database_url_from_the_environment_gets_the_async_driver(tmp_path: Path) -> None:
    env = {"SWITCHYARD_DATABASE_URL": "postgresql://u:p@127.0.0.1:5/db"}
    assert database_url(tmp_path, env) == "postgresql+asyncpg://u:p@127.0.0.1:5/db"


async def test_migrations_run_twice_and_the_database_answers(database: Database) -> None:
    await database.migrate()  # idempotent
    async with database.session() as session:
        assert (await session.execute(text("SELECT 1"))).scalar() == 1
