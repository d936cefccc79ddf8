"""Run inputs: checking values against the declaration, applying defaults."""

from __future__ import annotations

import copy
import math
from typing import Any

from switchyard.definition import problems as P
from switchyard.definition.model import InputSpec, Workflow
from switchyard.definition.problems import Problem, did_you_mean, join, short_repr
from switchyard.definition.pydantic_problems import type_name

_EXPECTED = {
    "string": "text",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "object": "an object (a mapping)",
    "array": "an array (a list)",
}


def _fits(value: Any, type_: str) -> bool:
    if type_ == "string":
        return isinstance(value, str)
    if type_ == "boolean":
        return isinstance(value, bool)
    if type_ == "integer":
        if isinstance(value, float):
            return math.isfinite(value) and value.is_integer()
        return isinstance(value, int) and not isinstance(value, bool)
    if type_ == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_ == "object":
        return isinstance(value, dict)
    if type_ == "array":
        return isinstance(value, list)
    return True


def _got(value: Any) -> str:
    if isinstance(value, dict | list):
        return type_name(value)
    return f"{type_name(value)} {short_repr(value)}"


def check_value(spec: InputSpec, value: Any, location: str, code: str) -> list[Problem]:
    """Problems of `value` against one input declaration (type, items, enum)."""
    if not _fits(value, spec.type):
        return [Problem(location, f"expected {_EXPECTED[spec.type]}, got {_got(value)}", code=code)]
    out: list[Problem] = []
    if spec.type == "array" and spec.items is not None:
        for index, item in enumerate(value):
            if not _fits(item, spec.items):
                out.append(
                    Problem(
                        join(location, index),
                        f"expected {_EXPECTED[spec.items]}, got {_got(item)}",
                        code=code,
                    )
                )
    if spec.enum is not None and value not in spec.enum:
        choices = ", ".join(short_repr(v, 30) for v in spec.enum)
        out.append(Problem(location, f"{short_repr(value)} is not one of {choices}", code=code))
    return out


def _normalize(spec: InputSpec, value: Any) -> Any:
    if spec.type == "integer" and isinstance(value, float):
        return int(value)
    return value


def check_declarations(wf: Workflow) -> list[Problem]:
    """Problems of the `inputs:` block: defaults and enum values must fit the type."""
    out: list[Problem] = []
    for name, spec in wf.inputs.items():
        loc = join("inputs", name)
        if spec.items is not None and spec.type != "array":
            out.append(
                Problem(join(loc, "items"), f"items only applies to arrays, not {spec.type}")
            )
        for index, option in enumerate(spec.enum or []):
            plain = spec.model_copy(update={"enum": None})
            out += check_value(plain, option, join(join(loc, "enum"), index), P.INPUT_DEFAULT)
        if spec.default is not None:
            out += check_value(spec, spec.default, join(loc, "default"), P.INPUT_DEFAULT)
            if spec.required:
                out.append(
                    Problem(
                        join(loc, "required"),
                        "a required input with a default is never missing; drop one of them",
                        "warning",
                        P.INPUT_DEFAULT,
                    )
                )
    return out


def validate_inputs(wf: Workflow, given: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Check a run's inputs against the declaration and apply defaults.

    Returns the resolved inputs and one problem per offending field
    (`inputs.<name>`): unknown names, missing required inputs, wrong types
    (integer vs number is strict: `1.5` is not an integer, `2.0` is and
    becomes `2`), array items, enum. An optional input given as null counts
    as not given. Optional inputs without a default are left out.
    """
    problems: list[Problem] = []
    resolved: dict[str, Any] = {}
    if not isinstance(given, dict):
        return {}, [Problem("inputs", f"expected a mapping of inputs, got {_got(given)}")]
    for name in given:
        if name not in wf.inputs:
            declared = ", ".join(wf.inputs) or "none"
            hint = did_you_mean(str(name), wf.inputs)
            problems.append(
                Problem(
                    join("inputs", str(name)),
                    f"unknown input {name!r}{hint}; declared inputs: {declared}",
                    code=P.UNKNOWN_INPUT,
                )
            )
    for name, spec in wf.inputs.items():
        loc = join("inputs", name)
        value = given.get(name)
        if value is None:
            if spec.default is not None:
                resolved[name] = copy.deepcopy(spec.default)
            elif spec.required:
                problems.append(Problem(loc, "required input is missing", code=P.MISSING_INPUT))
            continue
        found = check_value(spec, value, loc, P.BAD_INPUT)
        problems += found
        if not found:
            resolved[name] = _normalize(spec, value)
    return resolved, problems
