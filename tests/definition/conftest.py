"""Helpers for the definition tests."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from switchyard.definition.problems import Problem
from switchyard.definition.validate import validate_document

EXAMPLES = Path(__file__).parent / "examples"


def doc(*steps: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A workflow document with these steps."""
    return {"name": "t", **top, "steps": list(steps)}


def problems(data: Any) -> list[Problem]:
    """Every problem of a document (parse + validate), the checks-skipped note left out."""
    _, found = validate_document(data)
    return [p for p in found if p.code != "checks-skipped"]


def only(data: Any, code: str) -> Problem:
    """The single problem with this code (fails listing all problems otherwise)."""
    found = problems(data)
    matching = [p for p in found if p.code == code]
    assert len(matching) == 1, [str(p) for p in found]
    return matching[0]


@pytest.fixture
def expressions_ready() -> None:
    """Skip while switchyard.expressions (written in parallel) has no public API yet."""
    try:
        ex = importlib.import_module("switchyard.expressions")
    except ModuleNotFoundError:
        pytest.skip("switchyard.expressions is not written yet")
    if not hasattr(ex, "check_syntax"):
        pytest.skip("switchyard.expressions has no check_syntax yet")
