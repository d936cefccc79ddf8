"""`switchyard validate FILE...`: print every problem; exit 2 when any file is invalid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def validate(
    files: Annotated[list[Path], typer.Argument(help="Definition files (YAML or JSON).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the problems as JSON, one object per file.")
    ] = False,
) -> None:
    """Check workflow definitions: prints `FILE: location: message` per problem,
    `FILE: ok` for a valid file (warnings do not make it invalid); exits 2 when
    any file has an error, else 0.
    """
    from switchyard.actions import load_plugins
    from switchyard.definition.problems import has_errors
    from switchyard.definition.validate import validate_file

    for name, error in load_plugins().items():
        typer.echo(f"warning: action pack {name!r} failed to load: {error}", err=True)
    invalid = False
    report = []
    for path in files:
        _, problems = validate_file(path)
        bad = has_errors(problems)
        invalid |= bad
        if as_json:
            report.append(
                {"file": str(path), "valid": not bad, "problems": [p.to_dict() for p in problems]}
            )
            continue
        for problem in problems:
            mark = "warning: " if problem.severity == "warning" else ""
            typer.echo(_printable(f"{path}: {mark}{problem}"))
        if not bad:
            typer.echo(_printable(f"{path}: ok"))
    if as_json:
        typer.echo(_printable(json.dumps(report, indent=2, ensure_ascii=False)))
    if invalid:
        raise typer.Exit(2)


def _printable(text: str) -> str:
    # Lone surrogates from a hostile document must not crash the output.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
