"""Acting on runs: cancel, rerun (from the start or from the failed step), approvals.

Included by `switchyard.api.routers.runs`. Cancels need `runs_cancel`, reruns
`workflows_run` and approvals `runs_approve`, by role or by a grant on the
run's workflow; each is in the audit log.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from temporalio.service import RPCError, RPCStatusCode

from switchyard.api import metrics
from switchyard.api.app import AppState
from switchyard.api.auth import CurrentPrincipal, Principal, authorize, source_of
from switchyard.api.deps import StateDep, TemporalDep
from switchyard.api.errors import ApiError
from switchyard.control import audit, workflows
from switchyard.control import runs as store
from switchyard.control.permissions import Permission as P
from switchyard.control.runs_live import start_input
from switchyard.control.runs_service import RunRefused, read_run, start_run
from switchyard.engine import client as engine
from switchyard.engine.blobs import BlobStore

__all__ = ["allow", "record", "refused", "router", "run_or_404", "unavailable"]

router = APIRouter(tags=["runs"])

RunId = Annotated[str, Path(min_length=1, max_length=255, description="run id")]


def refused(exc: RunRefused) -> ApiError:
    problems = [{"location": p.location, "message": p.message} for p in exc.problems]
    first = str(exc.problems[0]) if exc.problems else "invalid inputs"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return ApiError(422, f"the run was not started: {first}{more}", problems=problems)


def unavailable(exc: RPCError) -> ApiError:
    return ApiError(503, f"Temporal refused the request: {exc.message}", type="Unavailable")


async def run_or_404(state: AppState, run_id: str) -> dict[str, Any]:
    try:
        run = await read_run(state.db, state.temporal, run_id)
    except RPCError as exc:
        raise unavailable(exc) from None
    if run is None:
        raise ApiError(404, f"run {run_id!r} not found")
    return run


class RerunBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: Literal["start", "failed"] = Field(default="start", alias="from")


class ApprovalBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    choice: str = Field(min_length=1, max_length=200)
    comment: str | None = Field(default=None, max_length=10_000)


async def allow(state: AppState, principal: Principal, perm: P, workflow: str) -> None:
    """403 unless the principal's role or a grant on `workflow` gives `perm`.

    In a session of its own, held only for the check: a request never holds a
    pooled connection while it waits for Temporal or for another connection.
    """
    if principal.can(perm):
        return
    async with state.db.session() as session:
        await authorize(session, principal, perm, "workflow", workflow)


async def record(
    state: AppState,
    principal: Principal,
    request: Request,
    action: str,
    run_id: str,
    **details: Any,
) -> None:
    """An audit entry (`run.start`, `run.cancel`, ...) for a run."""
    async with state.db.session() as session:
        await audit.record(
            session,
            actor=principal.name,
            action=action,
            resource=f"run:{run_id}",
            details=details,
            source=source_of(request),
        )


@router.post("/api/v1/runs/{run_id}/cancel", status_code=202)
async def cancel(
    run_id: RunId,
    principal: CurrentPrincipal,
    state: StateDep,
    temporal: TemporalDep,
    request: Request,
) -> dict[str, Any]:
    """Ask the run to cancel: running steps are cancelled, the run ends `cancelled`."""
    run = await run_or_404(state, run_id)
    await allow(state, principal, P.RUNS_CANCEL, str(run["workflow"]))
    if run["status"] in store.FINAL:
        raise ApiError(409, f"run {run_id!r} has already ended ({run['status']})")
    try:
        await temporal.get_workflow_handle(run_id).cancel()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(409, f"run {run_id!r} is no longer running") from None
        raise unavailable(exc) from None
    await record(state, principal, request, "run.cancel", run_id, workflow=run["workflow"])
    return run


@router.post("/api/v1/runs/{run_id}/rerun", status_code=201)
async def rerun(
    run_id: RunId,
    principal: CurrentPrincipal,
    state: StateDep,
    temporal: TemporalDep,
    request: Request,
    body: Annotated[RerunBody | None, Body()] = None,
) -> dict[str, Any]:
    """A new run of the same version, inputs and trigger (`rerun_of` names this one).

    `from: failed` takes the steps that succeeded here as succeeded, with
    their outputs, without running them again (top-level steps; a loop is
    reused whole or run again whole).
    """
    body = body or RerunBody()
    original = await run_or_404(state, run_id)
    workflow = str(original["workflow"])
    await allow(state, principal, P.WORKFLOWS_RUN, workflow)
    if original["status"] not in store.FINAL:
        raise ApiError(409, f"run {run_id!r} is still {original['status']}: wait for its end")
    if body.from_ == "failed" and original["status"] == "succeeded":
        raise ApiError(409, f"run {run_id!r} succeeded: there is no failed step to rerun from")
    definition = await _definition(state, temporal, original)
    reuse = None
    if body.from_ == "failed":
        blobs = BlobStore(state.settings.blob_dir, state.settings.blob_threshold)
        reuse = engine.reusable_steps(original, blobs)
    try:
        started = await start_run(
            state.db,
            temporal,
            task_queue=state.settings.task_queue,
            definition=definition,
            version=original.get("version"),
            inputs=original.get("inputs") or {},
            trigger=original.get("trigger") or {"type": "manual"},
            identity=principal.id,
            rerun_of=run_id,
            reuse=reuse,
        )
    except RunRefused as exc:
        raise refused(exc) from None
    except RPCError as exc:
        raise unavailable(exc) from None
    await record(
        state,
        principal,
        request,
        "run.rerun",
        started.run["id"],
        workflow=workflow,
        rerun_of=run_id,
        **{"from": body.from_, "reused": sorted(reuse or {})},
    )
    trigger = (original.get("trigger") or {}).get("type") or "manual"
    metrics.count_run_started(state, workflow, str(trigger))
    return started.run


async def _definition(state: AppState, temporal: Any, run: dict[str, Any]) -> dict[str, Any]:
    """The definition the run ran: its stored version, else the run's own input in Temporal."""
    if run.get("version") is not None:
        try:
            async with state.db.session() as session:
                found = await workflows.resolve_version(session, run["workflow"], run["version"])
            return dict(found.definition)
        except LookupError:
            pass
    try:
        inp = await start_input(temporal, run["id"])
    except RPCError:
        inp = None
    if inp and inp.get("definition"):
        return dict(inp["definition"])
    raise ApiError(409, f"the definition run {run['id']!r} ran is no longer available")


