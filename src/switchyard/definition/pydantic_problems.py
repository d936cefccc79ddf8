"""Turn pydantic validation errors into located, readable problems."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from switchyard.definition import problems as P
from switchyard.definition.problems import Problem, did_you_mean, join, short_repr

#: Pydantic's names for the members of a plain union (`str | int | float`).
_UNION_TAGS = {"str", "int", "float", "bool", "list", "dict", "none"}

_EXPECTED = {
    "string_type": "text",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
}


def type_name(value: Any) -> str:
    """How a user would name the type of a YAML/JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _got(value: Any) -> str:
    if isinstance(value, dict | list | tuple):
        return type_name(value)
    return f"{type_name(value)} {short_repr(value)}"


def _location(base: str, loc: Sequence[int | str]) -> str:
    out = base
    for part in loc:
        out = join(out, part)
    return out


def _allowed_fields(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_at(model: type[BaseModel] | None, loc: Sequence[int | str]) -> type[BaseModel] | None:
    """The model class validating the value at `loc` below `model` (None if not a model)."""
    for part in loc:
        if model is None or not isinstance(part, str):
            return None
        fields = {f.alias or name: f for name, f in model.model_fields.items()}
        if part not in fields:
            return None
        ann = fields[part].annotation
        candidates = [ann, *getattr(ann, "__args__", ())]
        model = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
    return model


def _not_a_field(model: type[BaseModel] | None) -> str:
    if model is None:
        return ""
    kind = getattr(model, "KIND", "")
    fields = ", ".join(_allowed_fields(model))
    owner = f"{kind!r} steps" if kind else model.__name__
    return f"; {owner} have: {fields}" if kind else f"; {owner} has: {fields}"


_EDGE_FIELDS = {"next", "then", "else", "default", "start"}


def _is_edge(loc: Sequence[int | str]) -> bool:
    if not loc:
        return False
    if loc[-1] in _EDGE_FIELDS:
        return True
    return len(loc) >= 2 and loc[-2] in ("cases", "on")


def _message(err: ErrorDetails, model: type[BaseModel] | None) -> tuple[str, str]:
    """(message, code) of one pydantic error."""
    kind = err["type"]
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    value = err.get("input")
    field = str(err["loc"][-1]) if err["loc"] else ""
    if kind == "missing":
        return "is required", P.MISSING_FIELD
    if kind == "extra_forbidden":
        owner = _model_at(model, err["loc"][:-1])
        hint = did_you_mean(field, _allowed_fields(owner))
        return f"unknown field {field!r}{hint or _not_a_field(owner)}", P.UNKNOWN_FIELD
    if kind == "list_type" and _is_edge(err["loc"]):
        return f"expected a step id or a list of step ids, got {_got(value)}", P.SCHEMA
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {_got(value)}", P.SCHEMA
    if kind == "literal_error":
        return f"expected {ctx.get('expected', 'another value')}, got {_got(value)}", P.SCHEMA
    if kind == "string_pattern_mismatch":
        if field == "id":
            return (
                f"{short_repr(value)} is not a valid id: use letters, digits and _, "
                "not starting with a digit, at most 64 characters",
                P.SCHEMA,
            )
        if field == "name":
            return (
                f"{short_repr(value)} is not a valid workflow name: lower-case letters, "
                "digits and -, starting with a letter, at most 63 characters",
                P.SCHEMA,
            )
        return f"{short_repr(value)} does not match {ctx.get('pattern')}", P.SCHEMA
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        word = "at least" if kind == "greater_than_equal" else "more than"
        return f"must be {word} {bound}, got {short_repr(value)}", P.SCHEMA
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        word = "at most" if kind == "less_than_equal" else "less than"
        return f"must be {word} {bound}, got {short_repr(value)}", P.SCHEMA
    if kind == "too_short":
        return "must not be empty", P.SCHEMA
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items", P.SCHEMA
    if kind in ("value_error", "assertion_error"):
        text = str(ctx.get("error") or err["msg"]).removeprefix("Value error, ")
        code = P.BAD_DURATION if "duration" in text else P.SCHEMA
        return text, code
    if kind == "recursion_loop":
        return "the value refers to itself", P.SCHEMA
    return err["msg"], P.SCHEMA


def problems_from_error(
    exc: ValidationError, base: str, model: type[BaseModel] | None = None
) -> list[Problem]:
    """Located problems of a ValidationError raised validating `model` at `base`.

    Errors of the members of a plain union (`sleep: str | int | float`) are
    merged into one `expected text or a number` problem.
    """
    out: list[Problem] = []
    unions: dict[tuple[Any, ...], list[ErrorDetails]] = {}
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        if len(loc) >= 2 and isinstance(loc[-1], str) and loc[-1] in _UNION_TAGS:
            unions.setdefault(loc[:-1], []).append(err)
            continue
        message, code = _message(err, model)
        out.append(Problem(_location(base, loc), message, "error", code))
    for loc, errs in unions.items():
        expected = [_EXPECTED.get(e["type"]) for e in errs]
        if "a number" in expected:
            expected = [e for e in expected if e != "an integer"]
        names = " or ".join(dict.fromkeys(e for e in expected if e))
        if len(errs) == 1 or not names:
            for e in errs:
                message, code = _message(e, model)
                out.append(Problem(_location(base, loc), message, "error", code))
            continue
        value = errs[0].get("input")
        out.append(Problem(_location(base, loc), f"expected {names}, got {_got(value)}"))
    return out


def dedupe(problems: Iterable[Problem]) -> list[Problem]:
    """Drop repeated problems, keeping the first occurrence's position."""
    return list(dict.fromkeys(problems))
