"""`FinishedRuns`: what the worker hands to a run recorder of the same process."""

from __future__ import annotations

from switchyard.engine.finished import FinishedRuns


def test_off_until_enabled_then_bounded_taken_once_and_copied() -> None:
    runs = FinishedRuns(capacity=2)
    runs.put("a", {"identity": "u"}, {"status": "succeeded"})
    assert len(runs) == 0  # nobody asked
    runs.enabled = True
    result = {"status": "succeeded", "steps": {"s": {"output": (1, 2)}}}
    runs.put("a", {"identity": "u", "definition": {"name": "w"}}, result)
    runs.put("b", {}, {"n": 1})
    runs.put("c", {}, {"n": 2})  # over capacity: the oldest goes
    assert "a" not in runs and len(runs) == 2
    runs.put("b", {}, {"n": 3})  # a later completion of the same id replaces it
    assert runs.take("b") == ({}, {"n": 3})
    assert runs.take("b") is None  # once
    runs.put("a", {"identity": "u"}, result)
    start, got = runs.take("a")  # type: ignore[misc]
    assert start == {"identity": "u"}
    assert got == {"status": "succeeded", "steps": {"s": {"output": [1, 2]}}}  # as JSON
    got["steps"]["s"]["output"].append(3)
    assert result["steps"]["s"]["output"] == (1, 2)  # a copy
    runs.clear()
    assert len(runs) == 0
