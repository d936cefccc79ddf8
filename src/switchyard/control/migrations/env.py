"""Alembic environment: runs the migrations on the async engine of the URL given."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from switchyard.control.db import Base
from switchyard.control.models import load_models

load_models()
target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite can only ALTER through table copies
    )
    with context.begin_transaction():
        context.run_migrations()


async def _online() -> None:
    engine = create_async_engine(context.config.get_main_option("sqlalchemy.url"))
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


def _in_thread() -> None:
    # `Database.migrate` calls us from a worker thread: no loop runs here.
    asyncio.run(_online())


_in_thread()
