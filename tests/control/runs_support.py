"""Helpers of the run tests (event store, recorder, runs API): a worker, definitions, waiting."""

from __future__ import annotations

import asyncio
import textwrap
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError

from switchyard.connections import StaticConnections
from switchyard.definition.loader import load_text, parse_workflow
from switchyard.definition.model import Workflow
from switchyard.engine.blobs import BlobStore
from switchyard.engine.worker import build_worker


def parse(text: str) -> Workflow:
    wf, problems = parse_workflow(load_text(textwrap.dedent(text)))
    assert wf is not None and not problems, problems
    return wf


def worker(
    client: Client,
    task_queue: str,
    data_dir: Path,
    *,
    connections: Any = None,
    connection_check: Any = None,
) -> Any:
    """The engine worker on this test's task queue, blobs in the data directory.

    With a `connection_check`, the same worker `build_worker` makes, its action
    activity given the check (`build_worker` takes no check yet).
    """
    connections = connections or StaticConnections({})
    blobs = BlobStore(data_dir / "blobs", threshold=128 * 1024)
    if connection_check is None:
        return build_worker(client, task_queue, connections=connections, blobs=blobs)
    from temporalio.worker import Worker

    from switchyard.engine.activities import ActionActivities
    from switchyard.engine.local import LocalActivities
    from switchyard.engine.worker import WORKFLOWS, workflow_runner

    actions = ActionActivities(connections, blobs, connection_check=connection_check)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[actions.run_action, *LocalActivities(None, blobs).all()],
        workflow_runner=workflow_runner(),
    )


async def eventually(
    check: Callable[[], Awaitable[Any]], *, timeout: float = 60, every: float = 0.2
) -> Any:
    """Poll `check` until it returns something truthy; its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {value!r})")
        await asyncio.sleep(every)


async def delete_from_temporal(client: Client, run_id: str, *, timeout: float = 120) -> None:
    """Delete a workflow execution (as retention would) and wait until Temporal forgets it."""
    await client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=run_id),
        )
    )

    async def gone() -> bool:
        try:
            await client.get_workflow_handle(run_id).describe()
        except RPCError:
            return True
        return False

    await eventually(gone, timeout=timeout, every=1.0)


ECHO = """
name: echo-twice
inputs:
  n: {type: integer, default: 1}
outputs:
  n: "{{ Steps.second.output.n }}"
steps:
  - id: first
    action: core.echo
    with: {n: "{{ Inputs.n }}"}
    next: second
  - id: second
    action: core.echo
    with: {n: "{{ Steps.first.output.n + 1 }}"}
"""

APPROVAL = """
name: needs-approval
steps:
  - id: ask
    approval: "Go ahead?"
    approvers: [admin, boss]
    on:
      approve: [done]
  - id: done
    transform: "'approved by ' + Steps.ask.output.by"
"""

SLOW = """
name: slow
steps:
  - id: nap
    sleep: 30s
"""
