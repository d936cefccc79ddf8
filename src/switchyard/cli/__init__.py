"""The `switchyard` command line.

Each command lives in its own module and is imported only when invoked, so
`switchyard --help` stays fast (no Temporal or QuickJS import at start-up).
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="switchyard",
    help="Switchyard: durable workflow automation for SRE and security teams, on Temporal.",
    no_args_is_help=True,
    add_completion=False,
)

# command name -> (module, function, help). The module registers nothing at import;
# `_lazy` forwards the parsed arguments to the real function.
_COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("switchyard.cli.validate", "validate"),
    "schema": ("switchyard.cli.schema", "schema"),
    "run": ("switchyard.cli.run", "run"),
    "up": ("switchyard.cli.up", "up"),
    "worker": ("switchyard.cli.worker", "worker"),
    "approve": ("switchyard.cli.approve", "approve"),
    "api": ("switchyard.cli.api", "api"),
    "runner": ("switchyard.cli.runner", "runner"),
}

# command group name -> (module, typer sub-app): `switchyard connection create ...`.
_GROUPS: dict[str, tuple[str, str]] = {
    "connection": ("switchyard.cli.connection", "app"),
    "actions": ("switchyard.cli.actions", "app"),
    "keys": ("switchyard.cli.keys", "app"),
    "workflow": ("switchyard.cli.workflow", "app"),
    "schedule": ("switchyard.cli.schedule", "app"),
}


def _register() -> None:
    for name, (module, func) in _COMMANDS.items():
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:  # a command whose module is not written yet
            if exc.name != module:
                raise
            continue
        app.command(name=name)(getattr(mod, func))
    for name, (module, attr) in _GROUPS.items():
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        app.add_typer(getattr(mod, attr), name=name)


def main() -> None:
    """Entry point of the `switchyard` script."""
    _register()
    app()
