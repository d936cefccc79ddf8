"""A located problem in a definition (or in a run's inputs)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]

# Stable machine names of problem classes (`Problem.code`).
YAML = "yaml"  # the text is not YAML/JSON, or breaks a loader limit
IO = "io"  # the file cannot be read
SCHEMA = "schema"  # a value has the wrong type or shape
MISSING_FIELD = "missing-field"
UNKNOWN_FIELD = "unknown-field"
KIND_MISSING = "kind-missing"
KIND_MULTIPLE = "kind-multiple"
UNKNOWN_STEP = "unknown-step"
DUPLICATE_ID = "duplicate-id"
CYCLE = "cycle"
UNREACHABLE = "unreachable"
EDGE_LEAVES_SCOPE = "edge-leaves-scope"
NEXT_ON_BRANCHING = "next-on-branching"
ON_ERROR_AMBIGUOUS = "on-error-ambiguous"
UNKNOWN_CHOICE = "unknown-choice"
UNKNOWN_ACTION = "unknown-action"
UNKNOWN_PARAMETER = "unknown-parameter"
MISSING_PARAMETER = "missing-parameter"
BAD_PARAMETER = "bad-parameter"
EXPRESSION_SYNTAX = "expression-syntax"
BAD_DURATION = "bad-duration"
BAD_CRON = "bad-cron"
BAD_TIMEZONE = "bad-timezone"
BAD_SCHEDULE = "bad-schedule"
BAD_WORKFLOW_NAME = "bad-workflow-name"
REFERENCE_NOT_ANCESTOR = "reference-not-ancestor"
UNKNOWN_REFERENCE = "unknown-reference"
INPUT_DEFAULT = "input-default"
UNKNOWN_INPUT = "unknown-input"
MISSING_INPUT = "missing-input"
BAD_INPUT = "bad-input"
CHECKS_SKIPPED = "checks-skipped"


@dataclass(frozen=True)
class Problem:
    """One problem, located in the document (`steps[3].next`, `inputs.limit.default`).

    An empty location means the document (or file) as a whole.
    """

    location: str
    message: str
    severity: Severity = "error"
    code: str = SCHEMA

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_dict(self) -> dict[str, str]:
        return {
            "location": self.location,
            "message": self.message,
            "severity": self.severity,
            "code": self.code,
        }


def has_errors(problems: Iterable[Problem]) -> bool:
    """True when any problem is an error (warnings alone do not refuse a definition)."""
    return any(p.is_error for p in problems)


def join(location: str, key: str | int) -> str:
    """`join("steps[2]", "with")` -> `steps[2].with`; `join("steps", 2)` -> `steps[2]`."""
    if isinstance(key, int):
        return f"{location}[{key}]"
    return f"{location}.{key}" if location else key


_MAX_SUGGESTED = 100


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest candidate, or an empty string."""
    if len(word) > _MAX_SUGGESTED:  # difflib is quadratic: no suggestions for huge words
        return ""
    options = [c for c in candidates if len(c) <= _MAX_SUGGESTED]
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def short_repr(value: object, limit: int = 60) -> str:
    """A repr short enough for a one-line message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
