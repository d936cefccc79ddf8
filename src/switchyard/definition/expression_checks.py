"""Expression checks: every expression and `{{ }}` parses, and `Steps.x` can have run.

Each expression *site* knows which step ids it may read: the ancestors of its
step in its scope, plus, inside a loop body, what the loop step itself may
read (recursively). A loop's `output` and `while` condition may also read the
body's steps (they are evaluated after an iteration). The workflow `outputs`
may read every top-level step; trigger fields may read none.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from switchyard.definition import problems as P
from switchyard.definition.graph import all_ancestors
from switchyard.definition.model import (
    ActionStep,
    ApprovalStep,
    CallStep,
    EventMatch,
    FailStep,
    ForEachStep,
    IfStep,
    ScriptStep,
    SetStep,
    SleepStep,
    StepBase,
    SwitchStep,
    TransformStep,
    WhileStep,
    Workflow,
)
from switchyard.definition.problems import Problem, did_you_mean, join, short_repr
from switchyard.definition.scopes import Scope

Mode = Literal["template", "expression", "script"]


@dataclass(frozen=True)
class Site:
    """One place holding an expression, template or script body."""

    location: str
    source: str
    mode: Mode
    reader: str  # what reads it, for messages: "step 'x'", "the workflow outputs"
    visible: frozenset[str] | None  # step ids it may read; None = not checked


def _walk_templates(value: Any, location: str) -> Iterator[tuple[str, str]]:
    """(location, string) of every string inside a value (mapping keys excluded)."""
    stack: list[tuple[Any, str]] = [(value, location)]
    while stack:
        item, loc = stack.pop()
        if isinstance(item, str):
            yield loc, item
        elif isinstance(item, dict):
            stack.extend((v, join(loc, str(k))) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((v, join(loc, n)) for n, v in reversed(list(enumerate(item))))


def _step_sites(step: StepBase, loc: str) -> Iterator[tuple[str, str, Mode, bool]]:
    """(location, source, mode, reads-the-body?) of a step's own expression fields."""

    def bare(field: str, value: Any, after_body: bool = False):  # type: ignore[no-untyped-def]
        if isinstance(value, str):  # other values are literals (`while: true`, `set: {n: 1}`)
            yield join(loc, field), value, "expression", after_body

    def templated(field: str, value: Any):  # type: ignore[no-untyped-def]
        for where, text in _walk_templates(value, join(loc, field)):
            yield where, text, "template", False

    if isinstance(step, ActionStep):
        yield from templated("with", step.with_)
        yield from templated("connection", step.connection)
        if step.wait_until is not None:
            yield from bare("wait_until.condition", step.wait_until.condition)
    elif isinstance(step, IfStep):
        yield from bare("if", step.if_)
    elif isinstance(step, SwitchStep):
        yield from bare("switch", step.switch)
    elif isinstance(step, ForEachStep):
        yield from bare("for_each", step.for_each)
        yield from bare("output", step.output, True)
    elif isinstance(step, WhileStep):
        yield from bare("while", step.while_, True)
        yield from bare("output", step.output, True)
    elif isinstance(step, TransformStep):
        yield from bare("transform", step.transform)
    elif isinstance(step, ScriptStep):
        yield join(loc, "script"), step.script, "script", False
    elif isinstance(step, SetStep):
        for name, value in step.set.items():
            yield from bare(f"set.{name}", value)
    elif isinstance(step, SleepStep) and isinstance(step.sleep, str) and "{{" in step.sleep:
        yield from templated("sleep", step.sleep)
    elif isinstance(step, ApprovalStep):
        yield from templated("approval", step.approval)
    elif isinstance(step, CallStep):
        yield from templated("call", step.call)
        yield from templated("with", step.with_)
    elif isinstance(step, FailStep):
        yield from templated("fail", step.fail)


def iter_sites(wf: Workflow, scopes: list[Scope]) -> Iterator[Site]:
    """Every expression site of the workflow, with the step ids it may read."""
    visible_in: dict[int, dict[str, frozenset[str]]] = {}  # id(scope) -> step id -> visible
    for scope in scopes:  # parents come before their bodies
        inherited: frozenset[str] = frozenset()
        if scope.parent is not None and scope.loop is not None:
            inherited = visible_in[id(scope.parent)][scope.loop.id]
        ancestors = all_ancestors(scope.steps)
        table = {sid: inherited | anc for sid, anc in ancestors.items()}
        visible_in[id(scope)] = table
        for index, step in enumerate(scope.steps):
            loc = scope.step_location(index)
            body_ids = frozenset(s.id for s in getattr(step, "do", None) or [])
            for where, source, mode, after_body in _step_sites(step, loc):
                visible = table[step.id] | (body_ids if after_body else frozenset())
                if where.endswith(".wait_until.condition"):
                    visible |= {step.id}
                yield Site(where, source, mode, f"step {step.id!r}", visible)
    top = frozenset(s.id for s in wf.steps)
    for where, text in _walk_templates(wf.outputs, "outputs"):
        yield Site(where, text, "template", "the workflow outputs", top)
    for index, trigger in enumerate(wf.triggers):
        loc = join("triggers", index)
        for where, text in _walk_templates(trigger.inputs, join(loc, "inputs")):
            yield Site(where, text, "template", "a trigger", frozenset())
        for kind in ("monitor", "security_signal"):
            match = getattr(trigger, kind, None)
            if isinstance(match, EventMatch):
                yield Site(
                    join(join(loc, kind), "match"), match.match, "expression", "a trigger", None
                )


