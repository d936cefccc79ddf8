"""The graph rules of `engine.dag`, without a server (the workflow tests cover them end to end)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import TypeAdapter

from switchyard.definition.model import Step, StepBase
from switchyard.engine.dag import Dag, Paused, ScopeFailed

_STEPS = TypeAdapter(list[Step])


def steps(*raw: dict[str, Any]) -> list[StepBase]:
    return _STEPS.validate_python(list(raw))


async def drive(
    scope: list[StepBase], routes: dict[str, list[str]] | None = None, **kw: Any
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Run a scope where each step 'succeeds' and goes to routes[id] (default: its next)."""
    states: dict[str, dict[str, Any]] = kw.pop("states", {})
    order: list[str] = []

    async def execute(step: StepBase) -> list[str]:
        order.append(step.id)
        states[step.id] = {"status": "succeeded"}
        await asyncio.sleep(0)
        return (routes or {}).get(step.id, list(step.next))

    await Dag(scope, kw.pop("start", [scope[0].id]), states, execute, **kw).run()
    return states, order


def status(states: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {k: v["status"] for k, v in states.items()}


async def test_dead_branch_merge_runs_once() -> None:
    scope = steps(
        {"id": "c", "if": "x", "then": "a", "else": "b"},
        {"id": "a", "transform": "1", "next": "m"},
        {"id": "b", "transform": "1", "next": "m"},
        {"id": "m", "transform": "1"},
    )
    states, order = await drive(scope, {"c": ["a"]})
    assert order == ["c", "a", "m"]
    assert status(states)["b"] == "skipped"


async def test_join_all_waits_for_every_live_edge() -> None:
    scope = steps(
        {"id": "s", "transform": "1", "next": ["a", "b"]},
        {"id": "a", "transform": "1", "next": "m"},
        {"id": "b", "transform": "1", "next": "b2"},
        {"id": "b2", "transform": "1", "next": "m"},
        {"id": "m", "transform": "1"},
    )
    _, order = await drive(scope)
    assert order.index("m") > order.index("b2")
    assert order.count("m") == 1


async def test_join_any_runs_on_first_arrival_only() -> None:
    scope = steps(
        {"id": "s", "transform": "1", "next": ["a", "b"]},
        {"id": "a", "transform": "1", "next": "m"},
        {"id": "b", "transform": "1", "next": "b2"},
        {"id": "b2", "transform": "1", "next": "m"},
        {"id": "m", "transform": "1", "join": "any"},
    )
    _, order = await drive(scope)
    assert order.count("m") == 1
    assert order.index("m") < order.index("b2")


async def test_all_dead_inputs_skip_and_propagate() -> None:
    scope = steps(
        {"id": "c", "if": "x", "then": "a", "else": "z"},
        {"id": "a", "transform": "1", "next": "a2"},
        {"id": "a2", "transform": "1"},
        {"id": "z", "transform": "1"},
    )
    states, order = await drive(scope, {"c": ["z"]})
    assert order == ["c", "z"]
    assert status(states) == {"c": "succeeded", "a": "skipped", "a2": "skipped", "z": "succeeded"}


async def test_failure_cancels_concurrent_steps() -> None:
    scope = steps(
        {"id": "s", "transform": "1", "next": ["slow", "bad"]},
        {"id": "slow", "transform": "1"},
        {"id": "bad", "transform": "1"},
    )
    cancelled: list[str] = []

    async def execute(step: StepBase) -> list[str]:
        if step.id == "slow":
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                cancelled.append("slow")
                raise
        if step.id == "bad":
            raise ScopeFailed({"type": "X", "message": "m", "step": "bad"})
        return list(step.next)

    with pytest.raises(ScopeFailed):
        await Dag(scope, ["s"], {}, execute).run()
    assert cancelled == ["slow"]


async def test_pause_drains_and_resume_skips_finished_steps() -> None:
    scope = steps(
        {"id": "a", "transform": "1", "next": "b"},
        {"id": "b", "transform": "1", "next": "c"},
        {"id": "c", "transform": "1"},
    )
    states: dict[str, dict[str, Any]] = {}
    calls = {"n": 0}

    def pause() -> bool:
        calls["n"] += 1
        return calls["n"] == 1  # pause after the first step

    with pytest.raises(Paused):
        await drive(scope, states=states, should_pause=pause)
    assert list(states) == ["a"]
    states["a"]["_live"] = ["b"]
    states2, order = await drive(scope, states=states)
    assert order == ["b", "c"]  # a is not executed again
    assert status(states2) == {"a": "succeeded", "b": "succeeded", "c": "succeeded"}
