"""Inputs and results of the interpreter workflows and local activities.

One dataclass per workflow / activity input (STYLE.md, samples-python
`hello/`): fields can be added with defaults without breaking replay of
recorded histories. Everything here is plain JSON data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Workflow type names (stable: recorded histories and running workflows refer to them).
RUN_WORKFLOW = "switchyard.run"
LOOP_WORKFLOW = "switchyard.loop"
#: Activity names.
ACTION_ACTIVITY = "switchyard.action"
SCRIPT_ACTIVITY = "switchyard.script"
LOAD_DEFINITION_ACTIVITY = "switchyard.load_definition"
STORE_BLOB_ACTIVITY = "switchyard.store_blob"
#: Query and update names.
STATE_QUERY = "state"
APPROVE_UPDATE = "approve"


@dataclass
class RunInput:
    """What a run needs; resolved entirely before submission (flags included)."""

    definition: dict[str, Any]
    inputs: dict[str, Any] = field(default_factory=dict)
    trigger: dict[str, Any] = field(default_factory=lambda: {"type": "manual"})
    version: int | None = None
    #: Feature flags, resolved by the client at submission (replay never consults a flag service).
    flags: dict[str, Any] = field(default_factory=dict)
    #: Set when the run continues as new: the interpreter state to resume from.
    resume: dict[str, Any] | None = None


@dataclass
class LoopInput:
    """A `for_each` range or a `while` loop run as a child workflow.

    `scope` holds what the body sees from outside: `inputs`, `steps` (outer step
    states), `vars`, `trigger`, `run`, and `item`/`index` of enclosing loops are
    not visible (only the innermost loop's `Item`/`Index` are in scope).
    """

    step: dict[str, Any]
    scope: dict[str, Any]
    path: str
    flags: dict[str, Any] = field(default_factory=dict)
    #: for_each: the items of this range, and the index of the first one.
    items: list[Any] | dict[str, Any] | None = None
    offset: int = 0
    concurrency: int = 1
    #: Set when the loop continues as new: finished iterations and loop state.
    resume: dict[str, Any] | None = None


@dataclass
class LoopResult:
    """Iterations in index order (`{index, status, steps, output, vars}`), or a blob reference."""

    iterations: list[dict[str, Any]] | dict[str, Any]
    vars: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScriptCall:
    body: str
    scope: dict[str, Any]
    timeout: float = 5.0
    memory_mb: int = 64
    step: str = ""


@dataclass
class DefinitionRequest:
    name: str
    version: int | None = None


@dataclass
class BlobRequest:
    value: Any


def iteration_view(it: dict[str, Any]) -> dict[str, Any]:
    """An iteration as the run JSON shows it: `{index, status, steps}` (+ `error`)."""
    view = {"index": it["index"], "status": it["status"], "steps": it.get("steps", {})}
    if it.get("error"):
        view["error"] = it["error"]
    return view
