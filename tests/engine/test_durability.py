"""Durability: a killed worker, a restarted server, a restarted `switchyard up`."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from werkzeug import Request, Response

from switchyard.definition.loader import parse_text
from switchyard.engine.client import start_run, wait_result
from switchyard.engine.converter import connect
from switchyard.engine.devserver import DevServer
from switchyard.engine.worker import build_worker

pytestmark = [pytest.mark.temporal, pytest.mark.no_record, pytest.mark.slow]

CLI = [sys.executable, "-c", "from switchyard.cli import main; main()"]


def _worker(address: str, task_queue: str, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SWITCHYARD_DATA_DIR": str(data_dir)}
    return subprocess.Popen(
        [*CLI, "worker", "--temporal-address", address, "--task-queue", task_queue],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _sequential_http(url: str, n: int) -> str:
    lines = ["name: thirty-steps", "steps:"]
    for i in range(n):
        lines += [
            f"  - id: s{i}",
            "    action: http.request",
            f"    with: {{url: '{url}/step/{i}'}}",
            "    timeout: 3s",
            "    retry: {max_attempts: 5, initial_interval: 200ms}",
        ]
        if i < n - 1:
            lines.append(f"    next: s{i + 1}")
    return "\n".join(lines)


@pytest.mark.timeout(300)
async def test_kill_9_worker_mid_run_no_completed_step_runs_again(
    temporal_server, client, task_queue, tmp_data_dir, http_server
):
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def handler(request: Request) -> Response:
        with lock:
            counts[request.path] += 1
        time.sleep(0.15)
        return Response('{"ok": true}', content_type="application/json")

    for i in range(30):
        http_server.expect_request(f"/step/{i}").respond_with_handler(handler)
    wf, problems = parse_text(_sequential_http(http_server.url_for("").rstrip("/"), 30))
    assert wf is not None, problems

    first = _worker(temporal_server.address, task_queue, tmp_data_dir)
    try:
        handle = await start_run(client, wf, {}, task_queue=task_queue)
        for _ in range(600):
            if sum(counts.values()) >= 10:
                break
            await asyncio.sleep(0.05)
        assert sum(counts.values()) >= 10, "the first worker never got going"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        before = dict(counts)
    finally:
        if first.poll() is None:
            first.kill()
    second = _worker(temporal_server.address, task_queue, tmp_data_dir)
    try:
        run = await asyncio.wait_for(wait_result(handle), timeout=240)
    finally:
        second.terminate()
        second.wait(20)
    assert run["status"] == "succeeded", run["error"]
    assert len(before) < 30, "the kill came too late to prove anything"
    assert set(counts) == {f"/step/{i}" for i in range(30)}
    # Steps that had completed before the kill ran exactly once; at most the one
    # in flight at the kill ran twice (an activity is at-least-once by nature).
    repeated = {p: c for p, c in counts.items() if c > 1}
    assert len(repeated) <= 1 and all(c == 2 for c in repeated.values()), repeated
    completed_before = {f"/step/{i}" for i in range(30) if run["steps"][f"s{i}"]["attempts"] == 1}
    assert len(completed_before) >= 29


@pytest.mark.timeout(300)
async def test_embedded_server_restart_mid_run(tmp_path, tmp_data_dir, task_queue):
    server = DevServer(db_filename=tmp_path / "t.sqlite", data_dir=tmp_path)
    await server.start()
    try:
        client = await server.client()
        wf, problems = parse_text(
            "name: survives-restart\nsteps:\n"
            + "".join(
                f"  - id: s{i}\n    sleep: 1s\n" + (f"    next: s{i + 1}\n" if i < 5 else "")
                for i in range(6)
            )
        )
        assert wf is not None, problems
        async with build_worker(client, task_queue):
            handle = await start_run(client, wf, {}, task_queue=task_queue)
            await asyncio.sleep(2.5)
            await server.restart()
            client2 = await server.client()
            run = await asyncio.wait_for(
                wait_result(client2.get_workflow_handle(handle.id)), timeout=200
            )
        assert run["status"] == "succeeded", run
        assert all(run["steps"][f"s{i}"]["status"] == "succeeded" for i in range(6))
    finally:
        await server.stop()


@pytest.mark.timeout(300)
async def test_switchyard_up_restart_continues_runs(tmp_path):
    data_dir = tmp_path / "data"
    env = {**os.environ, "SWITCHYARD_DATA_DIR": str(data_dir)}

    def start_up() -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [*CLI, "up", "--data-dir", "data", "--port", "0"],  # relative, as in `make up`
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if "Switchyard is up" in line:
                return proc
        raise AssertionError(f"`switchyard up` did not start (exit {proc.wait()})")

    up = start_up()
    try:
        address = (data_dir / "temporal-address").read_text().strip()
        client = await connect(address)
        wf, _ = parse_text(
            "name: long-one\nsteps:\n  - id: a\n    sleep: 3s\n    next: b\n"
            "  - id: b\n    sleep: 1s\n"
        )
        assert wf is not None
        handle = await start_run(client, wf, {}, task_queue="switchyard")
        await asyncio.sleep(1)
        up.send_signal(signal.SIGTERM)
        up.wait(60)
        up = start_up()
        client = await connect((data_dir / "temporal-address").read_text().strip())
        run = await asyncio.wait_for(wait_result(client.get_workflow_handle(handle.id)), 120)
        assert run["status"] == "succeeded", run
    finally:
        up.send_signal(signal.SIGTERM)
        try:
            up.wait(60)
        except subprocess.TimeoutExpired:
            up.kill()


@pytest.mark.timeout(300)
async def test_backoff_survives_server_and_worker_restart(tmp_path, tmp_data_dir, http_server):
    calls: list[float] = []

    def flaky(request: Request) -> Response:
        calls.append(time.monotonic())
        if len(calls) < 3:
            return Response("busy", status=503)
        return Response('{"ok": true}', content_type="application/json")

    http_server.expect_request("/flaky").respond_with_handler(flaky)
    wf, problems = parse_text(
        f"""
name: durable-backoff
steps:
  - id: call
    action: http.request
    with: {{url: "{http_server.url_for("/flaky")}"}}
    retry: {{max_attempts: 5, initial_interval: 4s, backoff: 1.0}}
"""
    )
    assert wf is not None, problems
    server = DevServer(db_filename=tmp_path / "t.sqlite", data_dir=tmp_path)
    await server.start()
    queue = "backoff-q"
    try:
        client = await server.client()
        async with build_worker(client, queue):
            handle = await start_run(client, wf, {}, task_queue=queue)
            for _ in range(200):
                if calls:
                    break
                await asyncio.sleep(0.05)
        # In the middle of the first 4 s backoff: no worker, and the server restarts.
        await server.restart()
        client = await server.client()
        async with build_worker(client, queue):
            run = await asyncio.wait_for(
                wait_result(client.get_workflow_handle(handle.id)), timeout=120
            )
    finally:
        await server.stop()
    assert run["status"] == "succeeded", run
    assert run["steps"]["call"]["attempts"] == 3
    assert len(calls) == 3  # the schedule was neither lost nor repeated
    assert calls[1] - calls[0] >= 3.5  # the backoff was honoured across the restart
