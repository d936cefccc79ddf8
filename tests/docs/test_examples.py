"""The language reference and its examples: they agree, they validate, and they run.

Every ```yaml block of docs/language.md preceded by `<!-- example: PATH -->`
is the content of PATH; every file under examples/ is shown in the docs. Each
example declares what its run produces in comments at its top:

    # expect-status: succeeded              (required)
    # expect-outputs: {"greeting": "hi"}    (JSON; the run's outputs, exactly)
    # expect-error: {"type": "Fail"}        (JSON; fields the run's error must have)
    # run-inputs: {"service": "api"}        (JSON; inputs of the run, default none)
    # needs: http                           (runs against the fake API below)
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from switchyard.definition.loader import load_workflow_file
from switchyard.definition.model import KIND_KEYS, WORKFLOW_NAME_PATTERN, ForEachStep, WhileStep
from switchyard.definition.validate import validate_workflow

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "language.md"
EXAMPLES_DIR = ROOT / "examples"
# Blueprints (examples/blueprints/) need connections: tests/blueprints runs them.
EXAMPLES = sorted(
    p for p in EXAMPLES_DIR.rglob("*.yaml") if "blueprints" not in p.relative_to(EXAMPLES_DIR).parts
)
HTTP_BASE = "http://127.0.0.1:8099"

_MARKER = re.compile(
    r"<!-- example: (?P<path>\S+) -->\n```yaml\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL
)
_HEADER = re.compile(r"^# (?P<key>[a-z-]+): (?P<value>.*)$")
_KEYS = {"expect-status", "expect-outputs", "expect-error", "run-inputs", "needs"}


@dataclass
class Expect:
    status: str
    outputs: Any = None
    has_outputs: bool = False
    error: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    needs: set[str] = field(default_factory=set)


def expectations(path: Path) -> Expect:
    """The `# key: value` lines of the comment block at the top of an example."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        match = _HEADER.match(line)
        if match and match["key"] in _KEYS:
            found[match["key"]] = match["value"].strip()
    assert "expect-status" in found, f"{path}: no `# expect-status:` line at the top"
    return Expect(
        status=found["expect-status"],
        outputs=json.loads(found["expect-outputs"]) if "expect-outputs" in found else None,
        has_outputs="expect-outputs" in found,
        error=json.loads(found.get("expect-error", "{}")),
        inputs=json.loads(found.get("run-inputs", "{}")),
        needs=set(found.get("needs", "").split()),
    )


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _ids(paths: list[Path]) -> list[str]:
    return [path.relative_to(EXAMPLES_DIR).as_posix() for path in paths]


def _kinds(steps: list[Any]) -> set[str]:
    out: set[str] = set()
    for step in steps:
        out.add(step.kind)
        if isinstance(step, ForEachStep | WhileStep):
            out |= _kinds(step.do)
    return out


# ---------------------------------------------------------------- docs and examples agree


def test_doc_blocks_equal_their_example_files() -> None:
    text = DOCS.read_text()
    blocks = list(_MARKER.finditer(text))
    assert blocks, "docs/language.md has no `<!-- example: PATH -->` blocks"
    for block in blocks:
        path = ROOT / block["path"]
        assert path.is_file(), f"docs/language.md shows {block['path']}, which does not exist"
        assert block["body"] == path.read_text(), (
            f"the block after <!-- example: {block['path']} --> differs from the file"
        )
    # A marker not directly followed by a yaml block would silently show nothing.
    assert text.count("<!-- example:") == len(blocks)


def test_every_example_is_in_the_docs() -> None:
    shown = {m["path"] for m in _MARKER.finditer(DOCS.read_text())}
    missing = [_rel(p) for p in EXAMPLES if _rel(p) not in shown]
    assert not missing, f"examples not shown in docs/language.md: {missing}"


def test_every_step_kind_has_an_example() -> None:
    kinds: set[str] = set()
    for path in EXAMPLES:
        wf, problems = load_workflow_file(path)
        assert wf is not None, (path, problems)
        kinds |= _kinds(wf.steps)
    assert set(KIND_KEYS) - kinds == set()
    assert {
        "action",
        "if",
        "switch",
        "for_each",
        "while",
        "transform",
        "script",
        "set",
        "sleep",
        "approval",
        "call",
        "fail",
    } <= kinds


def test_example_names_are_valid_and_unique() -> None:
    names: dict[str, str] = {}
    for path in EXAMPLES:
        wf, problems = load_workflow_file(path)
        assert wf is not None, (path, problems)
        assert re.match(WORKFLOW_NAME_PATTERN, wf.name), path
        assert wf.name not in names, f"{path} and {names[wf.name]} are both named {wf.name!r}"
        names[wf.name] = _rel(path)
    assert names.get("hello") == "examples/hello.yaml"


# ---------------------------------------------------------------- every example validates


@pytest.mark.parametrize("path", EXAMPLES, ids=_ids(EXAMPLES))
def test_example_validates(path: Path) -> None:
    expectations(path)  # the header is well-formed
    wf, problems = load_workflow_file(path)
    assert wf is not None, problems
    problems += validate_workflow(wf)
    errors = [str(p) for p in problems if p.severity == "error"]
    assert not errors, errors


# ---------------------------------------------------------------- every example runs


def _fake_api(server: Any) -> None:
    """The API that the `# needs: http` examples call (see examples/actions/http.yaml)."""
    from werkzeug import Request, Response

    server.expect_request("/health", method="GET").respond_with_json({"status": "ok"})

    def create(request: Request) -> Response:
        body = request.get_json()
        return Response(json.dumps({"id": 42, **body}), status=201, content_type="application/json")

    server.expect_request("/incidents", method="POST").respond_with_handler(create)
    server.expect_request("/incidents/999").respond_with_json({"error": "not found"}, status=404)
    calls = {"flaky": 0}

    def flaky(request: Request) -> Response:
        calls["flaky"] += 1
        if calls["flaky"] < 3:
            return Response("unavailable", status=503)
        return Response(json.dumps({"ok": True}), content_type="application/json")

    server.expect_request("/flaky").respond_with_handler(flaky)


@pytest.mark.temporal
@pytest.mark.parametrize("path", EXAMPLES, ids=_ids(EXAMPLES))
async def test_example_runs(path: Path, run_example: Any, request: pytest.FixtureRequest) -> None:
    expect = expectations(path)
    text = path.read_text()
    if "http" in expect.needs:
        server = request.getfixturevalue("httpserver")
        _fake_api(server)
        text = text.replace(HTTP_BASE, server.url_for("/").rstrip("/"))
    started = time.monotonic()
    run = await run_example(path, text, expect.inputs)
    summary = json.dumps({k: run.get(k) for k in ("status", "outputs", "error")}, default=str)
    assert run["status"] == expect.status, summary
    if expect.has_outputs:
        assert run["outputs"] == expect.outputs, summary
    for key, value in expect.error.items():
        assert (run.get("error") or {}).get(key) == value, summary
    assert time.monotonic() - started < 60, "examples must run in seconds"
