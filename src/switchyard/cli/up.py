"""`switchyard up`: the embedded deployment, everything in one process.

The Temporal dev server, the control-plane database (migrated), the admin's
token (api.md, "Bootstrap"), the HTTP API and UI on 127.0.0.1:`--port`, and
an engine worker that resolves connections and `call:` targets from the
database (then, as before, from the data directory's local store and
`definitions/`). It writes `DIR/temporal-address` and `DIR/server-url` so
other commands find it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Annotated

import typer

from switchyard.cli._common import finish, state_file
from switchyard.cli.api import DEFAULT_PORT, SERVER_URL_FILE


def up(
    data_dir: Annotated[
        Path, typer.Option("--data-dir", envvar="SWITCHYARD_DATA_DIR", help="state directory")
    ] = Path(".switchyard"),
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            help=f"HTTP port of the API and UI (default {DEFAULT_PORT}, or a free one when "
            f"{DEFAULT_PORT} is taken; 0: a free one)",
        ),
    ] = None,
    temporal_port: Annotated[
        int | None, typer.Option("--temporal-port", help="Temporal frontend port (default: free)")
    ] = None,
) -> None:
    """Start Switchyard on this machine until interrupted; unfinished runs go on after a restart."""
    from switchyard.cli.api import bind

    try:
        sock = bind("127.0.0.1", DEFAULT_PORT if port is None else port)
    except OSError as exc:
        if port is not None:
            typer.echo(f"error: cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}", err=True)
            raise typer.Exit(1) from None
        # The default port is taken (another `up`?): any free port, said loudly below.
        sock = bind("127.0.0.1", 0)
    asyncio.run(_up(data_dir, sock, temporal_port))
    finish(0)


async def _up(data_dir: Path, sock: object, temporal_port: int | None) -> None:
    import os

    from switchyard.cli.api import bootstrap_admin, build_app, serving, url_of
    from switchyard.config import get_settings
    from switchyard.control.db import Database, database_url
    from switchyard.control.runs_service import connection_check
    from switchyard.control.workflows_source import worker_sources
    from switchyard.engine.devserver import DevServer
    from switchyard.engine.worker import build_worker
    from switchyard.heap import tune_garbage_collector

    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["SWITCHYARD_DATA_DIR"] = str(data_dir)
    settings = get_settings()
    db = Database(database_url(data_dir))
    await db.migrate()
    token_note = await bootstrap_admin(db, data_dir)
    address_file = state_file(data_dir)
    if temporal_port is None and address_file.exists():
        # Same port as last time, so clients that remember it keep working.
        with contextlib.suppress(ValueError):
            temporal_port = int(address_file.read_text().strip().rsplit(":", 1)[1])
    server = DevServer(db_filename=settings.temporal_db_file, data_dir=data_dir, port=temporal_port)
    try:
        await server.start()
    except Exception:
        if temporal_port is None:
            raise
        server = DevServer(db_filename=settings.temporal_db_file, data_dir=data_dir)
        await server.start()
    address_file.write_text(server.address + "\n")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    definitions_dir = data_dir / "definitions"
    definitions_dir.mkdir(exist_ok=True)
    connections, definitions, from_db = worker_sources(db, data_dir, definitions_dir)
    try:
        client = await server.client()
        worker = build_worker(
            client,
            settings.task_queue,
            connections=connections,
            definitions=definitions,
            connection_check=connection_check(db),
        )
        app = build_app(settings, db, client, ui=True)
        url = url_of(sock)  # type: ignore[arg-type]
        async with worker, serving(app, sock):  # type: ignore[arg-type]
            (data_dir / SERVER_URL_FILE).write_text(url + "\n")
            print(
                f"Switchyard is up: Temporal at {server.address} (data in {data_dir})", flush=True
            )
            print(f"API and UI at {url} (OpenAPI: {url}/api/v1/docs)", flush=True)
            if not url.endswith(f":{DEFAULT_PORT}"):
                print(f"(port {DEFAULT_PORT} is taken or not asked for: using {url})", flush=True)
            print(token_note, flush=True)
            print(
                f"engine worker on task queue {settings.task_queue!r}; Ctrl-C to stop", flush=True
            )
            tune_garbage_collector()  # started: what lives now lives as long as the process
            await stop.wait()
            print("stopping: letting running activities finish...", flush=True)
    finally:
        with contextlib.suppress(FileNotFoundError):
            (data_dir / SERVER_URL_FILE).unlink()
        from_db.close()
        await db.close()
        await server.stop()
