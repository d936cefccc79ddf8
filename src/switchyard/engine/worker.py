"""The engine worker: the interpreter workflows and their activities on one task queue."""

from __future__ import annotations

from pathlib import Path

from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner

from switchyard.connections import ConnectionResolver
from switchyard.engine.activities import ActionActivities, ConnectionCheck
from switchyard.engine.blobs import BlobStore, default_store
from switchyard.engine.finished import RecordFinished
from switchyard.engine.local import DefinitionSource, DirectorySource, LocalActivities
from switchyard.engine.workflows import LoopWorkflow, RunWorkflow

WORKFLOWS = [RunWorkflow, LoopWorkflow]


def workflow_runner() -> WorkflowRunner:
    """How workflow code runs: in the worker's interpreter, without the SDK's sandbox.

    The sandbox re-creates a module namespace for every run and checks calls
    made from re-imported modules. Ours must be passed through to it (the
    QuickJS engine and its compiled-expression cache live in them), and code
    of a passed-through module is not checked at all (a `datetime.now()` in
    the interpreter ran unnoticed in it), so it only cost time: about 2.3 ms
    of CPU per run, 30% of a short run's worker work (measured by replaying
    one history 1,800 times each way). Determinism is guarded instead by the
    replay corpus (`tests/replay/`) and the purity test of the workflow-side
    modules (`tests/engine/test_workflow_purity.py`); see docs/engine.md.
    """
    return UnsandboxedWorkflowRunner()


def build_worker(
    client: Client,
    task_queue: str,
    *,
    connections: ConnectionResolver | None = None,
    definitions: DefinitionSource | Path | None = None,
    blobs: BlobStore | None = None,
    max_concurrent_activities: int = 100,
    connection_check: ConnectionCheck | None = None,
) -> Worker:
    """A worker running the interpreter, the action activity and the local activities.

    `connection_check(identity, connection)` decides whether a run executing
    as an identity may use a connection (the control plane's
    `connections_use`); None allows every use (local `switchyard run`).
    """
    from switchyard.actions import load_plugins

    # Import the catalogue (built-ins and installed packs) before workflow code
    # needs it: packs are found through package metadata, which is never
    # read from workflow code.
    load_plugins()
    blobs = blobs or default_store()
    if isinstance(definitions, Path):
        definitions = DirectorySource(definitions)
    if connections is None:
        # The encrypted store in the data directory (docs/connections.md); secrets are
        # read inside the activity only.
        from switchyard.config import get_settings
        from switchyard.connections import LocalConnectionStore, StoreConnections

        connections = StoreConnections(LocalConnectionStore(get_settings().data_dir))
    actions = ActionActivities(connections, blobs, connection_check)
    local = LocalActivities(definitions, blobs)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[actions.run_action, *local.all()],
        workflow_runner=workflow_runner(),
        # Results go to a run recorder of this process, when there is one.
        interceptors=[RecordFinished()],
        max_concurrent_activities=max_concurrent_activities,
        max_concurrent_local_activities=16,
        # A run started eagerly (engine/client.py) takes a workflow-task slot of this
        # worker at once; with none free, Temporal queues its first task for polling
        # instead, which under a burst of events added 10-30 s (bench/triggers.py at
        # 50/s: p99 3.9 s with 1000 slots against 20-35 s with the SDK's 100).
        # A slot is only a permit: tasks still run on the SDK's thread pool.
        max_concurrent_workflow_tasks=1000,
    )
