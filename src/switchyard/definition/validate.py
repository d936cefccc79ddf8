"""Graph and semantic validation of a parsed workflow (spec, "Validation").

`validate_document` = `parse_workflow` + `validate_workflow`. Problems carry a
location, a message naming the ids involved, a severity and a stable `code`
(see `problems.py`).
"""

from __future__ import annotations

import re
from os import PathLike
from pathlib import Path
from typing import Any

from switchyard.definition import problems as P
from switchyard.definition.durations import parse_duration
from switchyard.definition.expression_checks import check_expressions
from switchyard.definition.graph import find_cycles, reachable
from switchyard.definition.inputs import check_declarations, validate_inputs
from switchyard.definition.loader import (
    LoadError,
    load_text,
    parse_workflow,
    partial_workflow,
    read_text,
)
from switchyard.definition.model import (
    BRANCHING_KINDS,
    WORKFLOW_NAME_PATTERN,
    ActionStep,
    ApprovalStep,
    CallStep,
    ForEachStep,
    SleepStep,
    StepBase,
    WhileStep,
    Workflow,
)
from switchyard.definition.problems import Problem, did_you_mean, join
from switchyard.definition.pydantic_problems import dedupe, type_name
from switchyard.definition.scopes import Scope, edge_fields, id_locations, iter_scopes
from switchyard.definition.triggers import check_triggers, trigger_ids

__all__ = [
    "Problem",
    "trigger_ids",
    "validate_document",
    "validate_file",
    "validate_inputs",
    "validate_text",
    "validate_workflow",
]

_NAME = re.compile(WORKFLOW_NAME_PATTERN)


def validate_workflow(wf: Workflow) -> list[Problem]:
    """Every graph and semantic problem of a parsed workflow (errors and warnings)."""
    scopes = list(iter_scopes(wf))
    where = _inner_locations(scopes)
    problems: list[Problem] = []
    problems += _check_start(wf, scopes[0], where)
    for scope in scopes:
        problems += _check_scope(wf, scope, where)
        for index, step in enumerate(scope.steps):
            problems += _check_step(step, scope.step_location(index))
    problems += check_declarations(wf)
    problems += check_triggers(wf)
    problems += check_expressions(wf, scopes)
    return sorted(dedupe(problems), key=_document_order)


_STEP_INDEX = re.compile(r"(?:^steps|\.do)\[(\d+)\]")


def _document_order(problem: Problem) -> tuple[int, ...]:
    """Problems outside `steps` first, then by step (a body's after its loop step's)."""
    if not problem.location.startswith("steps["):
        return (0,)
    return (1, *(int(n) for n in _STEP_INDEX.findall(problem.location)))


def validate_document(data: Any) -> tuple[Workflow | None, list[Problem]]:
    """Parse loaded data and validate it; the workflow is None when it could not be built.

    When some steps do not fit their kind, the graph is still checked with
    stand-ins for them (`loader.partial_workflow`), so one run reports every
    problem: the broken steps' own and the rest of the graph's.
    """
    wf, problems = parse_workflow(data)
    if wf is None:
        return None, problems + _graph_problems_despite(data, problems)
    return wf, validate_workflow(wf)


def _graph_problems_despite(data: Any, found: list[Problem]) -> list[Problem]:
    partial, stand_ins = partial_workflow(data)
    if partial is None:
        return []
    seen = {(p.location, p.message) for p in found}
    return [
        p
        for p in validate_workflow(partial)
        if not any(_within(p.location, loc) for loc in stand_ins)
        and (p.location, p.message) not in seen
    ]


def _within(location: str, prefix: str) -> bool:
    return location == prefix or location.startswith((f"{prefix}.", f"{prefix}["))


def validate_text(text: str, *, filename: str = "<input>") -> tuple[Workflow | None, list[Problem]]:
    """Load YAML/JSON text, parse and validate it."""
    try:
        data = load_text(text, filename=filename)
    except LoadError as exc:
        return None, exc.problems
    return validate_document(data)


def validate_file(path: str | PathLike[str]) -> tuple[Workflow | None, list[Problem]]:
    """Read a definition file, parse and validate it (never raises for bad input)."""
    text, problems = read_text(path)
    if text is None:
        return None, problems
    return validate_text(text, filename=Path(path).name)


# ---------------------------------------------------------------- ids and edges


def _inner_locations(scopes: list[Scope]) -> dict[str, str]:
    """Id -> loop step id for every step inside a body (first occurrence)."""
    out: dict[str, str] = {}
    for scope in scopes:
        if scope.loop is not None:
            for step in scope.steps:
                out.setdefault(step.id, scope.loop.id)
    return out


def _unknown_target(target: str, scope: Scope, where: dict[str, str]) -> tuple[str, str]:
    """(message, code) for an edge to an id that is not in the scope."""
    for outer in scope.outer():
        if target in outer.ids:
            loop = scope.loop.id if scope.loop is not None else "?"
            return (
                f"step {target!r} is outside the do: of {loop!r}; "
                "edges cannot leave a do: scope (the loop's own next continues after it)",
                P.EDGE_LEAVES_SCOPE,
            )
    if target in where:
        return (
            f"unknown step {target!r}: it is inside the do: of {where[target]!r}, "
            "and edges cannot enter a do: scope",
            P.UNKNOWN_STEP,
        )
    return f"unknown step {target!r}{did_you_mean(target, scope.ids)}", P.UNKNOWN_STEP


