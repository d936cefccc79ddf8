"""Every blueprint validates, is run by a test, explains itself, and is documented.

The documentation's `switchyard connection create/update` commands are run
(in-process, on a fresh data directory) for each blueprint's section: they
must succeed and create every connection the blueprint names, with the type
its actions need.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from switchyard.actions import get_action, load_plugins
from switchyard.connections.store import LocalConnectionStore
from switchyard.definition.model import ActionStep, ForEachStep, WebhookTrigger, WhileStep, Workflow

from .conftest import BLUEPRINTS, ROOT, load

FILES = sorted(BLUEPRINTS.glob("*.yaml"))
DOCS = ROOT / "docs" / "blueprints.md"
TESTS = Path(__file__).parent


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def used_connections(wf: Workflow) -> dict[str, str]:
    """Connection name -> the connection type the workflow needs it to be."""
    found: dict[str, str] = {}

    def walk(steps: list[Any]) -> None:
        for step in steps:
            if isinstance(step, ActionStep) and step.connection:
                assert "{{" not in step.connection, "blueprints name their connections literally"
                ctype = get_action(step.action).connection_type
                assert ctype, step.action
                assert found.setdefault(step.connection, ctype) == ctype, step.connection
            if isinstance(step, ForEachStep | WhileStep):
                walk(step.do)

    walk(wf.steps)
    for trigger in wf.triggers:
        if isinstance(trigger, WebhookTrigger):
            found[trigger.webhook.connection] = "webhook_secret"
    return found


def test_there_are_blueprints() -> None:
    assert len(FILES) >= 8


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_blueprint_validates_without_problems(path: Path) -> None:
    load(path.name)


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_blueprint_is_run_by_a_test(path: Path) -> None:
    runners = [
        t.name
        for t in sorted(TESTS.glob("test_*.py"))
        if t.name != Path(__file__).name and f'"{path.name}"' in t.read_text()
    ]
    assert runners, f"no test in tests/blueprints/ runs {path.name}"


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_header_says_what_when_which_connections_and_how_to_adapt(path: Path) -> None:
    header = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        header.append(line.lstrip("# "))
    text = "\n".join(header)
    assert "What it does:" in text and "Trigger:" in text and "Adapt:" in text, path.name
    listed = text.split("Connections:", 1)[1].split("Adapt:", 1)[0]
    for name, ctype in used_connections(load(path.name)).items():
        assert re.search(rf"^{re.escape(name)}\s+\(type {ctype}\)", listed, re.M), (
            f"{path.name}: the header does not list connection {name!r} (type {ctype})"
        )


def doc_sections() -> dict[str, str]:
    """Blueprint file name -> the text of its section in docs/blueprints.md."""
    sections: dict[str, str] = {}
    for part in re.split(r"^## ", DOCS.read_text(), flags=re.M)[1:]:
        if m := re.search(r"\(\.\./examples/blueprints/([\w.-]+\.yaml)\)", part):
            sections[m.group(1)] = part
    return sections


def connection_commands(section: str) -> list[list[str]]:
    """The `switchyard connection ...` commands of a section's shell blocks, as argv."""
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```$", section, flags=re.M | re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if "switchyard connection " in line:
                argv = shlex.split(line.split("switchyard connection ", 1)[1])
                commands.append([re.sub(r"\$\{?\w+\}?", "placeholder", a) for a in argv])
    return commands


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_docs_section_creates_the_connections_it_needs(path: Path, tmp_path: Path) -> None:
    from switchyard.cli.connection import app

    load_plugins()
    section = doc_sections().get(path.name)
    assert section is not None, f"docs/blueprints.md has no section linking {path.name}"
    assert f"switchyard run examples/blueprints/{path.name}" in section
    runner = CliRunner()
    for argv in connection_commands(section):
        result = runner.invoke(
            app,
            [*argv, "--data-dir", str(tmp_path)],
            input="a-secret-from-stdin\n",
            env={"SWITCHYARD_URL": None, "SWITCHYARD_DATA_DIR": None},
        )
        assert result.exit_code == 0, (argv, result.output)
    made = {c["name"]: c["type"] for c in LocalConnectionStore(tmp_path).list()}
    for name, ctype in used_connections(load(path.name)).items():
        assert made.get(name) == ctype, (
            f"docs/blueprints.md, section of {path.name}: connection {name!r} of type {ctype} "
            f"is not created (made: {made})"
        )


def test_docs_have_no_section_for_a_missing_blueprint() -> None:
    assert set(doc_sections()) == {p.name for p in FILES}


def test_readme_links_the_blueprints_doc() -> None:
    assert "(docs/blueprints.md)" in (ROOT / "README.md").read_text()
