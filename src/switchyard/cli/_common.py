"""Helpers shared by the commands that talk to Temporal."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, NoReturn

import typer


def parse_inputs(pairs: list[str], inputs_json: str | None) -> dict[str, Any]:
    """`--inputs-json` then each `--input NAME=VALUE` (VALUE as JSON when it parses, else text)."""
    inputs: dict[str, Any] = {}
    if inputs_json:
        try:
            loaded = json.loads(inputs_json)
        except ValueError as exc:
            raise typer.BadParameter(f"--inputs-json is not JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise typer.BadParameter("--inputs-json must be a JSON object")
        inputs.update(loaded)
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"--input {pair!r}: expected NAME=VALUE")
        inputs[name] = json_or_text(raw)
    return inputs


def json_or_text(raw: str) -> Any:
    """A command-line VALUE: its JSON value when it parses as JSON, else the text itself."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def require_address(explicit: str | None, data_dir: Path) -> str:
    """The Temporal address to use; exits 2 with a hint when there is none."""
    address = resolve_address(explicit, data_dir)
    if not address:
        print("no Temporal server: pass --temporal-address or start `switchyard up`")
        raise typer.Exit(2)
    return address


def finish(code: int) -> NoReturn:
    """End a command that ran a worker: flush, then leave without interpreter finalization.

    By now the worker has shut down and the embedded server has stopped. Native
    threads of the Temporal runtime and of QuickJS can still be parked in
    Python callbacks, and tearing the interpreter down under them has aborted
    the process (`PyGILState_Release ... finalizing`) after a successful run,
    turning exit 0 into a crash. Nothing is left to clean up, so skip it.
    """
    devserver = sys.modules.get("switchyard.engine.devserver")
    if devserver is not None:  # what its atexit hook would have done
        devserver.terminate_all()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def state_file(data_dir: Path) -> Path:
    """Where `switchyard up` writes the address of its embedded Temporal server."""
    return data_dir / "temporal-address"


def resolve_address(explicit: str | None, data_dir: Path) -> str | None:
    """`--temporal-address`, else TEMPORAL_ADDRESS, else the one `switchyard up` wrote."""
    if explicit:
        return explicit
    if os.environ.get("TEMPORAL_ADDRESS"):
        return os.environ["TEMPORAL_ADDRESS"]
    path = state_file(data_dir)
    return path.read_text().strip() if path.exists() else None


@contextlib.asynccontextmanager
async def temporal_client(address: str | None, namespace: str = "default") -> AsyncIterator[Any]:
    """A client of `address`, or of an embedded dev server started (and stopped) here."""
    from switchyard.engine.converter import connect

    if address:
        yield await connect(address, namespace=namespace)
        return
    from switchyard.engine.devserver import DevServer

    async with DevServer() as server:
        yield await server.client()
