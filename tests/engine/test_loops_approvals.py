"""Loops (for_each, while, nesting) and approvals on a real Temporal server."""

from __future__ import annotations

import asyncio
import json

import pytest

from switchyard.engine.client import approve, get_run

pytestmark = pytest.mark.temporal


async def test_for_each_results_in_input_order_with_iterations(engine):
    run = await engine.run(
        """
        name: each
        inputs:
          xs: {type: array, default: [3, 1, 2]}
        steps:
          - id: loop
            for_each: "Inputs.xs"
            concurrency: 3
            do:
              - id: nap
                sleep: "{{ Item }}"
                next: double
              - id: double
                transform: "Item * 2 + Index / 10"
            next: after
          - id: after
            transform: "Steps.loop.output"
        """
    )
    assert run["status"] == "succeeded", run
    assert run["steps"]["loop"]["output"] == [6, 2.1, 4.2]
    its = run["steps"]["loop"]["iterations"]
    assert [it["index"] for it in its] == [0, 1, 2]
    assert its[1]["steps"]["double"]["output"] == 2.1
    assert its[1]["steps"]["nap"]["status"] == "succeeded"
    assert run["steps"]["after"]["output"] == [6, 2.1, 4.2]


async def test_for_each_concurrency_is_honoured(engine, concurrency_probe):
    run = await engine.run(
        f"""
        name: bounded
        steps:
          - id: loop
            for_each: "[1,2,3,4,5,6,7,8]"
            concurrency: 2
            do:
              - id: call
                action: http.request
                with: {{url: "{concurrency_probe.url}", query: {{i: "{{{{ Index }}}}"}}}}
        """
    )
    assert run["status"] == "succeeded", run
    assert concurrency_probe.max == 2
    assert concurrency_probe.requests == 8


async def test_concurrency_is_honoured_across_split_ranges(engine, concurrency_probe, monkeypatch):
    monkeypatch.setenv("SWITCHYARD_FLAG_LOOP_LEAF_SIZE", "3")  # 14 items: 5 ranges
    run = await engine.run(
        f"""
        name: bounded-split
        steps:
          - id: loop
            for_each: "Array.from({{length: 14}}, (_, i) => i)"
            concurrency: 4
            do:
              - id: call
                action: http.request
                with: {{url: "{concurrency_probe.url}", query: {{i: "{{{{ Item }}}}"}}}}
            output: "Steps.call.output.status + Item"
        """
    )
    assert run["status"] == "succeeded", run
    assert run["steps"]["loop"]["output"] == [200 + i for i in range(14)]
    assert [it["index"] for it in run["steps"]["loop"]["iterations"]] == list(range(14))
    assert concurrency_probe.requests == 14
    assert 2 <= concurrency_probe.max <= 4


async def test_for_each_output_expression_and_item_errors(engine):
    run = await engine.run(
        """
        name: each-errors
        steps:
          - id: loop
            for_each: "[1, 0, 4]"
            on_item_error: continue
            output: "Steps.inv.output"
            do:
              - id: inv
                transform: "Item == 0 ? null.boom : 1 / Item"
        """
    )
    assert run["status"] == "succeeded", run
    assert run["steps"]["loop"]["output"] == [1, None, 0.25]
    its = run["steps"]["loop"]["iterations"]
    assert [it["status"] for it in its] == ["succeeded", "failed", "succeeded"]
    assert its[1]["steps"]["inv"]["error"]["type"] == "ExpressionError"

    run = await engine.run(
        """
        name: each-fail
        steps:
          - id: loop
            for_each: "[1, 0, 4]"
            do:
              - id: inv
                transform: "Item == 0 ? null.boom : 1 / Item"
        """
    )
    assert run["status"] == "failed"
    assert run["error"]["step"] == "loop"
    assert "item 1" in run["error"]["message"]


async def test_for_each_not_an_array(engine):
    run = await engine.run(
        """
        name: each-bad
        steps:
          - id: loop
            for_each: "({a: 1})"
            do:
              - id: x
                transform: "Item"
        """
    )
    assert run["status"] == "failed"
    assert "expected an array" in run["error"]["message"]


async def test_while_loop_with_vars(engine):
    run = await engine.run(
        """
        name: whiling
        steps:
          - id: init
            set: {n: 0}
            next: loop
          - id: loop
            while: "Vars.n < 4"
            do:
              - id: inc
                set: {n: "Vars.n + 1"}
                next: show
              - id: show
                transform: "'i' + Index + '=' + Vars.n"
            next: after
          - id: after
            transform: "Vars.n"
        """
    )
    assert run["status"] == "succeeded", run
    assert run["steps"]["loop"]["output"] == ["i0=1", "i1=2", "i2=3", "i3=4"]
    assert run["steps"]["after"]["output"] == 4


