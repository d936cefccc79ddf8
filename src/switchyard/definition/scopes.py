"""Step scopes: the top-level steps and each loop's `do:` body, with their locations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from switchyard.definition.model import (
    ApprovalStep,
    ForEachStep,
    IfStep,
    StepBase,
    SwitchStep,
    WhileStep,
    Workflow,
)
from switchyard.definition.problems import join


@dataclass(frozen=True, eq=False)
class Scope:
    """One list of steps that see each other's ids (edges stay inside it).

    Attributes:
        steps: the steps, in document order.
        location: `steps` or e.g. `steps[2].do`.
        parent: the enclosing scope (None at the top level).
        loop: the loop step whose body this is (None at the top level).
    """

    steps: list[StepBase]
    location: str
    parent: Scope | None = None
    loop: StepBase | None = None

    def step_location(self, index: int) -> str:
        return join(self.location, index)

    @property
    def ids(self) -> set[str]:
        return {s.id for s in self.steps}

    def roots(self, wf: Workflow) -> list[str]:
        """Where the scope starts: the workflow's `start`, or a body's first step."""
        return wf.start_ids() if self.parent is None else [self.steps[0].id]

    def outer(self) -> Iterator[Scope]:
        """The enclosing scopes, innermost first."""
        scope = self.parent
        while scope is not None:
            yield scope
            scope = scope.parent


def body(step: StepBase) -> list[StepBase] | None:
    """A loop step's `do:` steps, or None for other kinds."""
    if isinstance(step, ForEachStep | WhileStep):
        steps: list[StepBase] = list(step.do)
        return steps
    return None


def iter_scopes(wf: Workflow) -> Iterator[Scope]:
    """Every scope, top level first, then bodies in document order (depth first)."""
    stack = [Scope(list(wf.steps), "steps")]
    while stack:
        scope = stack.pop()
        yield scope
        inner = []
        for index, step in enumerate(scope.steps):
            steps = body(step)
            if steps is not None:
                inner.append(Scope(steps, join(scope.step_location(index), "do"), scope, step))
        stack.extend(reversed(inner))


def edge_fields(step: StepBase) -> list[tuple[str, list[str]]]:
    """(field location relative to the step, target ids) of every edge field."""
    out: list[tuple[str, list[str]]] = [("next", list(step.next))]
    if isinstance(step, IfStep):
        out += [("then", step.then), ("else", step.else_)]
    elif isinstance(step, SwitchStep):
        out += [(f"cases.{key}", ids) for key, ids in step.cases.items()]
        out.append(("default", step.default))
    elif isinstance(step, ApprovalStep):
        out += [(f"on.{key}", ids) for key, ids in step.on.items()]
    if step.on_error and step.on_error != "continue":
        out.append(("on_error", [step.on_error]))
    return [(name, ids) for name, ids in out if ids]


def id_locations(ids: list[str], location: str) -> list[tuple[str, str]]:
    """(location, id) per id: `next` for a single target, `next[1]` in a list."""
    if len(ids) == 1:
        return [(location, ids[0])]
    return [(join(location, n), target) for n, target in enumerate(ids)]
