"""A run's inputs against the declaration."""

from __future__ import annotations

from switchyard.definition.inputs import validate_inputs
from switchyard.definition.loader import parse_workflow

from .conftest import doc

WF, _ = parse_workflow(
    doc(
        {"id": "a", "action": "core.echo"},
        inputs={
            "service": {"type": "string", "required": True},
            "dry_run": {"type": "boolean", "default": False},
            "limit": {"type": "integer", "default": 10},
            "ratio": {"type": "number"},
            "labels": {"type": "object"},
            "tags": {"type": "array", "items": "string", "default": ["sre"]},
            "env": {"type": "string", "enum": ["prod", "staging"]},
        },
    )
)


def test_defaults_are_applied():
    assert WF is not None
    resolved, problems = validate_inputs(WF, {"service": "api"})
    assert problems == []
    assert resolved == {"service": "api", "dry_run": False, "limit": 10, "tags": ["sre"]}


def test_one_problem_per_offending_field():
    assert WF is not None
    _, problems = validate_inputs(
        WF,
        {
            "limit": 1.5,
            "dry_run": "yes",
            "ratio": True,
            "labels": [],
            "tags": ["a", 3],
            "env": "dev",
            "sevice": "api",
        },
    )
    assert [(str(p), p.code) for p in problems] == [
        (
            "inputs.sevice: unknown input 'sevice' (did you mean 'service'?); declared inputs: "
            "service, dry_run, limit, ratio, labels, tags, env",
            "unknown-input",
        ),
        ("inputs.service: required input is missing", "missing-input"),
        ("inputs.dry_run: expected true or false, got text 'yes'", "bad-input"),
        ("inputs.limit: expected an integer, got a number 1.5", "bad-input"),
        ("inputs.ratio: expected a number, got a boolean True", "bad-input"),
        ("inputs.labels: expected an object (a mapping), got a list", "bad-input"),
        ("inputs.tags[1]: expected text, got an integer 3", "bad-input"),
        ("inputs.env: 'dev' is not one of 'prod', 'staging'", "bad-input"),
    ]


def test_integral_number_is_an_integer():
    assert WF is not None
    resolved, problems = validate_inputs(WF, {"service": "api", "limit": 3.0, "ratio": 2})
    assert problems == []
    assert resolved["limit"] == 3 and isinstance(resolved["limit"], int)
    assert resolved["ratio"] == 2
