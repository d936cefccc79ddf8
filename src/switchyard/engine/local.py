"""Local activities of the interpreter: scripts, definition look-up, blob storage.

They run in the worker process next to the workflow and cost one marker
event each. A `script` may run for seconds, which would block a workflow task
(the SDK flags a task that blocks ~2 s as a deadlock), hence a local activity.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Protocol

from temporalio import activity
from temporalio.exceptions import ApplicationError

from switchyard import errors
from switchyard.engine.activities import ActionResult
from switchyard.engine.blobs import BlobStore
from switchyard.engine.types import (
    CONCAT_ACTIVITY,
    LOAD_DEFINITION_ACTIVITY,
    SCRIPT_ACTIVITY,
    STORE_BLOB_ACTIVITY,
    BlobRequest,
    DefinitionRequest,
    ScriptCall,
)


class DefinitionSource(Protocol):
    """Where `call:` targets come from (a directory for the CLI, the store for the API)."""

    def get(self, name: str, version: int | None) -> tuple[dict[str, Any], int | None] | None: ...


class DirectorySource:
    """Definitions (`*.yaml`, `*.yml`, `*.json`) of one directory, found by `name`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def get(self, name: str, version: int | None) -> tuple[dict[str, Any], int | None] | None:
        from switchyard.definition.loader import load_workflow_file

        for path in sorted(self.directory.iterdir()):
            if path.suffix not in (".yaml", ".yml", ".json") or not path.is_file():
                continue
            wf, problems = load_workflow_file(path)
            if (
                wf is not None
                and wf.name == name
                and not any(p.severity == "error" for p in problems)
            ):
                return wf.model_dump(mode="json", by_alias=True, exclude_none=True), None
        return None


class LocalActivities:
    """Holds what the local activities need (the definition source, the blob store)."""

    def __init__(self, definitions: DefinitionSource | None, blobs: BlobStore) -> None:
        self.definitions = definitions
        self.blobs = blobs

    @activity.defn(name=SCRIPT_ACTIVITY)
    async def run_script(self, call: ScriptCall) -> ActionResult:
        from switchyard import expressions

        scope = expressions.Scope(**call.scope)
        try:
            # The sandbox enforces the time and memory limits; a thread keeps the event loop free.
            output = await asyncio.to_thread(
                expressions.run_script,
                call.body,
                scope,
                timeout_s=call.timeout,
                memory_mb=call.memory_mb,
                step=call.step,
            )
        except expressions.ExpressionError as exc:
            kind = getattr(exc, "type", errors.SCRIPT_ERROR) or errors.SCRIPT_ERROR
            raise ApplicationError(
                str(exc),
                {
                    "type": kind,
                    "message": str(exc),
                    "details": None,
                    "attempt": activity.info().attempt,
                },
                type=kind,
                non_retryable=kind in errors.NEVER_RETRIED,
            ) from None
        return ActionResult(output=self.blobs.put_if_large(output), attempt=activity.info().attempt)

    @activity.defn(name=LOAD_DEFINITION_ACTIVITY)
    async def load_definition(self, req: DefinitionRequest) -> dict[str, Any]:
        found = self.definitions.get(req.name, req.version) if self.definitions else None
        if found is None:
            where = f" version {req.version}" if req.version else ""
            return {"definition": None, "error": f"workflow {req.name!r}{where} not found"}
        definition, version = found
        return {"definition": definition, "version": version}

    @activity.defn(name=STORE_BLOB_ACTIVITY)
    async def store_blob(self, req: BlobRequest) -> Any:
        return self.blobs.put(req.value)

    @activity.defn(name=CONCAT_ACTIVITY)
    async def concat(self, req: BlobRequest) -> Any:
        """Join lists (some of them blob references) into one, stored when large."""
        joined = [x for part in req.value for x in self.blobs.resolve(part)]
        return self.blobs.put_if_large(joined)

    def all(self) -> list[Any]:
        return [self.run_script, self.load_definition, self.store_blob, self.concat]