def _check_start(wf: Workflow, top: Scope, where: dict[str, str]) -> list[Problem]:
    out = []
    for loc, target in id_locations(list(wf.start), "start"):
        if target not in top.ids:
            message, code = _unknown_target(target, top, where)
            out.append(Problem(loc, message, code=code))
    return out


def _check_scope(wf: Workflow, scope: Scope, where: dict[str, str]) -> list[Problem]:
    out: list[Problem] = []
    ids = scope.ids
    first: dict[str, int] = {}
    for index, step in enumerate(scope.steps):
        loc = scope.step_location(index)
        if step.id in first:
            out.append(
                Problem(
                    join(loc, "id"),
                    f"duplicate step id {step.id!r} (also {scope.step_location(first[step.id])})",
                    code=P.DUPLICATE_ID,
                )
            )
        else:
            first[step.id] = index
        if step.kind in BRANCHING_KINDS and step.next:
            out.append(
                Problem(
                    join(loc, "next"),
                    f"{step.kind!r} step {step.id!r} routes with {_routing(step.kind)} "
                    "and cannot have next",
                    code=P.NEXT_ON_BRANCHING,
                )
            )
        if step.on_error == "continue" and "continue" in ids:
            out.append(
                Problem(
                    join(loc, "on_error"),
                    "on_error: continue is ambiguous here because a step is named 'continue'; "
                    "rename that step",
                    code=P.ON_ERROR_AMBIGUOUS,
                )
            )
        for field, targets in edge_fields(step):
            for target_loc, target in id_locations(targets, join(loc, field)):
                if target not in ids:
                    message, code = _unknown_target(target, scope, where)
                    out.append(Problem(target_loc, message, code=code))
    for cycle in find_cycles(scope.steps):
        index = next(n for n, s in enumerate(scope.steps) if s.id == cycle[0])
        out.append(
            Problem(
                scope.step_location(index),
                f"cycle: {' -> '.join([*cycle, cycle[0]])} (repeat with for_each or while)",
                code=P.CYCLE,
            )
        )
    roots = [r for r in scope.roots(wf) if r in ids]
    if roots:
        seen = reachable(scope.steps, roots)
        start = ", ".join(roots)
        for index, step in enumerate(scope.steps):
            if step.id not in seen:
                out.append(
                    Problem(
                        scope.step_location(index),
                        f"step {step.id!r} is unreachable: no edge leads to it from {start}",
                        code=P.UNREACHABLE,
                    )
                )
    return out


def _routing(kind: str) -> str:
    return {"if": "then/else", "switch": "cases/default", "approval": "on"}[kind]


# ---------------------------------------------------------------- per-step semantics


def _check_step(step: StepBase, loc: str) -> list[Problem]:
    if isinstance(step, ActionStep):
        return _check_action(step, loc)
    if isinstance(step, SleepStep):
        return _check_sleep(step, loc)
    if isinstance(step, ApprovalStep):
        allowed = [*step.choices, "timeout"]
        return [
            Problem(
                join(join(loc, "on"), key),
                f"{key!r} is not a choice of step {step.id!r} "
                f"(choices: {', '.join(step.choices)}, or timeout){did_you_mean(key, allowed)}",
                code=P.UNKNOWN_CHOICE,
            )
            for key in step.on
            if key not in allowed
        ]
    if isinstance(step, ForEachStep) and not isinstance(step.for_each, str | list):
        return [
            Problem(
                join(loc, "for_each"),
                f"expected an expression or a list, got {type_name(step.for_each)}",
            )
        ]
    if isinstance(step, WhileStep) and not isinstance(step.while_, str | bool):
        return [
            Problem(
                join(loc, "while"),
                f"expected an expression or true/false, got {type_name(step.while_)}",
            )
        ]
    if isinstance(step, CallStep) and "{{" not in step.call and not _NAME.match(step.call):
        return [
            Problem(
                join(loc, "call"),
                f"{step.call!r} is not a workflow name (lower-case letters, digits and -)",
                code=P.BAD_WORKFLOW_NAME,
            )
        ]
    return []


def _check_sleep(step: SleepStep, loc: str) -> list[Problem]:
    value = step.sleep
    try:
        if isinstance(value, str):
            if "{{" not in value:
                parse_duration(value)
        elif isinstance(value, bool) or value < 0:
            raise ValueError(f"a sleep cannot be negative: {value!r}")
    except ValueError as exc:
        return [Problem(join(loc, "sleep"), str(exc), code=P.BAD_DURATION)]
    return []


def _check_action(step: ActionStep, loc: str) -> list[Problem]:
    from switchyard import actions  # imported on use: keeps `switchyard --help` fast

    try:
        spec = actions.get_action(step.action)
    except KeyError:
        known = actions.action_types()
        return [
            Problem(
                join(loc, "action"),
                f"unknown action type {step.action!r}{did_you_mean(step.action, known)}",
                code=P.UNKNOWN_ACTION,
            )
        ]
    fields = [f.alias or name for name, f in spec.input_model.model_fields.items()]
    out = []
    for where, message in actions.validate_params(step.action, step.with_):
        parts = where.split(".")
        name = parts[-1]
        if message == "Extra inputs are not permitted":
            text = f"unknown parameter {name!r} for {step.action}"
            text += did_you_mean(name, fields) if len(parts) == 2 else ""
            code = P.UNKNOWN_PARAMETER
        elif message == "Field required":
            text = f"missing required parameter {name!r} for {step.action}"
            code = P.MISSING_PARAMETER
        else:
            text, code = f"bad value for {step.action}: {message}", P.BAD_PARAMETER
        out.append(Problem(join(loc, where), text, code=code))
    return out
