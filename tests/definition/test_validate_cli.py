"""`switchyard validate` and `switchyard schema`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from switchyard.cli import _register, app
from switchyard.definition.schema import workflow_json_schema, workflow_json_schema_text

from .conftest import EXAMPLES

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
_register()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_valid_files_exit_0():
    files = [str(EXAMPLES / "minimal.yaml"), str(EXAMPLES / "restart-unhealthy-pods.json")]
    result = run("validate", *files)
    assert result.exit_code == 0, result.output
    assert f"{files[0]}: ok" in result.output.splitlines()
    assert f"{files[1]}: ok" in result.output.splitlines()


def test_invalid_file_exits_2_with_every_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\nsteps:\n  - {id: a, action: core.echo, next: notfy}\n"
        "  - {id: notify, action: core.echo}\n  - {id: b, if: 'true', then: a, next: a}\n"
    )
    good = EXAMPLES / "minimal.yaml"
    result = run("validate", str(bad), str(good))
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert f"{bad}: steps[0].next: unknown step 'notfy' (did you mean 'notify'?)" in lines
    assert (
        f"{bad}: steps[2].next: 'if' step 'b' routes with then/else and cannot have next" in lines
    )
    assert f"{bad}: steps[1]: step 'notify' is unreachable: no edge leads to it from a" in lines
    assert f"{bad}: ok" not in lines
    assert f"{good}: ok" in lines


def test_warnings_alone_exit_0(tmp_path):
    path = tmp_path / "warn.yaml"
    path.write_text(
        "name: warn\ninputs: {x: {type: integer, required: true, default: 1}}\n"
        "steps: [{id: a, action: core.echo}]\n"
    )
    result = run("validate", str(path))
    assert result.exit_code == 0
    assert (
        f"{path}: warning: inputs.x.required: a required input with a default is never "
        "missing; drop one of them" in result.output.splitlines()
    )
    assert result.output.splitlines()[-1] == f"{path}: ok"


def test_unreadable_file_is_a_problem_not_a_traceback(tmp_path):
    missing = tmp_path / "nope.yaml"
    result = run("validate", str(missing))
    assert result.exit_code == 2
    assert result.output.strip() == f"{missing}: cannot read the file: No such file or directory"
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_json_report(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"name": "x", "steps": [{"id": "a"}]}')
    result = run("validate", "--json", str(path))
    assert result.exit_code == 2
    report = json.loads(result.output)
    assert report[0]["valid"] is False
    assert report[0]["problems"][0]["code"] == "kind-missing"
    assert report[0]["problems"][0]["location"] == "steps[0]"


def test_validate_as_a_subprocess(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [\n")
    proc = subprocess.run(
        [sys.executable, "-c", "from switchyard.cli import main; main()", "validate", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout.startswith(f"{bad}: line ")
    assert "Traceback" not in proc.stderr


def test_schema_command_prints_the_schema(tmp_path):
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] and schema["title"]
    assert "steps" in schema["required"]
    out = tmp_path / "s.json"
    assert run("schema", "--output", str(out)).exit_code == 0
    assert out.read_text() == result.output


def test_committed_schema_is_up_to_date():
    committed = (ROOT / "schema" / "workflow.schema.json").read_text(encoding="utf-8")
    assert committed == workflow_json_schema_text(), (
        "schema/workflow.schema.json is stale: run `uv run switchyard schema "
        "--output schema/workflow.schema.json`"
    )


def test_examples_satisfy_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    from switchyard.definition.loader import load_text

    validator = jsonschema.Draft202012Validator(workflow_json_schema())
    for path in EXAMPLES.glob("*.*"):
        data = load_text(path.read_text(), filename=path.name)
        errors = [e.message for e in validator.iter_errors(data)]
        assert errors == [], path
