"""Client side of the engine: start runs, read their live state, answer approvals."""

from __future__ import annotations

import uuid
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.service import RPCError

from switchyard.definition.model import Workflow
from switchyard.engine.flags import resolve_flags
from switchyard.engine.types import (
    APPROVE_UPDATE,
    RUN_WORKFLOW,
    STATE_QUERY,
    RunInput,
    iteration_view,
)

SA_WORKFLOW = SearchAttributeKey.for_keyword("SwitchyardWorkflow")
SA_TRIGGER = SearchAttributeKey.for_keyword("SwitchyardTrigger")
#: Margin over the definition's own timeout: the workflow times itself out cleanly
#: (status `timed_out`, steps cancelled); the server-side limit is only a backstop.
_BACKSTOP_SECONDS = 300


class InvalidInputs(ValueError):
    """A run refused before it starts; `problems` has one entry per offending field."""

    def __init__(self, problems: list[Any]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


async def start_run(
    client: Client,
    wf: Workflow,
    inputs: dict[str, Any],
    *,
    task_queue: str,
    trigger: dict[str, Any] | None = None,
    version: int | None = None,
    run_id: str | None = None,
    flags: dict[str, Any] | None = None,
    search_attributes: bool = True,
    identity: str | None = None,
    reuse: dict[str, dict[str, Any]] | None = None,
    id_reuse_policy: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    eager: bool = True,
    definition: dict[str, Any] | None = None,
) -> WorkflowHandle[Any, dict[str, Any]]:
    """Submit a run of a checked definition.

    Args:
        identity: The user id the run executes as (its actions' connections are
            checked against it by the worker's connection check).
        reuse: Top-level step id -> the state it reached in an earlier run: a rerun
            from the failed step takes those steps as succeeded without running them.
        id_reuse_policy: `REJECT_DUPLICATE` makes `run_id` usable once ever (a run an
            event started must never start again, even after the first has closed).
        eager: Ask Temporal to hand the first workflow task straight back to a
            worker of this client (same process) when it has a free slot: no
            matching round trip before the first step. Ignored otherwise.
        definition: `wf` already dumped to JSON (callers starting many runs of one
            version dump it once).

    Raises:
        InvalidInputs: the inputs don't satisfy the declaration (one problem per field).
    """
    from datetime import timedelta

    from switchyard.definition.inputs import validate_inputs

    inputs, problems = validate_inputs(wf, inputs)
    if problems:
        raise InvalidInputs(problems)

    trigger = trigger or {"type": "manual"}
    run_id = run_id or str(uuid.uuid4())
    attrs = None
    if search_attributes:
        attrs = TypedSearchAttributes(
            [
                SearchAttributePair(SA_WORKFLOW, wf.name),
                SearchAttributePair(SA_TRIGGER, str(trigger.get("type"))),
            ]
        )
    return await client.start_workflow(
        RUN_WORKFLOW,
        RunInput(
            definition=(
                definition
                if definition is not None
                else wf.model_dump(mode="json", by_alias=True, exclude_none=True)
            ),
            inputs=inputs,
            trigger=trigger,
            version=version,
            flags=resolve_flags(flags),
            reuse=dict(reuse or {}),
            identity=identity,
        ),
        id=run_id,
        id_reuse_policy=id_reuse_policy,
        task_queue=task_queue,
        request_eager_start=eager,
        result_type=dict,
        execution_timeout=timedelta(seconds=wf.timeout + _BACKSTOP_SECONDS),
        search_attributes=attrs,
    )


async def get_run(client: Client, run_id: str) -> dict[str, Any]:
    """The run JSON, live: loop steps in progress show their iterations so far."""
    state = await client.get_workflow_handle(run_id).query(STATE_QUERY, result_type=dict)
    await _fill_loops(client, state["steps"])
    return resolve_refs(state)


async def _fill_loops(client: Client, steps: dict[str, Any]) -> None:
    for st in steps.values():
        children = st.pop("_children", None)
        if not children:
            continue
        iterations: list[dict[str, Any]] = []
        for child_id in children:
            iterations.extend(await _loop_iterations(client, child_id))
        st["iterations"] = sorted(iterations, key=lambda it: it["index"])


async def _loop_iterations(client: Client, loop_id: str) -> list[dict[str, Any]]:
    try:
        view = await client.get_workflow_handle(loop_id).query(STATE_QUERY, result_type=dict)
    except RPCError:  # not started yet, or just finished: the parent shows it next time
        return []
    from switchyard.engine.blobs import default_store

    its = [it for part in view.get("_parts", []) for it in load_iterations(part, default_store())]
    its += view.get("iterations", [])
    for it in its:
        await _fill_loops(client, it.get("steps", {}))
    for sub in view.get("_children", []):
        its.extend(await _loop_iterations(client, sub))
    return its


async def approve(
    client: Client,
    run_id: str,
    step: str,
    choice: str,
    *,
    by: str | None = None,
    roles: list[str] | None = None,
    comment: str | None = None,
) -> dict[str, Any]:
    """Answer an approval step; the step may be inside a loop (path like `each[2].ok`)."""
    from temporalio.client import WorkflowUpdateFailedError

    decision = {"step": step, "choice": choice, "by": by, "roles": roles or [], "comment": comment}
    target = await _find_waiting(client, run_id, step) or run_id
    try:
        return await client.get_workflow_handle(target).execute_update(
            APPROVE_UPDATE, decision, result_type=dict
        )
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        raise ApprovalRefused(getattr(cause, "message", None) or str(cause or exc)) from None


class ApprovalRefused(ValueError):
    """The run did not accept the decision (step not waiting, unknown choice, not an approver)."""


async def waiting_approval(
    client: Client, run_id: str, step: str
) -> tuple[str, dict[str, Any]] | None:
    """Where an approval step waits: (workflow id, `{prompt, choices, approvers}`), or None.

    The step may be inside a loop (a path like `each[2].ok`): its loop child is found.
    """
    target = await _find_waiting(client, run_id, step)
    if target is None:
        return None
    try:
        view = await client.get_workflow_handle(target).query(STATE_QUERY, result_type=dict)
    except RPCError:
        return None
    info = view.get("approvals", {}).get(step)
    return (target, info) if info is not None else None


async def _find_waiting(client: Client, workflow_id: str, step: str) -> str | None:
    try:
        view = await client.get_workflow_handle(workflow_id).query(STATE_QUERY, result_type=dict)
    except RPCError:
        return None
    if step in view.get("approvals", {}):
        return workflow_id
    children = list(view.get("_children", []))
    for st in view.get("steps", {}).values():
        children += st.get("_children", [])
    for it in view.get("iterations", []):
        for st in it.get("steps", {}).values():
            children += st.get("_children", [])
    for child in children:
        found = await _find_waiting(client, child, step)
        if found:
            return found
    return None


#: What a rerun keeps of a succeeded step's state.
_REUSED_FIELDS = ("status", "attempts", "output", "started_at", "finished_at")


def reusable_steps(run: dict[str, Any], store: Any = None) -> dict[str, dict[str, Any]]:
    """The `reuse` of a rerun from the failed step: the top-level steps that succeeded.

    Outputs and loop iterations over the blob threshold travel as blob references,
    so a rerun's input stays small whatever the earlier run produced.
    """
    from switchyard.engine.blobs import default_store

    store = store or default_store()
    out: dict[str, dict[str, Any]] = {}
    for sid, st in (run.get("steps") or {}).items():
        if st.get("status") != "succeeded":
            continue
        kept = {k: st.get(k) for k in _REUSED_FIELDS}
        kept["output"] = store.put_if_large(kept["output"])
        if st.get("iterations"):
            kept["iterations"] = store.put_if_large(st["iterations"])
        out[sid] = kept
    return out


def resolve_refs(run: dict[str, Any], store: Any = None) -> dict[str, Any]:
    """The run JSON with outputs and iteration lists stored outside the history loaded back."""
    from switchyard.engine.blobs import BlobStore, default_store

    store = store or default_store()

    def load(value: Any) -> Any:
        return store.get(value) if BlobStore.is_ref(value) else value

    def walk(steps: dict[str, Any]) -> None:
        for st in steps.values():
            if "output" in st:
                st["output"] = load(st["output"])
            if "iterations" in st:
                st["iterations"] = load_iterations(st["iterations"], store)
            for it in st.get("iterations") or []:
                walk(it.get("steps", {}))

    run["outputs"] = load(run.get("outputs"))
    walk(run.get("steps", {}))
    return run


def load_iterations(value: Any, store: Any) -> list[dict[str, Any]]:
    """Iteration details from where a loop left them: a list, a reference, or parts."""
    from switchyard.engine.blobs import BlobStore

    if isinstance(value, dict) and "$parts" in value:
        return [it for part in value["$parts"] for it in load_iterations(part, store)]
    if BlobStore.is_ref(value):
        return [iteration_view(it) for it in store.get(value)]
    return list(value or [])


async def wait_result(handle: WorkflowHandle[Any, dict[str, Any]]) -> dict[str, Any]:
    """Wait for a run to end; its run JSON with references resolved."""
    return resolve_refs(await handle.result())
