"""docs/actions.md is generated from the registry and must match it."""

from __future__ import annotations

from pathlib import Path

from switchyard.actions import all_actions
from switchyard.actions.docgen import render

DOC = Path(__file__).parents[2] / "docs" / "actions.md"


def test_docs_actions_md_is_current() -> None:
    assert DOC.read_text() == render(), (
        "docs/actions.md is stale: run `uv run switchyard actions docs > docs/actions.md`"
    )


def test_every_hand_written_action_has_a_section() -> None:
    text = DOC.read_text()
    for spec in all_actions(generated=False):
        assert f"### `{spec.type}`" in text


def test_the_catalogue_lists_every_integration_and_over_300_actions() -> None:
    import subprocess
    import sys

    listed = subprocess.run(
        [sys.executable, "-c", "from switchyard.cli import main; main()", "actions", "list"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    types = [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]
    assert len(types) >= 300
    prefixes = {t.split(".", 1)[0] for t in types}
    assert {
        "http", "core", "slack", "teams", "pagerduty", "opsgenie", "github", "gitlab",
        "jira", "openai", "email", "datadog", "aws", "azure",
    } <= prefixes  # fmt: skip
    for expected in ("aws.ec2.stop_instances", "aws.ssm.send_command", "aws.lambda.invoke"):
        assert expected in types
