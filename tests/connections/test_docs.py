"""docs/connections.md documents every declared field and secret of the built-in types."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchyard.cli.connection import app
from switchyard.connections.types import HTTP, WEBHOOK_SECRET, ConnectionType

DOC = Path(__file__).resolve().parents[2] / "docs" / "connections.md"


@pytest.mark.parametrize("ctype", [HTTP, WEBHOOK_SECRET], ids=lambda t: t.name)
def test_every_field_and_secret_is_documented(ctype: ConnectionType) -> None:
    text = DOC.read_text()
    section = text.split(f"### `{ctype.name}`", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    for spec in ctype.fields:
        assert f"| `{spec.name}` |" in section, f"{ctype.name}.{spec.name} not in the table"


def test_every_command_is_documented() -> None:
    text = DOC.read_text()
    for command in app.registered_commands:
        assert f"switchyard connection {command.name}" in text, command.name
