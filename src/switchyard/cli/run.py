"""`switchyard run FILE`: run a definition on Temporal with a worker inside the command."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from switchyard.cli._common import finish, parse_inputs, temporal_client

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
_MARKS = {
    "running": "▶",
    "waiting": "⏸",
    "succeeded": "✔",
    "failed": "✖",
    "skipped": "·",
    "cancelled": "⊘",
}


def run(
    file: Annotated[Path, typer.Argument(help="definition (YAML or JSON)")],
    input: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", help="NAME=VALUE (VALUE as JSON if it parses)"),
    ] = None,
    inputs_json: Annotated[
        str | None, typer.Option("--inputs-json", help="all inputs as a JSON object")
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="print only the run JSON on stdout")
    ] = False,
    temporal_address: Annotated[
        str | None,
        typer.Option(
            "--temporal-address", envvar="TEMPORAL_ADDRESS", help="HOST:PORT; default: embedded"
        ),
    ] = None,
) -> None:
    """Run FILE and show its steps; exit 0 when it succeeded, 1 when not, 2 when invalid."""
    from switchyard.actions import load_plugins
    from switchyard.definition.inputs import validate_inputs
    from switchyard.definition.validate import validate_file

    for name, error in load_plugins().items():
        print(f"warning: action pack {name!r} failed to load: {error}", file=sys.stderr)
    wf, problems = validate_file(file)
    errors = [p for p in problems if p.severity == "error"]
    for p in problems:
        tag = "" if p.severity == "error" else "warning: "
        print(f"{file}: {tag}{p}", file=sys.stderr)
    if wf is None or errors:
        raise typer.Exit(EXIT_INVALID)
    try:
        given = parse_inputs(input or [], inputs_json)
    except typer.BadParameter as exc:
        print(f"{file}: {exc}", file=sys.stderr)
        raise typer.Exit(EXIT_INVALID) from None
    inputs, problems = validate_inputs(wf, given)
    if problems:
        for p in problems:
            print(f"{file}: {p}", file=sys.stderr)
        raise typer.Exit(EXIT_INVALID)
    result = asyncio.run(_run(wf, inputs, file.resolve().parent, temporal_address, json_out))
    if json_out:
        print(json.dumps(result, indent=2, default=str))
    else:
        _summary(result)
    finish(EXIT_OK if result["status"] == "succeeded" else EXIT_FAILED)


async def _run(
    wf: Any, inputs: dict[str, Any], directory: Path, address: str | None, quiet: bool
) -> dict[str, Any]:
    from switchyard.engine.client import get_run, start_run, wait_result
    from switchyard.engine.worker import build_worker

    async with temporal_client(address) as client:
        task_queue = f"switchyard-cli-{uuid.uuid4().hex[:8]}"
        async with build_worker(client, task_queue, definitions=directory):
            handle = await start_run(client, wf, inputs, task_queue=task_queue)
            if not quiet:
                print(f"run {handle.id} of {wf.name}")
            result_task = asyncio.ensure_future(wait_result(handle))
            seen: dict[str, str] = {}
            while not result_task.done():
                if not quiet:
                    # A query can race the run's first workflow task; the next poll shows it.
                    with contextlib.suppress(Exception):
                        _progress(await get_run(client, handle.id), seen, "")
                await asyncio.wait({result_task}, timeout=0.3)
            result = result_task.result()
            if not quiet:
                _progress(result, seen, "")
            return result


def _progress(run: dict[str, Any], seen: dict[str, str], prefix: str) -> None:
    for sid, st in run.get("steps", {}).items():
        key = f"{prefix}{sid}"
        status = st.get("status", "pending")
        if status != "pending" and seen.get(key) != status:
            seen[key] = status
            extra = ""
            if status == "failed" and st.get("error"):
                extra = f": {st['error'].get('type')}: {st['error'].get('message')}"
            elif status == "succeeded" and (st.get("attempts") or 1) > 1:
                extra = f" (after {st['attempts']} attempts)"
            print(f"  {_MARKS.get(status, '?')} {key} {status}{extra}")
        for it in st.get("iterations") or []:
            _progress({"steps": it.get("steps", {})}, seen, f"{key}[{it['index']}].")


def _summary(run: dict[str, Any]) -> None:
    print(f"run {run['id']} {run['status']}")
    if run.get("error"):
        err = run["error"]
        where = f" at step {err['step']}" if err.get("step") else ""
        print(f"error{where}: {err.get('type')}: {err.get('message')}")
    if run.get("outputs"):
        print("outputs: " + json.dumps(run["outputs"], default=str))
