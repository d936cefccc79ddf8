"""Schedules of published workflows: list, pause, resume, backfill.

A schedule is `switchyard:<workflow>:<trigger id>` (triggers/schedules.py).
Reading needs `workflows_read`; changing one needs `workflows_update` on the
workflow (role or grant). Every change is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from switchyard.api.auth import (
    CurrentPrincipal,
    Principal,
    TxSession,
    authorize,
    require,
    source_of,
)
from switchyard.api.deps import TemporalDep
from switchyard.api.errors import ApiError
from switchyard.control import audit
from switchyard.control.permissions import Permission as P
from switchyard.triggers import schedules

router = APIRouter(tags=["schedules"])


class PauseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=500)


class BackfillBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: datetime = Field(description="start of the window (RFC 3339)")
    end: datetime = Field(description="end of the window (RFC 3339)")
    overlap: Literal[
        "skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other", "allow_all"
    ] = "allow_all"


async def _describe(temporal: Any, sid: str) -> dict[str, Any]:
    desc = await temporal.get_schedule_handle(sid).describe()
    _, workflow, trigger = sid.split(":", 2)
    state = desc.schedule.state
    upcoming = desc.info.next_action_times[:5]
    return {
        "id": sid,
        "workflow": workflow,
        "trigger": trigger,
        "paused": state.paused,
        "note": state.note,
        "next_fire_times": [t.isoformat() for t in upcoming],
        "recent_runs": [a.action.workflow_id for a in desc.info.recent_actions[-5:]],
    }


@router.get("/api/v1/schedules")
async def list_schedules(
    temporal: TemporalDep,
    _: Annotated[Principal, Depends(require(P.WORKFLOWS_READ))],
    workflow: str | None = None,
) -> dict[str, Any]:
    """Every schedule (of one workflow with `?workflow=`), with its next fire times."""
    ids = await schedules.list_schedules(temporal, workflow)
    return {"items": [await _describe(temporal, sid) for sid in ids], "next_cursor": None}


async def _target(
    temporal: Any, session: Any, principal: Principal, workflow: str, trigger: str
) -> str:
    await authorize(session, principal, P.WORKFLOWS_UPDATE, "workflow", workflow)
    sid = schedules.schedule_id(workflow, trigger)
    if sid not in await schedules.list_schedules(temporal, workflow):
        raise ApiError(404, f"workflow {workflow!r} has no schedule trigger {trigger!r} published")
    return sid


async def _change(
    temporal: Any,
    session: Any,
    principal: Principal,
    request: Request,
    workflow: str,
    trigger: str,
    paused: bool,
    note: str,
) -> dict[str, Any]:
    sid = await _target(temporal, session, principal, workflow, trigger)
    await schedules.pause(temporal, sid, paused, note)
    await audit.record(
        session,
        actor=principal.name,
        action="schedule.pause" if paused else "schedule.resume",
        resource=f"workflow:{workflow}",
        details={"schedule": sid, "note": note},
        source=source_of(request),
    )
    return await _describe(temporal, sid)


@router.post("/api/v1/workflows/{workflow}/schedules/{trigger}/pause")
async def pause_schedule(
    workflow: str,
    trigger: str,
    body: PauseBody,
    request: Request,
    session: TxSession,
    principal: CurrentPrincipal,
    temporal: TemporalDep,
) -> dict[str, Any]:
    """Pause a schedule (it stays paused when new versions are published)."""
    return await _change(temporal, session, principal, request, workflow, trigger, True, body.note)


@router.post("/api/v1/workflows/{workflow}/schedules/{trigger}/resume")
async def resume_schedule(
    workflow: str,
    trigger: str,
    body: PauseBody,
    request: Request,
    session: TxSession,
    principal: CurrentPrincipal,
    temporal: TemporalDep,
) -> dict[str, Any]:
    """Resume a paused schedule."""
    return await _change(temporal, session, principal, request, workflow, trigger, False, body.note)


@router.post("/api/v1/workflows/{workflow}/schedules/{trigger}/backfill", status_code=202)
async def backfill_schedule(
    workflow: str,
    trigger: str,
    body: BackfillBody,
    request: Request,
    session: TxSession,
    principal: CurrentPrincipal,
    temporal: TemporalDep,
) -> dict[str, Any]:
    """Run now what the schedule would have run between `start` and `end`."""
    if body.start.tzinfo is None or body.end.tzinfo is None:
        raise ApiError(422, "start and end need a time zone (e.g. Z)")
    if body.end <= body.start:
        raise ApiError(
            422,
            "end must be after start",
            problems=[{"location": "end", "message": "before start"}],
        )
    sid = await _target(temporal, session, principal, workflow, trigger)
    await schedules.backfill(temporal, sid, body.start, body.end, body.overlap)
    await audit.record(
        session,
        actor=principal.name,
        action="schedule.backfill",
        resource=f"workflow:{workflow}",
        details={"schedule": sid, "start": body.start.isoformat(), "end": body.end.isoformat()},
        source=source_of(request),
    )
    return {"schedule": sid, "start": body.start.isoformat(), "end": body.end.isoformat()}
