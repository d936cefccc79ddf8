"""`switchyard runner`: a private action runner (docs/runners.md)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer

from switchyard.cli._common import finish, require_address


def runner(
    name: Annotated[str, typer.Argument(help="the runner's name, as steps give it in `runner:`")],
    allow: Annotated[
        list[str],
        typer.Option(
            "--allow",
            help="action types this runner runs (fnmatch patterns, e.g. 'http.*'); repeatable",
        ),
    ],
    temporal_address: Annotated[
        str | None, typer.Option("--temporal-address", envvar="TEMPORAL_ADDRESS")
    ] = None,
    namespace: Annotated[str, typer.Option("--namespace", envvar="TEMPORAL_NAMESPACE")] = "default",
    data_dir: Annotated[
        Path,
        typer.Option(
            "--data-dir", envvar="SWITCHYARD_DATA_DIR", help="where this runner's connections are"
        ),
    ] = Path(".switchyard"),
) -> None:
    """Run a private action runner until interrupted: the actions of steps with
    `runner: NAME`, only those the allow-list names, with this machine's connections."""
    from switchyard.runner import NAME_RE

    if not NAME_RE.match(name):
        raise typer.BadParameter(f"must match {NAME_RE.pattern}", param_hint="NAME")
    address = require_address(temporal_address, data_dir)
    asyncio.run(_runner(address, namespace, name, allow, data_dir.resolve()))
    finish(0)


async def _runner(
    address: str, namespace: str, name: str, allow: list[str], data_dir: Path
) -> None:
    from switchyard.engine.converter import connect
    from switchyard.heap import tune_garbage_collector
    from switchyard.runner import build_runner, runner_queue

    client = await connect(address, namespace)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with build_runner(client, name, allow=allow, data_dir=data_dir):
        print(
            f"runner {name!r} polling {runner_queue(name)!r} on {address}; "
            f"allowed: {', '.join(allow)}",
            flush=True,
        )
        tune_garbage_collector()
        await stop.wait()
