"""`switchyard up`: the embedded deployment (Temporal dev server + engine worker)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Annotated

import typer

from switchyard.cli._common import finish, state_file


def up(
    data_dir: Annotated[
        Path, typer.Option("--data-dir", envvar="SWITCHYARD_DATA_DIR", help="state directory")
    ] = Path(".switchyard"),
    port: Annotated[int, typer.Option("--port", help="HTTP port of the API and UI")] = 8080,
    temporal_port: Annotated[
        int | None, typer.Option("--temporal-port", help="Temporal frontend port (default: free)")
    ] = None,
) -> None:
    """Start Switchyard on this machine until interrupted; unfinished runs go on after a restart."""
    asyncio.run(_up(data_dir, port, temporal_port))
    finish(0)


async def _up(data_dir: Path, port: int, temporal_port: int | None) -> None:
    import os

    from switchyard.config import get_settings
    from switchyard.engine.devserver import DevServer
    from switchyard.engine.worker import build_worker

    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["SWITCHYARD_DATA_DIR"] = str(data_dir)
    settings = get_settings()
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
    try:
        client = await server.client()
        definitions = data_dir / "definitions"
        definitions.mkdir(exist_ok=True)
        async with build_worker(client, settings.task_queue, definitions=definitions):
            print(
                f"Switchyard is up: Temporal at {server.address} (data in {data_dir})", flush=True
            )
            print(
                f"engine worker on task queue {settings.task_queue!r}; Ctrl-C to stop", flush=True
            )
            print(f"(the HTTP API and UI on port {port} come with the control plane)", flush=True)
            await stop.wait()
            print("stopping: letting running activities finish...", flush=True)
    finally:
        await server.stop()
