"""Load a definition from YAML or JSON text into the typed model, with located problems.

`load_text` turns text into plain data (or raises `LoadError`), `parse_workflow`
turns data into a `Workflow`. Each step is validated against the class of its
own kind key, so a typo in an `if` step is reported as an `if` step problem,
not as "none of the twelve step kinds matched".
"""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from switchyard.definition import problems as P
from switchyard.definition.model import (
    KIND_KEYS,
    LOOP_KINDS,
    STEP_CLASSES,
    TRIGGER_CLASSES,
    StepBase,
    TransformStep,
    TriggerBase,
    Workflow,
)
from switchyard.definition.problems import Problem, did_you_mean, join, short_repr
from switchyard.definition.pydantic_problems import problems_from_error, type_name
from switchyard.definition.safe_yaml import MAX_DEPTH, MAX_NODES, YamlLimitError, load_yaml

#: Largest definition accepted, in bytes (UTF-8).
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024

# Stands in for steps that failed to parse, so the rest of the document is still checked.
_PLACEHOLDER = TransformStep(id="placeholder", transform="null")


class LoadError(ValueError):
    """The text could not be loaded; `problems` say why and where."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def _yaml_problem(message: str, line: int | None, column: int | None) -> Problem:
    where = f"line {line}, column {column}: " if line is not None else ""
    return Problem("", f"{where}{message}", "error", P.YAML)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _check_shape(data: Any) -> None:
    """Depth and size limits for data that did not come through the YAML node check."""
    count = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise YamlLimitError(f"the document has more than {MAX_NODES} values")
        if depth > MAX_DEPTH:
            raise YamlLimitError(f"nesting deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def _load_json(text: str) -> Any:
    data = json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=_refuse_constant)
    _check_shape(data)
    return data


def load_text(text: str, *, filename: str = "<input>") -> Any:
    """Parse YAML or JSON text into plain data (dicts, lists, scalars).

    Text that looks like JSON (or a `.json` file) is read as JSON first, so
    JSON mistakes get JSON messages. YAML is read with the YAML 1.2 core
    schema, standard tags only, duplicate keys refused, and limits on size,
    nesting and alias expansion (see `safe_yaml`).

    Raises:
        LoadError: with located problems when the text cannot be loaded.
    """
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        line = text.count("\n", 0, exc.start) + 1
        raise LoadError(
            [_yaml_problem("the text contains a lone surrogate (not valid Unicode)", line, None)]
        ) from None
    if size > MAX_DOCUMENT_BYTES:
        raise LoadError(
            [_yaml_problem(f"the document is larger than {MAX_DOCUMENT_BYTES} bytes", None, None)]
        )
    is_json_file = filename.lower().endswith(".json")
    json_error: Problem | None = None
    if is_json_file or text.lstrip("\ufeff \t\r\n")[:1] in ("{", "["):
        try:
            return _load_json(text)
        except json.JSONDecodeError as exc:
            json_error = _yaml_problem(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno)
        except (ValueError, RecursionError) as exc:
            message = str(exc) if isinstance(exc, ValueError) else "nesting too deep"
            json_error = _yaml_problem(f"invalid JSON: {message}", None, None)
        if is_json_file:
            raise LoadError([json_error])
    try:
        return load_yaml(text)
    except YamlLimitError as exc:
        raise LoadError([_yaml_problem(str(exc), exc.line, exc.column)]) from None
    except yaml.MarkedYAMLError as exc:
        if json_error is not None:
            raise LoadError([json_error]) from None
        mark = exc.problem_mark
        message = " ".join(str(m) for m in (exc.context, exc.problem) if m) or "not YAML"
        raise LoadError(
            [
                _yaml_problem(
                    message,
                    mark.line + 1 if mark else None,
                    mark.column + 1 if mark else None,
                )
            ]
        ) from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise LoadError([json_error or _yaml_problem(f"not YAML: {exc}", None, None)]) from None


# ---------------------------------------------------------------- data -> model


def _validate(
    cls: type[BaseModel], data: dict[Any, Any], loc: str, substituted: set[str]
) -> tuple[Any, list[Problem]]:
    """Validate `data` as `cls`; errors under the keys in `substituted` were reported already."""
    try:
        return cls.model_validate(data), []
    except ValidationError as exc:
        found = problems_from_error(exc, "", cls)
        kept = [
            Problem(join(loc, p.location) if loc else p.location, p.message, p.severity, p.code)
            if p.location
            else Problem(loc, p.message, p.severity, p.code)
            for p in found
            if p.location.split(".", 1)[0].split("[", 1)[0] not in substituted
        ]
        return None, kept


def _kind_keys(raw: dict[Any, Any], known: tuple[str, ...], loc: str, what: str) -> list[Problem]:
    kinds = [k for k in raw if k in known]
    if len(kinds) == 1:
        return []
    label = what
    if what == "step" and isinstance(raw.get("id"), str):
        label = f"step {raw['id']!r}"
    if not kinds:
        hints = [did_you_mean(str(k), known) for k in raw]
        hint = next((h for h in hints if h), "")
        return [
            Problem(
                loc,
                f"{label} has no kind key{hint}: it needs exactly one of {', '.join(known)}",
                "error",
                P.KIND_MISSING,
            )
        ]
    names = " and ".join(repr(k) for k in kinds)
    return [
        Problem(
            loc,
            f"{label} has {len(kinds)} kind keys, {names}: it must have exactly one",
            "error",
            P.KIND_MULTIPLE,
        )
    ]


def parse_step(raw: Any, loc: str) -> tuple[StepBase | None, list[Problem]]:
    """Validate one step (and, for loops, its body) against its own kind's class."""
    if not isinstance(raw, dict):
        return None, [
            Problem(loc, f"expected a step (a mapping with an id and a kind key), got {_got(raw)}")
        ]
    problems = _kind_keys(raw, KIND_KEYS, loc, "step")
    if problems:
        return None, problems
    kind = next(k for k in raw if k in STEP_CLASSES)
    data = dict(raw)
    substituted: set[str] = set()
    body_ok = True
    if kind in LOOP_KINDS and "do" in data:
        body, body_problems = parse_steps(data["do"], join(loc, "do"))
        problems += body_problems
        body_ok = body is not None
        data["do"] = body if body is not None else [_PLACEHOLDER]
        substituted.add("do")
    step, found = _validate(STEP_CLASSES[kind], data, loc, substituted)
    problems += found
    return (step if body_ok else None), problems