@router.post("/api/v1/runs/{run_id}/approvals/{step}")
async def approve(
    run_id: RunId,
    step: Annotated[str, Path(min_length=1, max_length=500, description="step id or path")],
    body: ApprovalBody,
    principal: CurrentPrincipal,
    state: StateDep,
    temporal: TemporalDep,
    request: Request,
) -> dict[str, Any]:
    """Decide a waiting approval step (`each[2].ok` inside a loop): `{choice, by, comment, at}`.

    Only the step's approvers (user names or roles) may decide when it names
    any; the decision is recorded with the caller's name as `by`.
    """
    run = await run_or_404(state, run_id)
    await allow(state, principal, P.RUNS_APPROVE, str(run["workflow"]))
    try:
        found = await engine.waiting_approval(temporal, run_id, step)
    except RPCError as exc:
        raise unavailable(exc) from None
    if found is None:
        raise ApiError(409, f"step {step!r} of run {run_id!r} is not waiting for approval")
    _, waiting = found
    approvers = [str(a) for a in waiting.get("approvers") or []]
    if approvers and not {principal.name, principal.role} & set(approvers):
        raise ApiError(
            403, f"only {', '.join(approvers)} may decide step {step!r} (you are {principal.name})"
        )
    choices = [str(c) for c in waiting.get("choices") or []]
    if body.choice not in choices:
        message = f"{body.choice!r} is not one of {', '.join(choices)}"
        raise ApiError(422, message, problems=[{"location": "choice", "message": message}])
    try:
        decision = await engine.approve(
            temporal,
            run_id,
            step,
            body.choice,
            by=principal.name,
            roles=[principal.role],
            comment=body.comment,
        )
    except engine.ApprovalRefused as exc:
        raise ApiError(409, str(exc)) from None
    await record(state, principal, request, "run.approve", run_id, step=step, choice=body.choice)
    return {"run": run_id, "step": step, **decision}
