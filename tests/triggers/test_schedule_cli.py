"""`switchyard schedule list|pause|resume|backfill` against a real `switchyard api` process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from .test_event_durability import start_api

pytestmark = [pytest.mark.temporal, pytest.mark.no_record]

CLI = [sys.executable, "-c", "from switchyard.cli import main; main()"]
FLOW = """
name: {name}
triggers:
  - id: nightly
    schedule: {{cron: "0 3 * * *", timezone: Europe/Paris}}
steps:
  - id: s
    transform: "1"
"""


def test_schedule_commands(temporal_server, task_queue: str, tmp_path: Path) -> None:
    data = tmp_path / "api"
    name = f"cli-{uuid.uuid4().hex[:6]}"
    proc, url = start_api(data, temporal_server.address, task_queue)
    try:
        token = (data / "admin-token").read_text().strip()
        put = httpx.put(
            f"{url}/api/v1/workflows/{name}?publish=true",
            content=FLOW.format(name=name),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/yaml"},
        )
        assert put.status_code == 201, put.text
        env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
        env.update(SWITCHYARD_URL=url, SWITCHYARD_TOKEN=token)

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*CLI, "schedule", *args], env=env, capture_output=True, text=True, timeout=60
            )

        listed = cli("list", name)
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.startswith(f"{name}/nightly  active  next: ")
        paused = cli("pause", name, "nightly", "--note", "freeze")
        assert paused.returncode == 0 and paused.stdout.strip().endswith("paused"), paused.stderr
        assert f"{name}/nightly  paused" in cli("list", name).stdout
        assert cli("resume", name, "nightly").stdout.strip().endswith("active")
        backfill = cli("backfill", name, "nightly", "--start", "2026-11-01T00:00:00Z",
                       "--end", "2026-11-03T00:00:00Z")  # fmt: skip
        assert backfill.returncode == 0, backfill.stderr
        missing = cli("pause", name, "nope")
        assert missing.returncode != 0 and "no schedule trigger 'nope'" in missing.stderr
    finally:
        httpx.delete(f"{url}/api/v1/workflows/{name}", headers={"Authorization": f"Bearer {token}"})
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
