"""Continue-as-new: a run, a for_each leaf and a while loop carry on in a new history.

A tiny `history_budget` flag forces what a long run does when Temporal
suggests continuing as new; each result must be the same as without it and no
step may run twice.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.temporal, pytest.mark.no_record]


async def _executions(engine, workflow_id: str) -> int:
    query = f"WorkflowId = '{workflow_id}'"
    return len([w async for w in engine.client.list_workflows(query)])


async def test_run_continues_as_new_and_resumes_the_graph(engine, http_server, monkeypatch):
    monkeypatch.setenv("SWITCHYARD_FLAG_HISTORY_BUDGET", "25")
    http_server.expect_request("/hit").respond_with_json({"ok": True})
    steps = "\n".join(
        f"""
          - id: s{i}
            action: http.request
            with: {{url: "{http_server.url_for("/hit")}", query: {{i: "{i}"}}}}
            next: {f"s{i + 1}" if i < 11 else "[a, b]"}"""
        for i in range(12)
    )
    run = await engine.run(
        f"""
        name: long-chain
        outputs:
          total: "{{{{ Vars.n }}}}"
          merged: "{{{{ Steps.m.output }}}}"
        steps:
          - id: init
            set: {{n: 0}}
            next: s0
        {steps}
          - id: a
            set: {{n: "Vars.n + 1"}}
            next: m
          - id: b
            set: {{n: "Vars.n + 10"}}
            next: m
          - id: m
            transform: "Steps.a.status + '/' + Steps.b.status + '/' + Steps.s0.output.status"
        """
    )
    assert run["status"] == "succeeded", run
    assert run["outputs"] == {"total": 11, "merged": "succeeded/succeeded/200"}
    assert len(http_server.log) == 12  # nothing ran twice across the new histories
    assert all(run["steps"][f"s{i}"]["status"] == "succeeded" for i in range(12))
    assert await _executions(engine, run["id"]) > 1


async def test_for_each_leaf_and_while_continue_as_new(engine, monkeypatch):
    monkeypatch.setenv("SWITCHYARD_FLAG_HISTORY_BUDGET", "20")
    run = await engine.run(
        """
        name: loops-can
        steps:
          - id: each
            for_each: "Array.from({length: 12}, (_, i) => i)"
            concurrency: 2
            do:
              - id: echo
                action: core.echo
                with: {i: "{{ Item }}"}
            output: "Steps.echo.output.i * 2"
            next: init
          - id: init
            set: {k: 0}
            next: loop
          - id: loop
            while: "Vars.k < 8"
            do:
              - id: bump
                action: core.echo
                with: {k: "{{ Vars.k + 1 }}"}
                next: keep
              - id: keep
                set: {k: "Steps.bump.output.k"}
        """
    )
    assert run["status"] == "succeeded", run
    assert run["steps"]["each"]["output"] == [i * 2 for i in range(12)]
    assert len(run["steps"]["each"]["iterations"]) == 12
    assert run["steps"]["loop"]["output"] == [{"k": k} for k in range(1, 9)]
    assert await _executions(engine, f"{run['id']}.each") > 1
    assert await _executions(engine, f"{run['id']}.loop") > 1