def parse_steps(raw: Any, loc: str) -> tuple[list[StepBase] | None, list[Problem]]:
    """Validate a list of steps; None when any of them is invalid."""
    if not isinstance(raw, list):
        return None, [Problem(loc, f"expected a list of steps, got {_got(raw)}")]
    if not raw:
        return None, [Problem(loc, "must have at least one step")]
    steps: list[StepBase] = []
    problems: list[Problem] = []
    for index, item in enumerate(raw):
        step, found = parse_step(item, join(loc, index))
        problems += found
        if step is not None:
            steps.append(step)
    return (steps if not problems else None), problems


def _parse_triggers(raw: Any) -> tuple[list[TriggerBase] | None, list[Problem]]:
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return None, [Problem("triggers", f"expected a list of triggers, got {_got(raw)}")]
    out: list[TriggerBase] = []
    problems: list[Problem] = []
    kinds = tuple(TRIGGER_CLASSES)
    for index, item in enumerate(raw):
        loc = join("triggers", index)
        if not isinstance(item, dict):
            problems.append(Problem(loc, f"expected a trigger (a mapping), got {_got(item)}"))
            continue
        found = _kind_keys(item, kinds, loc, "trigger")
        if not found:
            kind = next(k for k in item if k in TRIGGER_CLASSES)
            trigger, found = _validate(TRIGGER_CLASSES[kind], item, loc, set())
            if trigger is not None:
                out.append(trigger)
        problems += found
    return (out if not problems else None), problems


def _got(value: Any) -> str:
    if isinstance(value, dict | list):
        return type_name(value)
    return f"{type_name(value)} {short_repr(value)}"


