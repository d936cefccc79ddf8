"""`switchyard approve RUN STEP CHOICE`: answer an approval step."""

from __future__ import annotations

import asyncio
import getpass
import json
from pathlib import Path
from typing import Annotated

import typer

from switchyard.cli._common import finish, require_address


def approve(
    run_id: Annotated[str, typer.Argument(metavar="RUN")],
    step: Annotated[str, typer.Argument(help="step id, or a path like each[2].ok inside a loop")],
    choice: Annotated[str, typer.Argument()],
    comment: Annotated[str | None, typer.Option("--comment")] = None,
    by: Annotated[str | None, typer.Option("--by", help="who decides (default: $USER)")] = None,
    role: Annotated[list[str] | None, typer.Option("--role", help="a role of the approver")] = None,
    temporal_address: Annotated[
        str | None, typer.Option("--temporal-address", envvar="TEMPORAL_ADDRESS")
    ] = None,
    data_dir: Annotated[Path, typer.Option("--data-dir", envvar="SWITCHYARD_DATA_DIR")] = Path(
        ".switchyard"
    ),
) -> None:
    """Decide a waiting approval; exit 1 when the run does not accept the decision."""
    address = require_address(temporal_address, data_dir)
    try:
        record = asyncio.run(
            _approve(address, run_id, step, choice, by or getpass.getuser(), role or [], comment)
        )
    except Exception as exc:
        cause = getattr(exc, "cause", None) or exc
        print(f"refused: {getattr(cause, 'message', None) or cause}")
        finish(1)
    print(json.dumps(record))
    finish(0)


async def _approve(
    address: str,
    run_id: str,
    step: str,
    choice: str,
    by: str,
    roles: list[str],
    comment: str | None,
) -> dict[str, object]:
    from switchyard.engine.client import approve as send
    from switchyard.engine.converter import connect

    client = await connect(address)
    return await send(client, run_id, step, choice, by=by, roles=roles, comment=comment)
