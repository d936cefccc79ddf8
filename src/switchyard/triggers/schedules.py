"""Schedule triggers as Temporal Schedules.

When a version is published, `sync_schedules` makes the set of Temporal
Schedules match its `schedule` triggers: one Schedule per trigger, id
`switchyard:<workflow>:<trigger id>`, whose action starts `switchyard.run`
with the published definition, the trigger's inputs and
`Trigger = {type: schedule, id}` (the interpreter adds `scheduled_at` from
Temporal's `TemporalScheduledStartTime`). Triggers that disappeared lose
their Schedule; unpublishing or deleting the workflow removes them all
(`remove_schedules`). A Schedule an operator paused stays paused across
updates.

Overlap: the trigger's `overlap` (an extension of the spec's schedule
fields, see docs/triggers.md) defaults to `skip`: a run still going when the
next is due makes that next one be skipped, which is what an SRE job
(a sweep, a report) wants. Missed runs while the server was down are caught
up within one minute (`catchup_window`), not replayed for days.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleBackfill,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from switchyard.definition.inputs import validate_inputs
from switchyard.definition.model import ScheduleTrigger, Workflow
from switchyard.definition.triggers import trigger_ids
from switchyard.engine.client import _BACKSTOP_SECONDS, SA_TRIGGER, SA_WORKFLOW
from switchyard.engine.flags import resolve_flags
from switchyard.engine.types import RUN_WORKFLOW, RunInput

__all__ = [
    "OVERLAP",
    "ScheduleInputsError",
    "backfill",
    "list_schedules",
    "pause",
    "remove_schedules",
    "schedule_id",
    "sync_schedules",
]

OVERLAP: dict[str, ScheduleOverlapPolicy] = {
    "skip": ScheduleOverlapPolicy.SKIP,
    "buffer_one": ScheduleOverlapPolicy.BUFFER_ONE,
    "buffer_all": ScheduleOverlapPolicy.BUFFER_ALL,
    "cancel_other": ScheduleOverlapPolicy.CANCEL_OTHER,
    "terminate_other": ScheduleOverlapPolicy.TERMINATE_OTHER,
    "allow_all": ScheduleOverlapPolicy.ALLOW_ALL,
}
CATCHUP_WINDOW = timedelta(minutes=1)


class ScheduleInputsError(ValueError):
    """A schedule trigger's inputs do not satisfy the workflow's declaration."""


def schedule_id(workflow: str, trigger: str) -> str:
    return f"switchyard:{workflow}:{trigger}"


def _prefix(workflow: str) -> str:
    return f"switchyard:{workflow}:"


def _schedule(
    wf: Workflow,
    version: int,
    trigger: ScheduleTrigger,
    tid: str,
    task_queue: str,
    flags: dict[str, Any] | None,
) -> Schedule:
    spec = trigger.schedule
    inputs, problems = validate_inputs(wf, dict(trigger.inputs))
    if problems:
        text = "; ".join(f"{p.location}: {p.message}" for p in problems)
        raise ScheduleInputsError(f"schedule trigger {tid!r}: {text}")
    run = RunInput(
        definition=wf.model_dump(mode="json", by_alias=True, exclude_none=True),
        inputs=inputs,
        trigger={"type": "schedule", "id": tid},
        version=version,
        flags=resolve_flags(flags),
    )
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RUN_WORKFLOW,
            run,
            id=f"{wf.name}-{tid}",
            task_queue=task_queue,
            execution_timeout=timedelta(seconds=wf.timeout + _BACKSTOP_SECONDS),
            typed_search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(SA_WORKFLOW, wf.name),
                    SearchAttributePair(SA_TRIGGER, "schedule"),
                ]
            ),
        ),
        spec=ScheduleSpec(
            cron_expressions=[spec.cron] if spec.cron else [],
            intervals=[ScheduleIntervalSpec(every=timedelta(seconds=spec.every))]
            if spec.every
            else [],
            time_zone_name=spec.timezone,
        ),
        policy=SchedulePolicy(
            overlap=OVERLAP[spec.overlap or "skip"],
            catchup_window=CATCHUP_WINDOW,
        ),
        state=ScheduleState(note=f"{wf.name} v{version}, trigger {tid}"),
    )


async def list_schedules(client: Client, workflow: str | None = None) -> list[str]:
    """Ids of Switchyard's schedules (of one workflow when given), sorted."""
    prefix = _prefix(workflow) if workflow else "switchyard:"
    listed = [s.id async for s in await client.list_schedules() if s.id.startswith(prefix)]
    # The list comes from visibility, which lags: a schedule deleted a moment
    # ago can still be listed. Describe (strongly consistent) to be sure.
    ids = []
    for sid in listed:
        try:
            await client.get_schedule_handle(sid).describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                continue
            raise
        ids.append(sid)
    return sorted(ids)


async def sync_schedules(
    client: Client,
    wf: Workflow,
    version: int,
    *,
    task_queue: str,
    flags: dict[str, Any] | None = None,
) -> list[str]:
    """Make the workflow's Temporal Schedules match `wf`'s schedule triggers.

    Nothing changes when a trigger's inputs are invalid (checked first).

    Raises:
        ScheduleInputsError: a schedule trigger's inputs do not fit.

    Returns:
        The ids of the schedules that now exist for the workflow.
    """
    wanted: dict[str, Schedule] = {}
    for trigger, tid in zip(wf.triggers, trigger_ids(wf), strict=True):
        if isinstance(trigger, ScheduleTrigger):
            wanted[schedule_id(wf.name, tid)] = _schedule(
                wf, version, trigger, tid, task_queue, flags
            )
    existing = set(await list_schedules(client, wf.name))
    for sid, schedule in wanted.items():
        if sid in existing:
            await _update(client, sid, schedule)
            continue
        try:
            await client.create_schedule(sid, schedule)
        except ScheduleAlreadyRunningError:  # created concurrently (another API replica)
            await _update(client, sid, schedule)
    for sid in existing - set(wanted):
        await _delete(client, sid)
    return sorted(wanted)


async def _update(client: Client, sid: str, schedule: Schedule) -> None:
    def keep_pause(current: ScheduleUpdateInput) -> ScheduleUpdate:
        # An operator's pause (and its note) survives publishing a new version.
        old = current.description.schedule.state
        if old.paused:
            schedule.state = ScheduleState(paused=True, note=old.note)
        return ScheduleUpdate(schedule=schedule)

    await client.get_schedule_handle(sid).update(keep_pause)


async def _delete(client: Client, sid: str) -> None:
    try:
        await client.get_schedule_handle(sid).delete()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise


async def remove_schedules(client: Client, workflow: str) -> list[str]:
    """Delete every schedule of the workflow (unpublished or deleted); returns their ids."""
    ids = await list_schedules(client, workflow)
    for sid in ids:
        await _delete(client, sid)
    return ids


async def pause(client: Client, sid: str, paused: bool, note: str = "") -> None:
    """Pause or resume one schedule."""
    handle = client.get_schedule_handle(sid)
    if paused:
        await handle.pause(note=note or "paused through Switchyard")
    else:
        await handle.unpause(note=note or "resumed through Switchyard")


async def backfill(
    client: Client, sid: str, start: datetime, end: datetime, overlap: str = "allow_all"
) -> None:
    """Run now what the schedule would have run between `start` and `end`."""
    await client.get_schedule_handle(sid).backfill(
        ScheduleBackfill(start_at=start, end_at=end, overlap=OVERLAP[overlap])
    )
