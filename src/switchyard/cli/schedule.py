"""`switchyard schedule list|pause|resume|backfill` against a server (see docs/triggers.md)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from switchyard.cli.workflow import _DATA_DIR, DataDir, Server, Token, _call, _client

app = typer.Typer(help="Schedules of published workflows: list, pause, resume, backfill.")

Workflow = Annotated[str, typer.Argument(help="Workflow name.")]
Trigger = Annotated[str, typer.Argument(help="The schedule trigger's id (e.g. `schedule`).")]


@app.command("list")
def list_(
    workflow: Annotated[str | None, typer.Argument(help="Only this workflow.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    server: Server = None,
    token: Token = None,
    data_dir: DataDir = _DATA_DIR,
) -> None:
    """Schedules with their state and next fire time."""
    with _client(server, token, data_dir) as client:
        items = _call(client, "GET", "/schedules", params={"workflow": workflow})["items"]
    if as_json:
        typer.echo(json.dumps(items, indent=2))
        return
    for s in items:
        state = "paused" if s["paused"] else "active"
        upcoming = s["next_fire_times"][0] if s["next_fire_times"] else "-"
        typer.echo(f"{s['workflow']}/{s['trigger']}  {state}  next: {upcoming}")


def _pause(workflow: str, trigger: str, verb: str, note: str, server, token, data_dir) -> None:  # type: ignore[no-untyped-def]
    with _client(server, token, data_dir) as client:
        done = _call(
            client, "POST", f"/workflows/{workflow}/schedules/{trigger}/{verb}", json={"note": note}
        )
    typer.echo(f"{done['id']}: {'paused' if done['paused'] else 'active'}")


@app.command("pause")
def pause(
    workflow: Workflow,
    trigger: Trigger,
    note: Annotated[str, typer.Option("--note", help="Why (shown with the schedule).")] = "",
    server: Server = None,
    token: Token = None,
    data_dir: DataDir = _DATA_DIR,
) -> None:
    """Pause a schedule (publishing a new version keeps it paused)."""
    _pause(workflow, trigger, "pause", note, server, token, data_dir)


@app.command("resume")
def resume(
    workflow: Workflow,
    trigger: Trigger,
    note: Annotated[str, typer.Option("--note", help="Why.")] = "",
    server: Server = None,
    token: Token = None,
    data_dir: DataDir = _DATA_DIR,
) -> None:
    """Resume a paused schedule."""
    _pause(workflow, trigger, "resume", note, server, token, data_dir)


@app.command("backfill")
def backfill(
    workflow: Workflow,
    trigger: Trigger,
    start: Annotated[str, typer.Option("--start", help="RFC 3339, e.g. 2026-11-01T00:00:00Z")],
    end: Annotated[str, typer.Option("--end", help="RFC 3339")],
    overlap: Annotated[str, typer.Option("--overlap", help="allow_all, buffer_all, ...")] = (
        "allow_all"
    ),
    server: Server = None,
    token: Token = None,
    data_dir: DataDir = _DATA_DIR,
) -> None:
    """Run now what the schedule would have run between --start and --end."""
    with _client(server, token, data_dir) as client:
        _call(
            client,
            "POST",
            f"/workflows/{workflow}/schedules/{trigger}/backfill",
            json={"start": start, "end": end, "overlap": overlap},
        )
    typer.echo(f"backfilling {workflow}/{trigger} from {start} to {end}")