def _load_expressions() -> Any:
    try:
        return importlib.import_module("switchyard.expressions")
    except ModuleNotFoundError as exc:
        if exc.name != "switchyard.expressions":
            raise
        return None


def check_expressions(wf: Workflow, scopes: list[Scope]) -> list[Problem]:
    """Syntax problems (errors) and references to steps that cannot have run (warnings)."""
    ex = _load_expressions()
    if ex is None or not hasattr(ex, "check_syntax"):
        return [
            Problem(
                "",
                "expressions were not checked: switchyard.expressions is not available",
                "warning",
                P.CHECKS_SKIPPED,
            )
        ]
    where_is = _where_is(scopes)
    out: list[Problem] = []
    for site in iter_sites(wf, scopes):
        exprs, problems = _syntax(ex, site)
        out += problems
        if site.visible is None:
            continue
        for expr in exprs:
            out += _references(ex.referenced_steps, expr, site, where_is)
    return out


def _syntax(ex: Any, site: Site) -> tuple[list[str], list[Problem]]:
    """The site's expressions and the syntax problems found in them."""

    def problem(message: str) -> Problem:
        return Problem(site.location, message, "error", P.EXPRESSION_SYNTAX)

    if site.mode == "script":
        error = _safely(ex.check_script_syntax, site.source)
        return [], ([problem(f"script does not parse: {error}")] if error else [])
    if site.mode == "expression" and not ex.is_template(site.source):
        error = _safely(ex.check_syntax, site.source)
        if error:
            return [], [problem(f"expression {short_repr(site.source)} does not parse: {error}")]
        return [site.source], []
    if not ex.is_template(site.source):
        return [], []
    try:
        exprs = ex.template_expressions(site.source)
    except Exception as exc:  # the expressions package's ExpressionError, TemplateError
        return [], [problem(f"template does not parse: {exc}")]
    out, good = [], []
    for expr in exprs:
        error = _safely(ex.check_syntax, expr)
        if error:
            out.append(
                problem(f"expression {short_repr('{{ ' + expr + ' }}')} does not parse: {error}")
            )
        else:
            good.append(expr)
    return good, out


def _safely(check: Callable[[str], str | None], source: str) -> str | None:
    """A checker's answer; a checker that raises counts as a syntax error, never a crash."""
    try:
        return check(source)
    except Exception as exc:
        return str(exc) or type(exc).__name__


def _where_is(scopes: list[Scope]) -> dict[str, Scope]:
    out: dict[str, Scope] = {}
    for scope in scopes:
        for step in scope.steps:
            out.setdefault(step.id, scope)
    return out


def _references(
    referenced: Callable[[str], set[str]], expr: str, site: Site, where_is: dict[str, Scope]
) -> list[Problem]:
    assert site.visible is not None
    out = []
    for name in sorted(referenced(expr) - site.visible):
        scope = where_is.get(name)
        if scope is None:
            message = f"Steps.{name}: there is no step {name!r}{did_you_mean(name, where_is)}"
            code = P.UNKNOWN_REFERENCE
        elif site.reader == "a trigger":
            message = f"Steps.{name}: no step has run when a trigger fires"
            code = P.REFERENCE_NOT_ANCESTOR
        elif scope.loop is not None and not _inside(site.location, scope.location):
            message = (
                f"Steps.{name} is inside the do: of {scope.loop.id!r}; outside the loop "
                f"only Steps.{scope.loop.id}.output is visible"
            )
            code = P.REFERENCE_NOT_ANCESTOR
        else:
            message = (
                f"Steps.{name} cannot have run before {site.reader}: "
                f"{name!r} is not an ancestor of it"
            )
            code = P.REFERENCE_NOT_ANCESTOR
        out.append(Problem(site.location, message, "warning", code))
    return out


def _inside(location: str, scope_location: str) -> bool:
    return location.startswith(scope_location + "[")
