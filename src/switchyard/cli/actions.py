"""`switchyard actions list|show|docs`: the action catalogue (built-ins and packs)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

app = typer.Typer(help="The action catalogue: list actions, show one with its schemas.")


def _load() -> None:
    from switchyard.actions import load_plugins

    for name, error in load_plugins().items():
        typer.echo(f"warning: action pack {name!r} failed to load: {error}", err=True)


@app.command("list")
def list_actions(
    group: Annotated[
        str | None, typer.Option("--group", "-g", help="Only this group (e.g. Slack, 'AWS EC2').")
    ] = None,
    prefix: Annotated[
        str | None, typer.Argument(help="Only types starting with this (e.g. slack., aws.ec2.).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List action types with their titles (every AWS operation included)."""
    from switchyard.actions import action_types, get_action

    _load()
    types = [t for t in action_types() if prefix is None or t.startswith(prefix)]
    specs = [get_action(t) for t in types]
    if group is not None:
        specs = [s for s in specs if s.group.lower() == group.lower()]
    if as_json:
        typer.echo(json.dumps([s.describe(schemas=False) for s in specs], indent=2))
        return
    width = max((len(s.type) for s in specs), default=0)
    for s in specs:
        typer.echo(f"{s.type:<{width}}  {s.title}")
    typer.echo(f"{len(specs)} actions", err=True)


@app.command("show")
def show_action(
    type: Annotated[str, typer.Argument(help="The action type, e.g. slack.post_message.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one action: description, connection type, options class, errors, schemas."""
    from switchyard.actions import action_types, get_action
    from switchyard.definition.problems import did_you_mean

    _load()
    try:
        spec = get_action(type)
    except KeyError:
        typer.echo(f"unknown action type {type!r}{did_you_mean(type, action_types())}", err=True)
        raise typer.Exit(2) from None
    desc = spec.describe()
    if as_json:
        typer.echo(json.dumps(desc, indent=2))
        return
    typer.echo(f"{spec.type}: {spec.title}  [{spec.group}]\n")
    typer.echo(spec.description.strip() + "\n")
    typer.echo(f"connection type: {spec.connection_type or '(none)'}")
    typer.echo(f"options class:   {desc['options']}")
    if spec.errors:
        typer.echo("errors:")
        for rule in spec.errors:
            retried = "retried" if rule.retryable else "not retried"
            typer.echo(f"  {rule.when} -> {rule.type} ({retried})")
    typer.echo("\ninput schema:")
    typer.echo(json.dumps(desc["input_schema"], indent=2))
    if desc["output_schema"] is not None:
        typer.echo("\noutput schema:")
        typer.echo(json.dumps(desc["output_schema"], indent=2))
    for example in spec.examples:
        typer.echo("\nexample `with`:\n" + json.dumps(example, indent=2))


@app.command("docs")
def docs() -> None:
    """Print docs/actions.md, generated from the registry."""
    from switchyard.actions.docgen import render

    _load()
    typer.echo(render(), nl=False)