def parse_workflow(data: Any) -> tuple[Workflow | None, list[Problem]]:
    """Build the typed model from loaded data; (None, problems) when it does not fit."""
    if not isinstance(data, dict):
        what = "an empty document" if data is None else _got(data)
        return None, [
            Problem("", f"a workflow is a mapping with at least name and steps, got {what}")
        ]
    problems: list[Problem] = []
    if "steps" in data:
        steps, found = parse_steps(data["steps"], "steps")
        problems += found
    else:
        steps = None
        problems.append(Problem("steps", "is required", "error", P.MISSING_FIELD))
    triggers, found = _parse_triggers(data.get("triggers"))
    problems += found
    top = dict(data)
    top["steps"] = steps or [_PLACEHOLDER]
    top["triggers"] = triggers or []
    wf, found = _validate(Workflow, top, "", {"steps", "triggers"})
    problems = found + problems
    if problems:
        return None, problems
    return wf, []


def partial_workflow(data: Any) -> tuple[Workflow | None, set[str]]:
    """The workflow with each step that does not fit replaced by a stand-in.

    A stand-in keeps the step's id and, as plain edges, every target it names,
    so the rest of the graph can still be checked (unknown ids, cycles, ...)
    when some steps are broken. Returns the workflow (None when even that
    cannot be built) and the locations of the stand-ins, whose own problems
    are artifacts to be left out.
    """
    if not isinstance(data, dict):
        return None, set()
    stand_ins: set[str] = set()
    steps = _partial_steps(data.get("steps"), "steps", stand_ins)
    if not steps:
        return None, set()
    top = {k: v for k, v in data.items() if k != "triggers"}
    top["steps"] = steps
    try:
        return Workflow.model_validate(top), stand_ins
    except ValidationError:
        return None, set()


_TARGET_FIELDS = ("next", "then", "else", "default", "on_error")


def _partial_steps(raw: Any, loc: str, stand_ins: set[str]) -> list[StepBase] | None:
    if not isinstance(raw, list) or not raw:
        return None
    out: list[StepBase] = []
    for index, item in enumerate(raw):
        where = join(loc, index)
        step, _ = parse_step(item, where)
        if step is None:
            step = _stand_in(item)
            if step is None:
                return None
            stand_ins.add(where)
        out.append(step)
    return out


def _stand_in(raw: Any) -> StepBase | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        return None
    targets: list[str] = []
    values = [raw.get(f) for f in _TARGET_FIELDS]
    for key in ("cases", "on"):
        if isinstance(raw.get(key), dict):
            values += list(raw[key].values())
    for value in values:
        for target in value if isinstance(value, list) else [value]:
            if isinstance(target, str) and target != "continue" and target not in targets:
                targets.append(target)
    try:
        return TransformStep(id=raw["id"], transform="null", next=targets)
    except ValidationError:
        return None


def parse_text(text: str, *, filename: str = "<input>") -> tuple[Workflow | None, list[Problem]]:
    """`load_text` then `parse_workflow`, with load failures as problems."""
    try:
        data = load_text(text, filename=filename)
    except LoadError as exc:
        return None, exc.problems
    return parse_workflow(data)


def read_text(path: str | PathLike[str]) -> tuple[str | None, list[Problem]]:
    """Read a definition file as text; (None, problems) when it cannot be read."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        return None, [Problem("", f"cannot read the file: {exc.strerror or exc}", "error", P.IO)]
    if len(raw) > MAX_DOCUMENT_BYTES:
        return None, [
            Problem("", f"the file is larger than {MAX_DOCUMENT_BYTES} bytes", "error", P.IO)
        ]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        return None, [
            Problem(
                "",
                f"the file is not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start})",
                "error",
                P.IO,
            )
        ]


def load_workflow_file(path: str | PathLike[str]) -> tuple[Workflow | None, list[Problem]]:
    """Read, load and parse a definition file (no graph or semantic checks)."""
    text, problems = read_text(path)
    if text is None:
        return None, problems
    return parse_text(text, filename=Path(path).name)
