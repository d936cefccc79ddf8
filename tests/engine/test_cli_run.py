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


def switchyard(
    *args: str, cwd: Path, address: str | None = None
) -> subprocess.CompletedProcess[str]:
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
    out = switchyard(
        "run", "main.yaml", "--input", "n=21", "--input", "who=sre", "--json", cwd=flows
    )
    assert out.returncode == 0, out.stderr
    run = json.loads(out.stdout)  # only the run JSON on stdout
    assert run["status"] == "succeeded"
    assert run["outputs"] == {"result": 42, "who": "sre"}
    assert run["steps"]["child"]["status"] == "succeeded"


def test_run_progress_and_exit_codes(flows: Path, temporal_server) -> None:
    ok = switchyard(
        "run", "main.yaml", "--inputs-json", '{"n": 2}', cwd=flows, address=temporal_server.address
    )
    assert ok.returncode == 0, ok.stderr
    assert "child running" in ok.stdout and "child succeeded" in ok.stdout
    assert "succeeded" in ok.stdout.splitlines()[-2] or '"result": 4' in ok.stdout

    failed = switchyard("run", "failing.yaml", cwd=flows, address=temporal_server.address)
    assert failed.returncode == 1
    assert "Fail: nope" in failed.stdout

    invalid = switchyard("run", "invalid.yaml", cwd=flows, address=temporal_server.address)
    assert invalid.returncode == 2
    assert "invalid.yaml" in invalid.stderr

    bad_input = switchyard(
        "run", "main.yaml", "--input", "n=abc", cwd=flows, address=temporal_server.address
    )
    assert bad_input.returncode == 2
    assert "n" in bad_input.stderr

    missing = switchyard("run", "main.yaml", cwd=flows, address=temporal_server.address)
    assert missing.returncode == 2


async def test_switchyard_approve_command(engine, temporal_server, tmp_path: Path) -> None:
    import asyncio

    from switchyard.engine.client import get_run, wait_result

    handle = await engine.start(
        """
        name: cli-gate
        steps:
          - id: ask
            approval: "deploy?"
            approvers: [alice]
            on: {approve: [go], reject: [stop]}
          - id: go
            transform: "Steps.ask.output.comment"
          - id: stop
            fail: "rejected"
        """
    )
    for _ in range(100):
        if (await get_run(engine.client, handle.id))["status"] == "waiting":
            break
        await asyncio.sleep(0.1)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return switchyard(
            "approve", handle.id, *args, cwd=tmp_path, address=temporal_server.address
        )

    refused = await asyncio.to_thread(cli, "ask", "approve", "--by", "mallory")
    assert refused.returncode == 1 and "may not decide" in refused.stdout
    wrong = await asyncio.to_thread(cli, "nope", "approve", "--by", "alice")
    assert wrong.returncode == 1 and "not waiting" in wrong.stdout
    ok = await asyncio.to_thread(cli, "ask", "approve", "--by", "alice", "--comment", "ship it")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["choice"] == "approve"
    run = await wait_result(handle)
    assert run["status"] == "succeeded"
    assert run["steps"]["go"]["output"] == "ship it"
    assert run["steps"]["ask"]["output"]["by"] == "alice"


def test_run_uses_a_connection_from_the_local_store(tmp_path: Path, httpserver) -> None:
    httpserver.expect_request(
        "/v1/pods", headers={"Authorization": "Bearer s3cr3t-t0ken", "X-Team": "sre"}
    ).respond_with_json({"items": ["p1"], "echo": "s3cr3t-t0ken"})
    env = {**os.environ, "SWITCHYARD_DATA_DIR": str(tmp_path / ".switchyard")}
    env.pop("TEMPORAL_ADDRESS", None)
    created = subprocess.run(
        [
            *CLI,
            "connection",
            "create",
            "k8s",
            "--type",
            "http",
            "--field",
            f"base_url={httpserver.url_for('/v1')}",
            "--field",
            'headers={"X-Team": "sre"}',
            "--field",
            "auth=bearer",
            "--secret",
            "token=-",
        ],
        input="s3cr3t-t0ken\n",
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    write(
        tmp_path / "uses.yaml",
        """
        name: uses-connection
        outputs:
          pods: "{{ Steps.get.output.body.items }}"
          echoed: "{{ Steps.get.output.body.echo }}"
        steps:
          - id: get
            action: http.request
            connection: k8s
            with: {url: /pods}
        """,
    )
    out = switchyard("run", "uses.yaml", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    run = json.loads(out.stdout)
    assert run["outputs"]["pods"] == ["p1"]
    assert run["outputs"]["echoed"] == "***"  # a secret echoed by the API is masked
    assert "s3cr3t-t0ken" not in out.stdout
    httpserver.check_assertions()

    missing = tmp_path / "missing.yaml"
    missing.write_text((tmp_path / "uses.yaml").read_text().replace("k8s", "nope"))
    failed = switchyard("run", "missing.yaml", "--json", cwd=tmp_path)
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["error"]["type"] == "ConnectionNotFound"
