"""Starting and reading runs: what the runs API (and the trigger dispatcher) build on.

`start_run` claims the run in the event store *before* it starts it in
Temporal: the row's unique (workflow, idempotency key) makes a second start
with the same key impossible, concurrently too, and the deterministic run id
(derived from the key) makes Temporal refuse a duplicate as well. `read_run`
answers from Temporal while a run runs (live, loops included) and from the
event store once it has finished, or once Temporal no longer has it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from switchyard.control import runs as store
from switchyard.control.db import Database
from switchyard.control.runs_live import read_run as read_temporal
from switchyard.control.runs_live import start_input
from switchyard.control.timestamps import iso, now
from switchyard.definition.inputs import validate_inputs
from switchyard.definition.loader import parse_workflow
from switchyard.definition.problems import Problem
from switchyard.engine import client as engine

__all__ = [
    "RunRefused",
    "Started",
    "connection_check",
    "definition_of",
    "read_run",
    "run_id_for",
    "start_run",
]

#: Namespace of run ids derived from idempotency keys.
_KEYED = uuid.UUID("6f1d4b5e-2a57-4c1e-9a3c-5d0f6a2b7e11")


class RunRefused(ValueError):
    """A run not started: its inputs (or its definition) are invalid; one problem per field."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class Started:
    """The run JSON of a start, and whether it started now (False: the key's earlier run)."""

    run: dict[str, Any]
    created: bool


def run_id_for(workflow: str, idempotency_key: str | None) -> str:
    """A new run id: random, or derived from the idempotency key (the same key, the same id)."""
    if idempotency_key is None:
        return str(uuid.uuid4())
    return str(uuid.uuid5(_KEYED, f"{workflow}\n{idempotency_key}"))


def definition_of(definition: dict[str, Any]) -> Any:
    """The typed model of a stored definition; RunRefused when it no longer parses."""
    wf, problems = parse_workflow(definition)
    if wf is None:
        raise RunRefused([p for p in problems if p.severity == "error"] or problems)
    return wf


def _initial(
    run_id: str, wf: Any, version: int | None, inputs: dict[str, Any], trigger: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": run_id,
        "workflow": wf.name,
        "version": version,
        "status": "running",
        "inputs": inputs,
        "outputs": None,
        "error": None,
        "trigger": trigger,
        "started_at": iso(now()),
        "finished_at": None,
        "steps": {s.id: {"status": "pending"} for s in wf.steps},
    }


async def start_run(
    db: Database,
    client: Client,
    *,
    task_queue: str,
    definition: dict[str, Any],
    version: int | None,
    inputs: dict[str, Any],
    trigger: dict[str, Any],
    identity: str | None,
    idempotency_key: str | None = None,
    rerun_of: str | None = None,
    reuse: dict[str, dict[str, Any]] | None = None,
) -> Started:
    """Validate the inputs, claim the run in the event store, start it in Temporal.

    Raises:
        RunRefused: the inputs don't satisfy the declaration (nothing was started).
        RPCError: Temporal refused the start (the claim is withdrawn).
    """
    wf = definition_of(definition)
    resolved, problems = validate_inputs(wf, inputs)
    if problems:
        raise RunRefused(problems)
    run_id = run_id_for(wf.name, idempotency_key)
    run = _initial(run_id, wf, version, resolved, trigger)
    for attempt in range(3):
        try:
            async with db.session() as session:
                await store.create_run(
                    session,
                    run,
                    identity=identity,
                    idempotency_key=idempotency_key,
                    rerun_of=rerun_of,
                )
            break
        except IntegrityError:
            if idempotency_key is None or attempt == 2:
                raise
        async with db.session() as session:
            existing = await store.find_by_key(session, wf.name, idempotency_key)
        if existing is not None:
            return Started(
                await read_run(db, client, existing.id) or store.run_json(existing), False
            )
        # The claim was withdrawn by a start that failed meanwhile: claim it again.
    try:
        await engine.start_run(
            client,
            wf,
            resolved,
            task_queue=task_queue,
            trigger=trigger,
            version=version,
            run_id=run_id,
            identity=identity,
            reuse=reuse,
        )
    except WorkflowAlreadyStartedError:
        pass  # an earlier attempt with this key started it; the claim is ours now
    except BaseException:
        async with db.session() as session:
            await store.delete_run(session, run_id)
        raise
    return Started({**run, "identity": identity, "rerun_of": rerun_of}, True)


async def read_run(db: Database, client: Client | None, run_id: str) -> dict[str, Any] | None:
    """The run JSON: live from Temporal while it runs, else from the event store.

    None when neither knows the run.
    """
    async with db.session() as session:
        row = await store.get_run(session, run_id)
    stored = store.run_json(row) if row is not None else None
    if (stored is not None and row is not None and row.status in store.FINAL) or client is None:
        return stored
    try:
        live = await read_temporal(client, run_id, previous=stored)
    except (RPCError, TimeoutError):
        return stored  # Temporal unreachable: the last recorded state
    if live is None or live.snapshot is None:
        return stored
    merged = dict(live.snapshot)
    if row is not None:
        merged.update(identity=row.identity, rerun_of=row.rerun_of)
        merged["version"] = merged.get("version") or row.version
    else:
        inp = await start_input(client, run_id) or {}
        merged.update(identity=inp.get("identity"), rerun_of=None)
    return merged


def connection_check(db: Database) -> Any:
    """The worker's `connection_check`: may the run's identity use a connection?

    `connections_use` by the identity's role or a grant on the connection
    (`control.auth.allowed`); an unknown or disabled user may use none.
    """
    from switchyard.control import auth
    from switchyard.control.permissions import Permission

    async def check(identity: str, connection: str) -> bool:
        async with db.session() as session:
            return await auth.allowed(
                session, identity, Permission.CONNECTIONS_USE, "connection", connection
            )

    return check
