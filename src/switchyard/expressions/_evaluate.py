"""`evaluate` and `render`: the entry points the engine calls."""

from __future__ import annotations

from typing import Any

from . import _engine
from ._engine import EvalFailure
from ._errors import ExpressionError
from ._scope import Scope
from ._syntax import check_syntax
from ._template import TemplateError, parse_template, strip_braces

VALUE, TEXT = 0, 1


def evaluate(expr: str, scope: Scope, *, step: str | None = None, field: str | None = None) -> Any:
    """Evaluate a bare expression (`{{ }}` around it is accepted and means the same).

    Returns plain Python data (dict/list/str/int/float/bool/None); `undefined`,
    functions and symbols give None, and so do NaN and the infinities.

    Raises:
        ExpressionError: the expression does not parse, throws, or breaches a limit.
    """
    return _run(strip_braces(expr), scope, step, field, VALUE)


def render(value: Any, scope: Scope, *, step: str | None = None, field: str | None = None) -> Any:
    """Render templates in `value`, recursively through dicts and lists.

    A string that is exactly one `{{ expr }}` (whitespace around allowed) yields
    the value with its type. Otherwise each `{{ expr }}` is replaced by its text:
    strings as they are, objects and arrays as JSON, `null`/`undefined` as "",
    numbers as JavaScript's `String()` writes them, booleans "true"/"false".
    Dict keys are not templated; other values are returned as they are.
    """
    if isinstance(value, str):
        return _render_str(value, scope, step, field) if "{{" in value else value
    if isinstance(value, dict):
        return {
            k: render(v, scope, step=step, field=f"{field}.{k}" if field else str(k))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [
            render(v, scope, step=step, field=f"{field or ''}[{i}]") for i, v in enumerate(value)
        ]
    return value


def _render_str(s: str, scope: Scope, step: str | None, field: str | None) -> Any:
    try:
        tpl = parse_template(s)
    except TemplateError as exc:
        raise ExpressionError(
            f"SyntaxError: {exc}", step=step, field=field, expression=s, syntax=True
        ) from None
    if tpl.single:
        expr = next(p.expr for p in tpl.parts if p.expr is not None)
        return _run(expr, scope, step, field, VALUE)
    out = []
    for part in tpl.parts:
        out.append(part.text if part.expr is None else _run(part.expr, scope, step, field, TEXT))
    return "".join(out)


def _run(expr: str, scope: Scope, step: str | None, field: str | None, mode: int) -> Any:
    err = check_syntax(expr)
    if err is not None:
        raise ExpressionError(err, step=step, field=field, expression=expr, syntax=True)
    for attempt in (1, 2):
        eng = _engine.engine()
        try:
            return eng.run(eng.compile(expr), scope, mode)
        except EvalFailure as failure:
            if failure.fatal:
                _engine.discard(eng)
            # Out of memory with other values cached: retry once in a fresh context,
            # so the outcome does not depend on what this thread evaluated before.
            if failure.oom and attempt == 1:
                continue
            raise ExpressionError(
                failure.message, step=step, field=field, expression=expr
            ) from None
        except eng.JSException as exc:  # compiling (cannot fail after check_syntax) or gc
            _engine.discard(eng)
            raise ExpressionError(
                _engine.describe(exc, _engine.LIMITS).message,
                step=step,
                field=field,
                expression=expr,
            ) from None
    raise AssertionError("unreachable")