async def test_while_max_iterations(engine):
    run = await engine.run(
        """
        name: forever
        steps:
          - id: loop
            while: "true"
            max_iterations: 3
            do:
              - id: x
                transform: "Index"
        """
    )
    assert run["status"] == "failed"
    assert run["error"]["type"] == "MaxIterationsExceeded"


async def test_nested_loops(engine):
    run = await engine.run(
        """
        name: nested
        steps:
          - id: outer
            for_each: "[[1, 2], [3]]"
            output: "Steps.inner.output"
            do:
              - id: inner
                for_each: "Item"
                do:
                  - id: sq
                    transform: "Item * Item"
        """
    )
    assert run["status"] == "succeeded", run
    assert run["steps"]["outer"]["output"] == [[1, 4], [9]]
    inner = run["steps"]["outer"]["iterations"][0]["steps"]["inner"]
    assert inner["iterations"][1]["steps"]["sq"]["output"] == 4


async def test_live_state_shows_loop_iterations(engine):
    handle = await engine.start(
        """
        name: live-loop
        steps:
          - id: loop
            for_each: "[1, 2, 3]"
            do:
              - id: nap
                sleep: 2s
        """
    )
    seen = None
    for _ in range(100):
        state = await get_run(engine.client, handle.id)
        its = state["steps"]["loop"].get("iterations") or []
        if (
            state["steps"]["loop"]["status"] == "running"
            and any(it["status"] == "succeeded" for it in its)
            and any(it["status"] == "running" for it in its)
        ):
            seen = state
            break
        await asyncio.sleep(0.2)
    assert seen is not None, "never saw a finished and a running iteration together"
    assert seen["status"] == "running"
    run = await handle.result()
    assert run["status"] == "succeeded"


async def test_approval_answered_through_update(engine):
    handle = await engine.start(
        """
        name: gated
        steps:
          - id: ask
            approval: "Restart {{ Inputs.svc }}?"
            approvers: [sre-lead, admin]
            on:
              approve: [do_it]
              reject: [skip]
          - id: do_it
            transform: "'restarted by ' + Steps.ask.output.by"
          - id: skip
            transform: "'skipped'"
        """,
        {},
    )
    for _ in range(100):
        state = await get_run(engine.client, handle.id)
        if state["status"] == "waiting":
            break
        await asyncio.sleep(0.1)
    assert state["status"] == "waiting"
    assert state["steps"]["ask"]["status"] == "waiting"
    assert state["approvals"]["ask"]["choices"] == ["approve", "reject"]
    with pytest.raises(Exception, match="not one of"):
        await approve(engine.client, handle.id, "ask", "maybe", by="sam", roles=["admin"])
    with pytest.raises(Exception, match="may not decide"):
        await approve(engine.client, handle.id, "ask", "approve", by="mallory", roles=["viewer"])
    await approve(
        engine.client, handle.id, "ask", "approve", by="sam", roles=["sre-lead"], comment="go"
    )
    run = await handle.result()
    assert run["status"] == "succeeded", run
    assert run["steps"]["ask"]["output"]["choice"] == "approve"
    assert run["steps"]["ask"]["output"]["comment"] == "go"
    assert run["steps"]["do_it"]["output"] == "restarted by sam"
    assert run["steps"]["skip"]["status"] == "skipped"


async def test_approval_timeout_branch(engine):
    run = await engine.run(
        """
        name: gate-timeout
        steps:
          - id: ask
            approval: "ok?"
            timeout: 1s
            on:
              approve: [yes]
              timeout: [expired]
          - id: yes
            transform: "1"
          - id: expired
            transform: "Steps.ask.output.choice"
        """
    )
    assert run["status"] == "succeeded", run
    assert run["steps"]["expired"]["output"] == "timeout"
    assert run["steps"]["yes"]["status"] == "skipped"


async def test_approval_inside_loop(engine):
    handle = await engine.start(
        """
        name: gate-loop
        steps:
          - id: each
            for_each: "['a']"
            do:
              - id: ok
                approval: "ok {{ Item }}?"
                on: {approve: [done]}
              - id: done
                transform: "Item"
        """
    )
    for _ in range(100):
        try:
            await approve(engine.client, handle.id, "each[0].ok", "approve", by="x")
            break
        except Exception:
            await asyncio.sleep(0.2)
    run = await handle.result()
    assert run["status"] == "succeeded", run
    assert run["steps"]["each"]["output"] == ["a"]
    assert json.dumps(run["steps"]["each"]["iterations"][0]["steps"]["ok"]["output"]).count("x")
