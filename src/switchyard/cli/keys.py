"""`switchyard keys rotate|list`: the master keys that wrap connection secrets.

Connections are encrypted with per-record data keys (AES-256-GCM), each
wrapped by a master key named by its key id (`kid`). `rotate` makes a new
master key current and re-wraps every record under it: the records of the
data directory's local store and, when the control plane's database exists,
the connections stored there. Old key files stay until you remove them
(backups may still need them).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from switchyard.cli.connection import _DEFAULT_DATA_DIR, DataDir, _rewrap, _run, _store

app = typer.Typer(help="Master keys of the connection store: rotate them, list them.")


@app.command("rotate")
def rotate(
    data_dir: DataDir = _DEFAULT_DATA_DIR,
    database: Annotated[
        bool,
        typer.Option(
            "--database/--no-database",
            help="Also re-encrypt the control plane's database records (when it exists).",
        ),
    ] = True,
) -> None:
    """Generate a new master key, make it current, re-wrap every connection under it."""
    store = _store(data_dir)
    kid = _run(store.rotate_key)
    typer.echo(f"new master key {kid} ({store.keyring.directory}/{kid}.key)")
    _rewrap(store)
    if database:
        count = asyncio.run(_rewrap_database(data_dir))
        if count is not None:
            typer.echo(f"re-encrypted {count} database connection(s) under {kid}")


async def _rewrap_database(data_dir: Path) -> int | None:
    """Re-wrap the database's connections; None when there is no database to do."""
    import os

    from switchyard.connections.crypto import Keyring
    from switchyard.control.db import Database, database_url

    url = database_url(data_dir)
    if not os.environ.get("SWITCHYARD_DATABASE_URL") and not (data_dir / "switchyard.db").exists():
        return None
    try:
        from switchyard.control.connections import rewrap_all
    except ImportError:
        return None
    from switchyard.control.connections import Unreadable

    db = Database(url)
    try:
        await db.migrate()
        async with db.session() as session:
            return int(await rewrap_all(session, Keyring.load(data_dir)))
    except Unreadable as exc:
        typer.echo(f"error: database connections not re-encrypted: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        await db.close()


@app.command("list")
def list_keys(data_dir: DataDir = _DEFAULT_DATA_DIR) -> None:
    """List master key ids, which is current, and how many local connections use each."""
    store = _store(data_dir)
    in_use = _run(store.key_ids_in_use)
    current = store.keyring.current_kid
    for kid in store.keyring.kids:
        mark = " (current)" if kid == current else ""
        typer.echo(f"{kid}{mark}: {len(in_use.get(kid, []))} connection(s)")
