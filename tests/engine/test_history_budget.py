"""History budget: pure steps cost (almost) nothing; big loops and outputs never hit the limits.

The session's dev server runs with `limit.historyCount.error=2000` and
`limit.historyCount.suggestContinueAsNew=1000` (tests/conftest.py), so a
history that grew past 2,000 events would fail the run here.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.temporal


async def _histories(client, task_queue: str) -> tuple[dict[str, int], int]:
    """Event count of every workflow execution that ran on `task_queue`, and how many
    workflow tasks failed among them (a task that blocks too long fails as a deadlock)."""
    from temporalio.api.enums.v1 import EventType

    out, failed_tasks = {}, 0
    async for execution in client.list_workflows(f"TaskQueue = '{task_queue}'"):
        history = await client.get_workflow_handle(
            execution.id, run_id=execution.run_id
        ).fetch_history()
        out[f"{execution.id}/{execution.run_id}"] = len(history.events)
        failed_tasks += sum(
            e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED for e in history.events
        )
    return out, failed_tasks


async def test_fifty_pure_steps_cost_no_history_events(engine):
    steps = []
    for i in range(50):
        nxt = [f"s{i + 1}"] if i < 49 else []
        step: dict = {"id": f"s{i}"}
        if i % 4 == 0:
            step.update({"set": {f"v{i}": f"{i} + (Vars.v{i - 4} || 0)"}, "next": nxt})
        elif i % 4 == 1:
            step.update({"transform": f"[Steps.s{i - 1}.status, Vars.v{i - 1}]", "next": nxt})
        elif i % 4 == 2:
            step.update({"if": f"Inputs.n + {i} > 0", "then": nxt, "else": nxt})
        else:
            step.update(
                {"switch": f"'k' + ({i} % 3)", "cases": {"k0": nxt, "k1": nxt}, "default": nxt}
            )
        steps.append(step)
    text = json.dumps(
        {
            "name": "pure-fifty",
            "inputs": {"n": {"type": "integer", "default": 1}},
            "outputs": {"last": "{{ Vars.v48 }}"},
            "steps": steps,
        }
    )
    run = await engine.run(text)
    assert run["status"] == "succeeded", run
    assert all(st["status"] == "succeeded" for st in run["steps"].values())
    assert len(run["steps"]) == 50
    assert run["outputs"] == {"last": sum(range(0, 49, 4))}
    handle = engine.client.get_workflow_handle(run["id"])
    events = (await handle.fetch_history()).events
    # started + one workflow task (scheduled, started, completed) + completed = 5;
    # 50 pure steps add nothing (the limit is one event each).
    assert len(events) <= 5 + 2, [e.event_type for e in events]


@pytest.mark.no_record
async def test_large_outputs_stay_outside_the_history(engine, http_server):
    big = {"items": [{"name": f"pod-{i}", "labels": {"app": "x" * 40}} for i in range(8000)]}
    http_server.expect_request("/big").respond_with_json(big)
    run = await engine.run(
        f"""
        name: big-output
        steps:
          - id: fetch
            action: http.request
            with: {{url: "{http_server.url_for("/big")}"}}
            next: count
          - id: count
            transform: "Steps.fetch.output.body.items.length"
            next: copy
          - id: copy
            transform: "Steps.fetch.output.body.items.map(i => i.name)"
        """
    )
    assert run["status"] == "succeeded", run
    assert run["steps"]["count"]["output"] == 8000
    assert run["steps"]["fetch"]["output"]["body"] == big
    assert run["steps"]["copy"]["output"][-1] == "pod-7999"
    history = await engine.client.get_workflow_handle(run["id"]).fetch_history()
    text = json.dumps(history.to_json_dict())
    assert len(json.dumps(big)) > 500_000
    assert "x" * 40 not in text  # the 600 KB body never entered the history
    assert len(text) < 300_000, f"history holds {len(text)} bytes"


@pytest.mark.no_record
@pytest.mark.slow
@pytest.mark.timeout(1200)
async def test_for_each_over_20000_items_stays_within_limits(engine):
    run = await engine.run(
        """
        name: twenty-thousand
        steps:
          - id: each
            for_each: "Array.from({length: 20000}, (_, i) => i)"
            concurrency: 100
            do:
              - id: echo
                action: core.echo
                with: {n: "{{ Item }}"}
            output: "Steps.echo.output.n"
            next: total
          - id: total
            transform: "Steps.each.output.reduce((a, b) => a + b, 0)"
        """,
        timeout=1100,
    )
    assert run["status"] == "succeeded", run["error"]
    assert run["steps"]["total"]["output"] == sum(range(20000))
    its = run["steps"]["each"]["iterations"]
    assert len(its) == 20000 and its[12345]["steps"]["echo"]["output"] == {"n": 12345}
    counts, failed_tasks = await _histories(engine.client, engine.task_queue)
    assert len(counts) > 20  # the loop was spread over child ranges
    assert max(counts.values()) < 2000, max(counts.values())
    # No workflow task ever blocked (aggregating 20,000 results happens outside them).
    assert failed_tasks == 0
