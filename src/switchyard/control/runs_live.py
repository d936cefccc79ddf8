"""Reading runs from Temporal: the live run JSON, the final one, and how a run started.

Used by the run recorder (to fill the event store) and by the API (a run
read while it runs). Nothing here writes to a workflow: reads are the `state`
query (answered by a worker), `describe`, the close event of the history
(the workflow's result) and its first event (the `RunInput`).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.service import RPCError, RPCStatusCode

from switchyard.control.timestamps import iso
from switchyard.engine.client import get_run, resolve_refs
from switchyard.engine.types import RUN_WORKFLOW

__all__ = [
    "TemporalRun",
    "bare_run",
    "closed_status",
    "final_snapshot",
    "live_state",
    "lost_run",
    "read_run",
    "start_input",
    "step_kinds",
]

#: A closed execution's status, as a run status (COMPLETED: the run's own result says).
_CLOSED = {
    WorkflowExecutionStatus.FAILED: "failed",
    WorkflowExecutionStatus.CANCELED: "cancelled",
    WorkflowExecutionStatus.TERMINATED: "cancelled",
    WorkflowExecutionStatus.TIMED_OUT: "timed_out",
}
_MESSAGES = {
    WorkflowExecutionStatus.FAILED: ("Failed", "the run's workflow failed"),
    WorkflowExecutionStatus.CANCELED: ("Cancelled", "the run was cancelled"),
    WorkflowExecutionStatus.TERMINATED: ("Cancelled", "the run was terminated"),
    WorkflowExecutionStatus.TIMED_OUT: ("Timeout", "the run exceeded its execution timeout"),
}
#: Seconds a single read may take before it is given up for this time.
READ_TIMEOUT = 10.0


@dataclass
class TemporalRun:
    """What Temporal says about one run now."""

    #: The run JSON, or None when it could not be read (no worker answered the query).
    snapshot: dict[str, Any] | None
    closed: bool
    #: Events in the current execution's history: unchanged means the state is unchanged.
    history_length: int
    close_time: datetime | None = None


def _not_found(exc: RPCError) -> bool:
    return exc.status == RPCStatusCode.NOT_FOUND


async def read_run(
    client: Client, run_id: str, previous: dict[str, Any] | None = None
) -> TemporalRun | None:
    """The run as Temporal has it (live while it runs), or None when Temporal does not know it.

    Args:
        previous: The last recorded run JSON, the base of a final state that the
            workflow itself did not return (terminated, timed out by the server).
    """
    handle = client.get_workflow_handle(run_id)
    try:
        desc = await asyncio.wait_for(handle.describe(), READ_TIMEOUT)
    except RPCError as exc:
        if _not_found(exc):
            return None
        raise
    if desc.workflow_type != RUN_WORKFLOW:
        return None  # a loop's child workflow, or not Switchyard's: not a run
    length = int(desc.raw_description.workflow_execution_info.history_length)
    if desc.status == WorkflowExecutionStatus.RUNNING:
        return TemporalRun(await live_state(client, run_id), False, length)
    snapshot = await final_snapshot(
        client, run_id, desc.status, desc.close_time, previous, desc.start_time
    )
    return TemporalRun(snapshot, True, length, desc.close_time)


async def live_state(
    client: Client, run_id: str, *, timeout: float = READ_TIMEOUT
) -> dict[str, Any] | None:
    """The run JSON from the `state` query, or None when no worker answers it now
    (no worker polls the task queue, or the run's first workflow task is not done)."""
    with contextlib.suppress(
        RPCError, WorkflowQueryFailedError, WorkflowQueryRejectedError, TimeoutError
    ):
        return await asyncio.wait_for(get_run(client, run_id), timeout)
    return None


async def final_snapshot(
    client: Client,
    run_id: str,
    status: WorkflowExecutionStatus | None,
    close_time: datetime | None,
    previous: dict[str, Any] | None = None,
    start_time: datetime | None = None,
    result: Any = None,
) -> dict[str, Any]:
    """The run JSON of a closed run: its result, else `previous` ended with the close status.

    `start_time` (the execution's, from visibility) stands in for a run start
    time that neither `previous` nor the run's input has. `result`: the run's
    result when the caller has read it already (`short_history`).
    """
    handle = client.get_workflow_handle(run_id)
    if result is None and status in (WorkflowExecutionStatus.COMPLETED, None):
        with contextlib.suppress(Exception):
            result = await asyncio.wait_for(handle.result(), READ_TIMEOUT)
    if isinstance(result, dict) and result.get("status"):
        return resolve_refs(result)
    base = dict(previous or {})
    if not base.get("workflow"):
        base.update(bare_run(run_id, await start_input(client, run_id) or {}, start_time))
    kind, message = _MESSAGES.get(status, ("Failed", "the run ended without a result"))  # type: ignore[arg-type]
    finished = iso(close_time) if close_time else None
    steps = {}
    for sid, st in (base.get("steps") or {}).items():
        st = dict(st)
        if st.get("status") in ("running", "waiting"):
            st.update(status="cancelled", finished_at=finished)
        elif st.get("status") in (None, "pending"):
            st = {"status": "skipped"}
        steps[sid] = st
    if not base.get("started_at"):
        base["started_at"] = iso(start_time or close_time)
    base.update(
        id=run_id,
        status=_CLOSED.get(status, "failed"),  # type: ignore[arg-type]
        error={"type": kind, "message": message, "step": None},
        finished_at=finished,
        steps=steps,
        approvals={},
    )
    return base


def lost_run(previous: dict[str, Any]) -> dict[str, Any]:
    """A recorded run that Temporal no longer knows and whose end was never recorded."""
    steps = {
        sid: ({**st, "status": "cancelled"} if st.get("status") in ("running", "waiting") else st)
        for sid, st in (previous.get("steps") or {}).items()
    }
    return {
        **previous,
        "status": "failed",
        "finished_at": iso(datetime.now(UTC)),
        "error": {
            "type": "RunLost",
            "message": "Temporal no longer knows this run and its end was not recorded",
            "step": None,
        },
        "steps": steps,
        "approvals": {},
    }


def closed_status(status: WorkflowExecutionStatus | None) -> bool:
    """True for an execution that has ended (and did not continue as new)."""
    return status not in (
        None,
        WorkflowExecutionStatus.RUNNING,
        WorkflowExecutionStatus.CONTINUED_AS_NEW,
    )


async def start_input(client: Client, run_id: str) -> dict[str, Any] | None:
    """The `RunInput` the current execution started with (as JSON), or None."""
    try:
        events = await _history_page(client, run_id, 1)
    except RPCError as exc:
        if _not_found(exc):
            return None
        raise
    if not events:
        return None
    inp = await _first_payload(
        client, events[0].workflow_execution_started_event_attributes.input.payloads
    )
    return inp if isinstance(inp, dict) else None


async def short_history(
    client: Client, run_id: str, *, limit: int = 64
) -> tuple[dict[str, Any], Any] | None:
    """`(start input, result)` of a completed run whose history fits in one page of
    `limit` events, in one call (the recorder's common case: two calls otherwise,
    `start_input` and the result); None when the history is longer or not complete.
    """
    events = await _history_page(client, run_id, limit, whole=True)
    if not events:
        return None
    first, last = events[0], events[-1]
    if not first.HasField("workflow_execution_started_event_attributes") or not last.HasField(
        "workflow_execution_completed_event_attributes"
    ):
        return None
    given = first.workflow_execution_started_event_attributes.input.payloads
    returned = last.workflow_execution_completed_event_attributes.result.payloads
    if not given or not returned:
        return None
    inp = await _first_payload(client, given)
    return (inp if isinstance(inp, dict) else {}), await _first_payload(client, returned)


async def _history_page(client: Client, run_id: str, size: int, *, whole: bool = False) -> Any:
    """The first `size` events of the current execution's history; with `whole`,
    an empty list when there are more (the history does not fit in one page)."""
    request = GetWorkflowExecutionHistoryRequest(
        namespace=client.namespace,
        execution=WorkflowExecution(workflow_id=run_id),
        maximum_page_size=size,
    )
    response = await asyncio.wait_for(
        client.workflow_service.get_workflow_execution_history(request), READ_TIMEOUT
    )
    if whole and response.next_page_token:
        return []
    return response.history.events


async def _first_payload(client: Client, payloads: Any) -> Any:
    """The first payload decoded as JSON, or None when there is none."""
    values = await client.data_converter.decode(list(payloads)[:1], [dict]) if payloads else []
    return values[0] if values else None


def bare_run(
    run_id: str, inp: dict[str, Any], start_time: datetime | None = None
) -> dict[str, Any]:
    """A run JSON from the run's input alone (`start_input`): running, every step pending."""
    definition = inp.get("definition") or {}
    resume = inp.get("resume") or {}
    return {
        "id": run_id,
        "workflow": definition.get("name", ""),
        "version": inp.get("version"),
        "status": "running",
        "inputs": inp.get("inputs") or {},
        "outputs": None,
        "error": None,
        "trigger": inp.get("trigger") or {"type": "manual"},
        "started_at": resume.get("started_at") or iso(start_time),
        "finished_at": None,
        "steps": {s["id"]: {"status": "pending"} for s in definition.get("steps", []) if "id" in s},
    }


#: The kind keys of a step, in the order the definition model checks them.
_KINDS = (
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
)


def step_kinds(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Step id -> `{kind, action, do}` for a definition's steps (`do`: a loop body's, nested).

    `action` is the action type for action steps, else the kind: what metrics
    and traces label a step with.
    """
    out: dict[str, dict[str, Any]] = {}
    for step in definition.get("steps") or definition.get("do") or []:
        if not isinstance(step, dict) or "id" not in step:
            continue
        kind = next((k for k in _KINDS if k in step), "unknown")
        out[step["id"]] = {
            "kind": kind,
            "action": str(step["action"]) if kind == "action" else kind,
            "do": step_kinds({"do": step.get("do", [])}) if step.get("do") else {},
        }
    return out
