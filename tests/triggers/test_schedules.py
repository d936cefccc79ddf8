"""Schedule triggers as real Temporal Schedules on the dev server (short intervals)."""

from __future__ import annotations

import asyncio
import textwrap
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import Client

from switchyard.definition.validate import validate_text
from switchyard.engine.blobs import BlobStore
from switchyard.engine.worker import build_worker
from switchyard.triggers import schedules

pytestmark = [pytest.mark.temporal, pytest.mark.no_record]

FLOW = """
name: {name}
inputs:
  who: {{type: string, required: true}}
outputs:
  who: "{{{{ Inputs.who }}}}"
  trigger: "{{{{ Trigger.type }}}}"
triggers:
{triggers}
steps:
  - id: s
    transform: "Inputs.who"
"""


def workflow(name: str, triggers: str):
    wf, problems = validate_text(
        textwrap.dedent(FLOW).format(name=name, triggers=textwrap.indent(triggers, "  "))
    )
    assert wf is not None, problems
    return wf


async def runs_of(client: Client, name: str) -> list:
    return [
        w
        async for w in client.list_workflows(
            f"WorkflowType = 'switchyard.run' AND SwitchyardWorkflow = '{name}'"
        )
    ]


async def wait_for_runs(client: Client, name: str, count: int, timeout: float = 30) -> list:
    deadline = time.monotonic() + timeout
    while True:
        found = await runs_of(client, name)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.5)


@pytest.fixture
def name() -> str:
    return f"sched-{uuid.uuid4().hex[:8]}"


async def test_every_schedule_starts_runs_with_a_schedule_trigger(
    client: Client, task_queue: str, name: str, tmp_path: Path
) -> None:
    wf = workflow(name, "- schedule: {every: 1s}\n  inputs: {who: cron}\n")
    async with build_worker(client, task_queue, blobs=BlobStore(tmp_path / "b", 1 << 17)):
        ids = await schedules.sync_schedules(client, wf, 1, task_queue=task_queue)
        assert ids == [f"switchyard:{name}:schedule"]
        try:
            found = await wait_for_runs(client, name, 2)
            assert len(found) >= 2
            result = await client.get_workflow_handle(found[-1].id).result()
            assert result["outputs"] == {"who": "cron", "trigger": "schedule"}
            # The fire time Temporal recorded, as Trigger.scheduled_at.
            scheduled = result["trigger"]["scheduled_at"]
            assert scheduled.endswith("Z") and found[-1].id.endswith(scheduled[:-1] + "Z")
            assert found[-1].id.startswith(f"{name}-schedule-")
        finally:
            await schedules.remove_schedules(client, name)
    assert await schedules.list_schedules(client, name) == []


async def test_publishing_updates_keeps_pause_and_drops_removed_triggers(
    client: Client, task_queue: str, name: str
) -> None:
    v1 = workflow(
        name,
        "- id: nightly\n  schedule: {cron: '0 3 * * *', timezone: Europe/Paris}\n"
        "  inputs: {who: a}\n"
        "- id: hourly\n  schedule: {cron: '0 * * * *', overlap: buffer_one}\n"
        "  inputs: {who: b}\n",
    )
    try:
        ids = await schedules.sync_schedules(client, v1, 1, task_queue=task_queue)
        assert ids == [f"switchyard:{name}:hourly", f"switchyard:{name}:nightly"]
        nightly = client.get_schedule_handle(f"switchyard:{name}:nightly")
        desc = await nightly.describe()
        assert desc.schedule.spec.time_zone_name == "Europe/Paris"
        # The server stores cron expressions as calendars.
        [cal] = desc.schedule.spec.calendars
        assert [(r.start, r.end) for r in cal.hour] == [(3, 3)]
        hourly = await client.get_schedule_handle(f"switchyard:{name}:hourly").describe()
        assert hourly.schedule.policy.overlap.name == "BUFFER_ONE"
        await schedules.pause(client, f"switchyard:{name}:nightly", True, "maintenance")

        v2 = workflow(
            name,
            "- id: nightly\n  schedule: {cron: '30 4 * * *', timezone: Europe/Paris}\n"
            "  inputs: {who: c}\n",
        )
        ids = await schedules.sync_schedules(client, v2, 2, task_queue=task_queue)
        assert ids == [f"switchyard:{name}:nightly"]
        assert await schedules.list_schedules(client, name) == ids
        desc = await nightly.describe()
        [cal] = desc.schedule.spec.calendars
        assert [(r.start, r.end) for r in cal.hour] == [(4, 4)]
        assert [(r.start, r.end) for r in cal.minute] == [(30, 30)]
        assert desc.schedule.state.paused and desc.schedule.state.note == "maintenance"
        action_args = desc.schedule.action.args
        assert action_args, "the action carries the run input"
        await schedules.pause(client, f"switchyard:{name}:nightly", False)
        assert not (await nightly.describe()).schedule.state.paused
    finally:
        await schedules.remove_schedules(client, name)


async def test_backfill_runs_the_missed_fire_times(
    client: Client, task_queue: str, name: str, tmp_path: Path
) -> None:
    wf = workflow(name, "- schedule: {cron: '*/10 * * * *'}\n  inputs: {who: backfill}\n")
    async with build_worker(client, task_queue, blobs=BlobStore(tmp_path / "b", 1 << 17)):
        try:
            await schedules.sync_schedules(client, wf, 1, task_queue=task_queue)
            now = datetime.now(UTC).replace(second=0, microsecond=0)
            end = now - timedelta(minutes=now.minute % 10) - timedelta(minutes=1)
            start = end - timedelta(minutes=30)
            await schedules.backfill(client, f"switchyard:{name}:schedule", start, end)
            found = await wait_for_runs(client, name, 3)
            assert len(found) == 3
        finally:
            await schedules.remove_schedules(client, name)


async def test_invalid_schedule_inputs_create_nothing(
    client: Client, task_queue: str, name: str
) -> None:
    wf = workflow(name, "- schedule: {every: 1h}\n  inputs: {}\n")
    with pytest.raises(schedules.ScheduleInputsError, match=r"inputs\.who"):
        await schedules.sync_schedules(client, wf, 1, task_queue=task_queue)
    assert await schedules.list_schedules(client, name) == []
