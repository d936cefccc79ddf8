"""`switchyard run` as the spec's command-line section describes it (real embedded server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = [pytest.mark.temporal, pytest.mark.no_record]

CLI = [sys.executable, "-c", "from switchyard.cli import main; main()"]


def switchyard(*args: str, cwd: Path, address: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SWITCHYARD_DATA_DIR": str(cwd / ".switchyard")}
    env.pop("TEMPORAL_ADDRESS", None)
    if address:
        env["TEMPORAL_ADDRESS"] = address
    return subprocess.run(
        [*CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180
    )


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    write(
        tmp_path / "main.yaml",
        """
        name: main-flow
        inputs:
          n: {type: integer, required: true}
          who: {type: string, default: world}
        outputs:
          result: "{{ Steps.child.output.doubled }}"
          who: "{{ Inputs.who }}"
        steps:
          - id: child
            call: helper-flow
            with: {n: "{{ Inputs.n }}"}
        """,
    )
    write(
        tmp_path / "helper.yml",
        """
        name: helper-flow
        inputs:
          n: {type: integer, required: true}
        outputs:
          doubled: "{{ Steps.d.output }}"
        steps:
          - id: d
            transform: "Inputs.n * 2"
        """,
    )
    write(
        tmp_path / "failing.yaml",
        """
        name: failing-flow
        steps:
          - id: stop
            fail: "nope"
        """,
    )
    write(tmp_path / "invalid.yaml", "name: Bad Name\nsteps: []\n")
    return tmp_path


def test_run_json_embedded_server_and_call_targets(flows: Path) -> None:
    out = switchyard("run", "main.yaml", "--input", "n=21", "--input", "who=sre", "--json", cwd=flows)
    assert out.returncode == 0, out.stderr
    run = json.loads(out.stdout)  # only the run JSON on stdout
    assert run["status"] == "succeeded"
    assert run["outputs"] == {"result": 42, "who": "sre"}
    assert run["steps"]["child"]["status"] == "succeeded"


def test_run_progress_and_exit_codes(flows: Path, temporal_server) -> None:
    ok = switchyard("run", "main.yaml", "--inputs-json", '{"n": 2}', cwd=flows,
                    address=temporal_server.address)
    assert ok.returncode == 0, ok.stderr
    assert "child running" in ok.stdout and "child succeeded" in ok.stdout
    assert "succeeded" in ok.stdout.splitlines()[-2] or '"result": 4' in ok.stdout

    failed = switchyard("run", "failing.yaml", cwd=flows, address=temporal_server.address)
    assert failed.returncode == 1
    assert "Fail: nope" in failed.stdout

    invalid = switchyard("run", "invalid.yaml", cwd=flows, address=temporal_server.address)
    assert invalid.returncode == 2
    assert "invalid.yaml" in invalid.stderr

    bad_input = switchyard("run", "main.yaml", "--input", "n=abc", cwd=flows,
                           address=temporal_server.address)
    assert bad_input.returncode == 2
    assert "n" in bad_input.stderr

    missing = switchyard("run", "main.yaml", cwd=flows, address=temporal_server.address)
    assert missing.returncode == 2
