"""An event answered 202 is never lost, even when the API process dies right after answering.

`switchyard api` runs as a real process; a burst of events is sent and the
process is killed with SIGKILL as soon as the first answers arrive, while
other events are stored but maybe not dispatched. A new API process starts
on the same database (its sweep dispatches whatever is pending). Then every
event that got a 202 has exactly one run in Temporal, and every run belongs
to one event: none lost, none duplicated.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from switchyard.engine.blobs import BlobStore
from switchyard.engine.worker import build_worker
from switchyard.triggers.dispatcher import event_run_id

pytestmark = [pytest.mark.temporal, pytest.mark.no_record]

CLI = [sys.executable, "-c", "from switchyard.cli import main; main()"]
FLOW = """
name: {name}
inputs:
  n: {{type: integer, required: true}}
triggers:
  - monitor:
      match: "Trigger.event.tags.includes('burst')"
    inputs: {{n: "{{{{ Trigger.event.attributes.n }}}}"}}
steps:
  - id: s
    transform: "Inputs.n"
"""


def start_api(data: Path, address: str, queue: str) -> tuple[subprocess.Popen[str], str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SWITCHYARD_") and k != "TEMPORAL_ADDRESS"
    }
    env.update(SWITCHYARD_TASK_QUEUE=queue, TEMPORAL_ADDRESS=address)
    proc = subprocess.Popen(
        [*CLI, "api", "--port", "0", "--data-dir", str(data)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("Switchyard API at "):
            return proc, line.split()[3].removesuffix("/api/v1")
    raise AssertionError("`switchyard api` did not start: " + "".join(seen))


async def test_accepted_events_survive_a_kill_after_answering(
    client: Client, temporal_server, task_queue: str, tmp_path: Path
) -> None:
    data = tmp_path / "api"
    name = f"burst-{uuid.uuid4().hex[:6]}"
    proc, url = start_api(data, temporal_server.address, task_queue)
    token = (data / "admin-token").read_text().strip()
    headers = {"Authorization": f"Bearer {token}"}
    accepted: list[str] = []
    async with build_worker(client, task_queue, blobs=BlobStore(tmp_path / "b", 1 << 17)):
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as api:
            put = await api.put(
                f"/api/v1/workflows/{name}?publish=true",
                content=FLOW.format(name=name),
                headers={"Content-Type": "application/yaml"},
            )
            assert put.status_code == 201, put.text

            async def send(n: int) -> None:
                event = {"id": f"{name}-{n}", "title": "t", "tags": ["burst"],
                         "attributes": {"n": n}}  # fmt: skip
                try:
                    answer = await api.post("/api/v1/events", json=event)
                except httpx.HTTPError:
                    return  # never answered: the sender would retry; not accepted
                if answer.status_code == 202:
                    accepted.append(event["id"])
                    if len(accepted) == 3:  # right after answering: kill it
                        proc.send_signal(signal.SIGKILL)

            await asyncio.gather(*(send(n) for n in range(40)))
        proc.wait(30)
        assert proc.returncode == -signal.SIGKILL
        assert len(accepted) >= 3

        # A new process on the same database dispatches what was pending.
        proc, url = start_api(data, temporal_server.address, task_queue)
        try:
            async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as api:
                deadline = time.monotonic() + 60
                while True:
                    events = [(await api.get(f"/api/v1/events/{e}")).json() for e in accepted]
                    if all(e.get("status") == "dispatched" for e in events):
                        break
                    assert time.monotonic() < deadline, events
                    await asyncio.sleep(0.5)
                for event in events:
                    assert event["runs"] == [event_run_id(name, event["id"])]
            expected = {event_run_id(name, e) for e in accepted}
            for run_id in expected:  # every accepted event's run exists and finishes
                await asyncio.wait_for(client.get_workflow_handle(run_id).result(), 60)
            query = f"WorkflowType = 'switchyard.run' AND SwitchyardWorkflow = '{name}'"
            deadline = time.monotonic() + 30
            while True:  # visibility lags behind: wait until it lists them all
                runs = [w.id async for w in client.list_workflows(query)]
                if expected <= set(runs) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
            assert expected <= set(runs), "an accepted event lost its run"
            assert len(runs) == len(set(runs)), "a run started twice"
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
