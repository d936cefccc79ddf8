"""`switchyard worker`: an engine worker for an existing Temporal server."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer

from switchyard.cli._common import finish, require_address


def worker(
    temporal_address: Annotated[
        str | None, typer.Option("--temporal-address", envvar="TEMPORAL_ADDRESS")
    ] = None,
    task_queue: Annotated[
        str, typer.Option("--task-queue", envvar="SWITCHYARD_TASK_QUEUE")
    ] = "switchyard",
    definitions: Annotated[
        Path | None, typer.Option("--definitions", help="directory of `call:` targets")
    ] = None,
    data_dir: Annotated[Path, typer.Option("--data-dir", envvar="SWITCHYARD_DATA_DIR")] = Path(
        ".switchyard"
    ),
    log_level: Annotated[
        str,
        typer.Option(
            "--log-level", envvar="SWITCHYARD_LOG_LEVEL", help="DEBUG, INFO, WARNING or ERROR"
        ),
    ] = "INFO",
) -> None:
    """Run an engine worker until interrupted (graceful: running activities finish)."""
    import logging

    level = logging.getLevelNamesMapping().get(log_level.upper())
    if level is None:
        raise typer.BadParameter(f"unknown log level {log_level!r}", param_hint="--log-level")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    address = require_address(temporal_address, data_dir)
    asyncio.run(_worker(address, task_queue, definitions, data_dir.resolve()))
    finish(0)


async def _worker(address: str, task_queue: str, definitions: Path | None, data_dir: Path) -> None:
    import os

    from switchyard.engine.converter import connect
    from switchyard.engine.worker import build_worker
    from switchyard.heap import tune_garbage_collector

    client = await connect(address)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if not os.environ.get("SWITCHYARD_DATABASE_URL") and not (data_dir / "switchyard.db").exists():
        # No control plane: connections from the data directory's store,
        # `call:` targets from --definitions, every connection usable.
        async with build_worker(client, task_queue, definitions=definitions):
            print(f"worker polling {task_queue!r} on {address}", flush=True)
            tune_garbage_collector()
            await stop.wait()
        return
    from switchyard.control.db import Database, database_url
    from switchyard.control.runs_service import connection_check
    from switchyard.control.workflows_source import worker_sources

    # Next to a control plane: connections and `call:` targets from its
    # database too, and each run's identity checked against `connections_use`.
    db = Database(database_url(data_dir))
    await db.migrate()
    connections, sources, from_db = worker_sources(db, data_dir, definitions)
    try:
        async with build_worker(
            client,
            task_queue,
            connections=connections,
            definitions=sources,
            connection_check=connection_check(db),
        ):
            print(
                f"worker polling {task_queue!r} on {address} (database {db.url.split('@')[-1]})",
                flush=True,
            )
            tune_garbage_collector()
            await stop.wait()
    finally:
        from_db.close()
        await db.close()
