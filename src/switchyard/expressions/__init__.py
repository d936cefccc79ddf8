"""Expressions and templates: JavaScript (ES2020) evaluated with QuickJS-ng.

Names in scope: `Inputs`, `Steps`, `Vars`, `Trigger`, `Run`, `Item`, `Index`,
`Output` (see `Scope`). Evaluation is deterministic: `Date.now()`,
`new Date()` and `Date()` give `Scope.now_ms`, every local-time `Date` method
works in UTC, and `Math.random()` is mulberry32 whose state, at the start of
each evaluation, is a stable hash of (`Scope.seed`, `Scope.index`, the
expression text): the same expression in the same scope draws the same
numbers in every process and on every replay, and each loop iteration draws
different ones. Give each step (or run) its own `seed` for more variety.

Sandbox: no `require`, `process`, `fetch`, modules, `eval` or `Function`; the
realm and all values in scope are frozen, so an expression can neither keep
state for the next one nor change what it reads (`Inputs.x = 5` and
`arr.sort()` on scope data throw `TypeError`; copy first: `[...arr].sort()`,
`arr.toSorted()`). Each evaluation has a time limit (default 1 s of CPU, see
`configure`) and runs in a per-thread context with a memory limit (default
128 MB including cached scope values). The limits use the C `clock()`, i.e.
process CPU time: busy threads elsewhere make a limit fire sooner, never later.

Templates: `{{ expr }}`; see `render` for the text conversion and
`switchyard.expressions._template` for how the closing `}}` is found.
`script` steps (`run_script`) run in a fresh context with mutable copies.

Import cost: none beyond defining things; contexts are created on first use,
so the module can be passed through Temporal's workflow sandbox.
"""

from __future__ import annotations

from ._engine import LIMITS, configure
from ._errors import ExpressionError, ScriptError
from ._evaluate import evaluate, render
from ._scope import MISSING, Scope
from ._script import run_script
from ._syntax import check_script_syntax, check_syntax
from ._template import TemplateError, is_template, parse_template, referenced_steps
from ._template import template_expressions as _template_expressions


def template_expressions(s: str) -> list[str]:
    """The expressions inside a template string, in order.

    Raises:
        ExpressionError: an unclosed `{{` (or an unterminated literal inside one).
    """
    try:
        return _template_expressions(s)
    except TemplateError as exc:
        raise ExpressionError(f"SyntaxError: {exc}", expression=s, syntax=True) from None


def check_template(s: str) -> str | None:
    """None if every `{{ }}` in `s` is closed and holds one valid expression.

    Otherwise a short message; used by validation for templated fields.
    """
    try:
        tpl = parse_template(s)
    except TemplateError as exc:
        return f"SyntaxError: {exc}"
    for part in tpl.parts:
        if part.expr is not None:
            err = check_syntax(part.expr)
            if err is not None:
                return f"in `{{{{ {part.expr} }}}}`: {err}"
    return None


__all__ = [
    "LIMITS",
    "MISSING",
    "ExpressionError",
    "Scope",
    "ScriptError",
    "check_script_syntax",
    "check_syntax",
    "check_template",
    "configure",
    "evaluate",
    "is_template",
    "referenced_steps",
    "render",
    "run_script",
    "template_expressions",
]
