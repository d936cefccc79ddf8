"""`Scope`: the names visible to one evaluation.

A Scope is immutable, and so must be the values handed to it: the engine converts
each top-level value (and each step's state) to a JavaScript object once per
thread and reuses it for every evaluation that sees the same Scope, or a Scope
derived from it with `with_`/`with_step` (derived scopes share the cache entries
of the parts they did not change). To change something, derive a new Scope;
never mutate a dict after putting it in a Scope.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, fields
from typing import Any

_tokens = itertools.count(1)  # next() on itertools.count is atomic under the GIL

# Fields whose value is converted to JavaScript (and so carries a cache token).
VALUE_FIELDS = ("inputs", "vars", "trigger", "run", "item", "output")


class _Missing:
    """Marks a name that is not defined in this scope (JavaScript `undefined`)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True, eq=False)
class Scope:
    """The names in scope for one evaluation; all values plain JSON-compatible data.

    Attributes:
        inputs: `Inputs`.
        steps: `Steps`: step id -> {"output", "status", "error", "attempts",
            "started_at", "finished_at"}.
        vars: `Vars`.
        trigger: `Trigger` (`{type, event, ...}`).
        run: `Run` (`{id, workflow, version, started_at}`).
        item: `Item` inside a `for_each` body (MISSING elsewhere: `undefined`).
        index: `Index` inside a loop body (None elsewhere: `undefined`).
        output: `Output` in `wait_until` (MISSING elsewhere).
        now_ms: the run's logical time in ms since the epoch: `Date.now()` and `new Date()`.
        seed: seeds `Math.random()` (see `switchyard.expressions` for the exact rule).
    """

    inputs: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)
    trigger: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)
    item: Any = MISSING
    index: int | None = None
    output: Any = MISSING
    now_ms: int = 0
    seed: int = 0
    # Cache tokens: one per value field, one per step state, one for the Steps object.
    _tokens: dict[str, int] = field(init=False, repr=False, compare=False)
    _step_tokens: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tokens = {name: next(_tokens) for name in VALUE_FIELDS}
        tokens["steps"] = next(_tokens)
        object.__setattr__(self, "_tokens", tokens)
        object.__setattr__(self, "_step_tokens", {sid: next(_tokens) for sid in self.steps})

    def with_(self, **changes: Any) -> Scope:
        """A copy with some fields replaced; unchanged values keep their converted form.

        Example: `scope.with_(item=x, index=i)` for a loop iteration.
        """
        new = object.__new__(Scope)
        for f in fields(self):
            if f.init:
                object.__setattr__(new, f.name, changes.pop(f.name, getattr(self, f.name)))
        if changes:
            raise TypeError(f"unknown Scope field(s): {', '.join(sorted(changes))}")
        tokens = dict(self._tokens)
        for name in VALUE_FIELDS:
            if getattr(new, name) is not getattr(self, name):
                tokens[name] = next(_tokens)
        step_tokens = self._step_tokens
        if new.steps is not self.steps:
            old = self.steps
            step_tokens = {
                sid: self._step_tokens[sid] if sid in old and old[sid] is state else next(_tokens)
                for sid, state in new.steps.items()
            }
            tokens["steps"] = next(_tokens)
        object.__setattr__(new, "_tokens", tokens)
        object.__setattr__(new, "_step_tokens", step_tokens)
        return new

    def with_step(self, step_id: str, state: dict[str, Any]) -> Scope:
        """A copy where `Steps.<step_id>` is `state`; the other steps are shared."""
        new = self.with_(steps={**self.steps, step_id: state})
        return new

    def with_steps(self, states: dict[str, dict[str, Any]]) -> Scope:
        """A copy with several step states added or replaced."""
        return self.with_(steps={**self.steps, **states})
