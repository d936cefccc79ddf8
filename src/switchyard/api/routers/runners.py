"""`GET /api/v1/runners`: private runners and their liveness (runners_read).

A runner is listed when a workflow names it: a step with `runner: <name>` in
the published version of a workflow (else its latest), loop bodies included.
Liveness comes from Temporal: the pollers of the runner's task queue and when
each last polled (`switchyard.runner.runner_status`); a runner that polled
within 2 minutes is `online`. Temporal cannot list task queues, so a runner
that no workflow names yet is not listed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from switchyard.api.auth import Principal, TxSession, require
from switchyard.api.deps import TemporalDep
from switchyard.api.errors import ApiError
from switchyard.api.pagination import Cursor, Limit, decode_cursor, page
from switchyard.control.permissions import Permission as P
from switchyard.control.workflows import definitions_for_calls

router = APIRouter(tags=["runners"])


def named_runners(definitions: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Runner name -> the workflows (sorted) whose steps name it."""
    found: dict[str, set[str]] = {}

    def walk(steps: Any, workflow: str) -> None:
        for step in steps if isinstance(steps, list) else []:
            if not isinstance(step, dict):
                continue
            if isinstance(step.get("runner"), str):
                found.setdefault(step["runner"], set()).add(workflow)
            walk(step.get("do"), workflow)

    for workflow, definition in definitions.items():
        walk(definition.get("steps"), workflow)
    return {name: sorted(workflows) for name, workflows in found.items()}


@router.get("/api/v1/runners")
async def list_runners(
    session: TxSession,
    temporal: TemporalDep,
    _: Annotated[Principal, Depends(require(P.RUNNERS_READ))],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Runners `{name, task_queue, online, last_seen, pollers: [{identity, last_seen}],
    workflows}`, by name."""
    from temporalio.service import RPCError

    from switchyard.runner import runner_status

    after = decode_cursor(cursor, (str,))
    named = named_runners(await definitions_for_calls(session))
    names = sorted(n for n in named if after is None or n > after[0])[: limit + 1]
    # Temporal is asked about the page's runners only; the extra name just says
    # that there is a next page.
    statuses = {}
    for name in names[:limit]:
        try:
            statuses[name] = await runner_status(temporal, name)
        except RPCError as exc:
            raise ApiError(503, f"Temporal did not answer: {exc}", type="Unavailable") from None
    return page(names, limit, lambda n: [n], lambda n: {**statuses[n], "workflows": named[n]})
