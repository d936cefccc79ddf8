"""Runs this process's worker just finished, handed to the run recorder of the same process.

In `switchyard up` the engine worker and the API's run recorder share a
process. The recorder learns that a run closed from Temporal's visibility,
as before, but takes the run's result and start input from here instead of
reading its history back from the server: one history read cost the Temporal
dev server about 2 ms of CPU and this process about 1 ms per run, 15% of
what a short run cost in all (bench/triggers.py). When the recorder runs in
another process (or this one restarted), nothing is here and it reads the
history as before.

What is kept is what the workflow returned on its last (not replayed)
execution for that workflow id: a completion Temporal refused is followed by
another execution, which replaces it, and a replay returns the same value.
The store is bounded (oldest dropped first) and only fills while a recorder
in this process has switched it on.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from temporalio import workflow
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from switchyard.engine.types import RunInput

__all__ = ["FINISHED", "FinishedRuns", "RecordFinished"]


class FinishedRuns:
    """Workflow id -> (`{identity, definition}` of its start input, its result), bounded."""

    def __init__(self, capacity: int = 1_000) -> None:
        self.capacity = capacity
        #: Off until a recorder in this process asks for the results.
        self.enabled = False
        self._runs: OrderedDict[str, tuple[dict[str, Any], Any]] = OrderedDict()
        self._lock = threading.Lock()  # workflow code runs on the worker's threads

    def put(self, run_id: str, start: dict[str, Any], result: Any) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._runs[run_id] = (start, result)
            self._runs.move_to_end(run_id)
            while len(self._runs) > self.capacity:
                self._runs.popitem(last=False)

    def take(self, run_id: str) -> tuple[dict[str, Any], Any] | None:
        """The run's start input and result, once (None when this process did not finish it).

        As JSON data, copied: what a history read would give, sharing nothing
        with the workflow instance the worker may still hold.
        """
        with self._lock:
            found = self._runs.pop(run_id, None)
        if found is None:
            return None
        start, result = json.loads(json.dumps(found, default=str))
        return start, result

    def clear(self) -> None:
        with self._lock:
            self._runs.clear()

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._runs

    def __len__(self) -> int:
        return len(self._runs)


#: The process's store, filled by `RecordFinished` and read by the run recorder.
FINISHED = FinishedRuns()


class RecordFinished(Interceptor):
    """Worker interceptor: a run's result goes to `FINISHED` as its workflow returns it."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        return _Inbound


class _Inbound(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        result = await super().execute_workflow(input)
        given = input.args[0] if input.args else None
        # Only an in-memory note: it issues no command and changes nothing the
        # workflow decides, so replays stay deterministic.
        if FINISHED.enabled and isinstance(given, RunInput) and not workflow.unsafe.is_replaying():
            start = {"identity": given.identity, "definition": given.definition}
            FINISHED.put(workflow.info().workflow_id, start, result)
        return result
