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
CONCAT_ACTIVITY = "switchyard.concat"
#: Query and update names.
STATE_QUERY = "state"
APPROVE_UPDATE = "approve"
#: Task queues of private runners: a step with `runner: <name>` runs its action there.
RUNNER_QUEUE_PREFIX = "switchyard-runner-"


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
    #: Rerun from the failed step: top-level step id -> the state that step reached in
    #: the earlier run (`status: succeeded`, `output`, `attempts`, timestamps). Those
    #: steps are taken as succeeded with that output, without executing them.
    reuse: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The user id the run executes as; each action checks its connection against it
    #: (`ActionActivities(connection_check=...)`). None: no check (CLI runs).
    identity: str | None = None


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
    #: A range run for a splitting parent: its iteration details always go to the
    #: blob store, so no parent history carries them.
    detached: bool = False
    #: The run's identity (`RunInput.identity`), for the actions of the body.
    identity: str | None = None


#: Failed iterations a loop reports in full (the count covers the rest).
MAX_REPORTED_FAILURES = 100


@dataclass
class LoopResult:
    """What a loop (or a range of one) hands back to its parent.

    Kept compact on purpose: a parent workflow task must stay short however
    many items there were, so iteration details stay in the blob store.
    """

    #: Iteration details in index order (`{index, status, steps, error?}`): a list,
    #: a blob reference, or `{"$parts": [list | reference, ...]}`.
    iterations: Any
    vars: dict[str, Any] = field(default_factory=dict)
    #: Per-iteration outputs in index order: a list or a blob reference.
    outputs: Any = None
    #: The first failed iterations, `{index, error}`, in index order.
    failures: list[dict[str, Any]] = field(default_factory=list)
    failed_count: int = 0
    count: int = 0


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


def runner_queue(name: str) -> str:
    """The task queue a private runner polls, and where `runner: <name>` steps go."""
    return f"{RUNNER_QUEUE_PREFIX}{name}"
