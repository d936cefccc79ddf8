"""Feature flags are resolved before submission and travel in the workflow input."""

from __future__ import annotations

import pytest

from switchyard.engine.flags import DEFAULTS, resolve_flags


def test_resolve_flags_from_defaults_env_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHYARD_FLAG_LOOP_LEAF_SIZE", "7")
    monkeypatch.setenv("SWITCHYARD_FLAG_NEW_THING", "on")
    flags = resolve_flags({"history_budget": 500})
    assert flags["loop_leaf_size"] == 7 and flags["new_thing"] == "on"
    assert flags["history_budget"] == 500
    assert flags["loop_fanout"] == DEFAULTS["loop_fanout"]


@pytest.mark.temporal
@pytest.mark.no_record
async def test_flags_travel_in_the_input_and_drive_the_run(engine, monkeypatch) -> None:
    # A leaf size of 2 makes a 5-item loop split into child ranges: the flag, taken
    # from the environment at submission, reached the workflow through its input.
    monkeypatch.setenv("SWITCHYARD_FLAG_LOOP_LEAF_SIZE", "2")
    run = await engine.run(
        """
        name: flagged
        steps:
          - id: each
            for_each: "[1, 2, 3, 4, 5]"
            do:
              - id: sq
                transform: "Item * Item"
        """
    )
    assert run["steps"]["each"]["output"] == [1, 4, 9, 16, 25]
    history = await engine.client.get_workflow_handle(run["id"]).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    assert b'"loop_leaf_size":2' in started.input.payloads[0].data
    ids = [w.id async for w in engine.client.list_workflows(f"TaskQueue = '{engine.task_queue}'")]
    assert any(i.endswith(".each.0-2") for i in ids), ids


@pytest.mark.temporal
@pytest.mark.no_record
async def test_in_flight_activities_per_run_are_bounded(
    engine, monkeypatch, concurrency_probe
) -> None:
    import json

    monkeypatch.setenv("SWITCHYARD_FLAG_MAX_INFLIGHT_ACTIVITIES", "3")
    branches = [f"b{i}" for i in range(10)]
    steps = [{"id": "start", "transform": "1", "next": branches}] + [
        {"id": b, "action": "http.request", "with": {"url": concurrency_probe.url}}
        for b in branches
    ]
    run = await engine.run(json.dumps({"name": "wide-split", "steps": steps}))
    assert run["status"] == "succeeded", run
    assert concurrency_probe.requests == 10
    assert concurrency_probe.max == 3
