"""The graph rules on a real Temporal server: splits, merges, dead paths, branching, errors."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.temporal


async def test_sequence_and_outputs(engine):
    run = await engine.run(
        """
        name: seq
        inputs:
          who: {type: string, default: world}
        outputs:
          greeting: "{{ Steps.b.output }}"
          n: "{{ Steps.a.output.n }}"
        steps:
          - id: a
            action: core.echo
            with: {n: 3, who: "{{ Inputs.who }}"}
            next: b
          - id: b
            transform: "'hello ' + Steps.a.output.who + ' x' + Steps.a.output.n"
        """,
        {"who": "sre"},
    )
    assert run["status"] == "succeeded", run
    assert run["outputs"] == {"greeting": "hello sre x3", "n": 3}
    assert run["steps"]["a"]["status"] == "succeeded"
    assert run["steps"]["a"]["attempts"] == 1
    assert run["steps"]["a"]["output"] == {"n": 3, "who": "sre"}
    assert run["steps"]["b"]["started_at"] >= run["steps"]["a"]["finished_at"]
    assert run["workflow"] == "seq" and run["inputs"] == {"who": "sre"}
    assert run["trigger"] == {"type": "manual"} and run["error"] is None


async def test_split_and_merge_join_all(engine):
    run = await engine.run(
        """
        name: split-merge
        steps:
          - id: start
            set: {x: 1}
            next: [left, right]
          - id: left
            sleep: 1s
            next: merge
          - id: right
            transform: "'r'"
            next: merge
          - id: merge
            transform: "[Steps.left.status, Steps.right.output]"
        """
    )
    assert run["status"] == "succeeded", run
    assert run["steps"]["merge"]["output"] == ["succeeded", "r"]
    # join: all waited for the slow branch
    assert run["steps"]["merge"]["started_at"] >= run["steps"]["left"]["finished_at"]


async def test_join_any_runs_once_on_first_arrival(engine):
    run = await engine.run(
        """
        name: join-any
        steps:
          - id: start
            transform: "1"
            next: [slow, fast]
          - id: slow
            sleep: 2s
            next: first
          - id: fast
            transform: "'fast'"
            next: first
          - id: first
            join: any
            transform: "Steps.fast.status + '/' + (Steps.slow ? Steps.slow.status : 'none')"
        """
    )
    assert run["status"] == "succeeded", run
    assert run["steps"]["first"]["output"] == "succeeded/running"
    assert run["steps"]["first"]["finished_at"] <= run["steps"]["slow"]["finished_at"]
    assert run["steps"]["slow"]["status"] == "succeeded"


async def test_if_dead_path_merge_runs_once(engine):
    doc = """
        name: dead-paths
        inputs:
          flag: {type: boolean, required: true}
        steps:
          - id: check
            if: "Inputs.flag"
            then: a
            else: b
          - id: a
            transform: "'A'"
            next: c
          - id: b
            transform: "'B'"
            next: c
          - id: c
            transform: "Steps.a.status == 'succeeded' ? Steps.a.output : Steps.b.output"
        """
    run = await engine.run(doc, {"flag": True})
    assert run["status"] == "succeeded", run
    assert run["steps"]["check"]["output"] == {"value": True}
    assert run["steps"]["b"]["status"] == "skipped"
    assert run["steps"]["c"]["output"] == "A"
    run = await engine.run(doc, {"flag": False})
    assert run["steps"]["a"]["status"] == "skipped"
    assert run["steps"]["c"]["output"] == "B"


async def test_dead_path_propagates_through_chains(engine):
    run = await engine.run(
        """
        name: dead-chain
        steps:
          - id: check
            if: "false"
            then: a
            else: z
          - id: a
            transform: "1"
            next: a2
          - id: a2
            transform: "2"
            next: end
          - id: z
            transform: "3"
            next: end
          - id: end
            transform: "'end'"
        """
    )
    assert run["status"] == "succeeded", run
    assert [run["steps"][s]["status"] for s in ("a", "a2", "z", "end")] == [
        "skipped",
        "skipped",
        "succeeded",
        "succeeded",
    ]


async def test_switch_cases_and_default(engine):
    doc = """
        name: switcher
        inputs:
          sev: {type: string}
        steps:
          - id: route
            switch: "Inputs.sev"
            cases:
              critical: page
              low: [log]
            default: ignore
          - id: page
            transform: "'paged'"
          - id: log
            transform: "'logged'"
          - id: ignore
            transform: "'ignored'"
        """
    run = await engine.run(doc, {"sev": "critical"})
    assert run["steps"]["route"]["output"] == {"value": "critical", "case": "critical"}
    assert run["steps"]["page"]["status"] == "succeeded"
    assert run["steps"]["log"]["status"] == "skipped"
    run = await engine.run(doc, {"sev": "whatever"})
    assert run["steps"]["route"]["output"] == {"value": "whatever", "case": "default"}
    assert run["steps"]["ignore"]["output"] == "ignored"


async def test_set_and_vars(engine):
    run = await engine.run(
        """
        name: vars
        steps:
          - id: one
            set: {count: "1 + 1", label: "'x'", literal: 5}
            next: two
          - id: two
            set: {count: "Vars.count * 10"}
            next: three
          - id: three
            transform: "Vars"
        """
    )
    assert run["status"] == "succeeded", run
    assert run["steps"]["one"]["output"] == {"count": 2, "label": "x", "literal": 5}
    assert run["steps"]["three"]["output"] == {"count": 20, "label": "x", "literal": 5}


async def test_script_step(engine):
    run = await engine.run(
        """
        name: scripted
        inputs:
          xs: {type: array, default: [3, 1, 2]}
        steps:
          - id: s
            script: |
              const sorted = [...Inputs.xs].sort();
              return {sorted, total: sorted.reduce((a, b) => a + b, 0)};
        """
    )
    assert run["status"] == "succeeded", run
    assert run["steps"]["s"]["output"] == {"sorted": [1, 2, 3], "total": 6}


async def test_script_error_fails_run_naming_step(engine):
    run = await engine.run(
        """
        name: script-err
        steps:
          - id: boom
            script: "throw new Error('kaput')"
        """
    )
    assert run["status"] == "failed"
    assert run["error"]["type"] == "ScriptError"
    assert run["error"]["step"] == "boom"
    assert "kaput" in run["error"]["message"]


async def test_expression_error_names_step_field_expression(engine):
    run = await engine.run(
        """
        name: expr-err
        steps:
          - id: a
            action: core.echo
            with: {v: "{{ Steps.nope.output.x }}"}
        """
    )
    assert run["status"] == "failed"
    err = run["error"]
    assert err["type"] == "ExpressionError" and err["step"] == "a"
    assert "with.v" in err["message"] and "Steps.nope.output.x" in err["message"]


async def test_fail_step(engine):
    run = await engine.run(
        """
        name: failing
        inputs:
          why: {type: string, default: disk full}
        steps:
          - id: stop
            fail: "cannot continue: {{ Inputs.why }}"
            next: never
          - id: never
            transform: "1"
        """
    )
    assert run["status"] == "failed"
    assert run["error"] == {"type": "Fail", "message": "cannot continue: disk full", "step": "stop"}
    assert run["steps"]["never"]["status"] == "skipped"


async def test_sleep_durations_and_templates(engine):
    run = await engine.run(
        """
        name: sleeper
        inputs:
          d: {type: number, default: 1}
        steps:
          - id: a
            sleep: 1s
            next: b
          - id: b
            sleep: "{{ Inputs.d }}"
            next: c
          - id: c
            sleep: "{{ '500ms' }}"
        """
    )
    assert run["status"] == "succeeded", run
    assert run["steps"]["a"]["output"] == {"slept": 1}
    assert run["steps"]["b"]["output"] == {"slept": 1}
    assert run["steps"]["c"]["output"] == {"slept": 0.5}


async def test_run_failure_cancels_concurrent_branches(engine):
    run = await engine.run(
        """
        name: cancel-branches
        steps:
          - id: start
            transform: "1"
            next: [slow, bad]
          - id: slow
            sleep: 60s
            next: after
          - id: bad
            transform: "null.x"
          - id: after
            transform: "1"
        """
    )
    assert run["status"] == "failed"
    assert run["error"]["step"] == "bad"
    assert run["steps"]["slow"]["status"] == "cancelled"
    assert run["steps"]["after"]["status"] == "skipped"


async def test_on_error_fallback_and_continue(engine):
    run = await engine.run(
        """
        name: fallbacks
        steps:
          - id: a
            transform: "undefined.x"
            on_error: handler
            next: not_taken
          - id: not_taken
            transform: "1"
          - id: handler
            transform: "Steps.a.error.type + ': ' + Steps.a.status"
            next: b
          - id: b
            transform: "({}).x.y"
            on_error: continue
            next: c
          - id: c
            transform: "'continued after ' + Steps.b.status"
        """
    )
    assert run["status"] == "succeeded", run
    assert run["steps"]["a"]["status"] == "failed"
    assert run["steps"]["not_taken"]["status"] == "skipped"
    assert run["steps"]["handler"]["output"] == "ExpressionError: failed"
    assert run["steps"]["c"]["output"] == "continued after failed"


async def test_run_timeout(engine):
    run = await engine.run(
        """
        name: too-slow
        timeout: 2s
        steps:
          - id: wait
            sleep: 1h
        """
    )
    assert run["status"] == "timed_out"
    assert run["error"]["type"] == "Timeout"
    assert run["steps"]["wait"]["status"] == "cancelled"


async def test_cancel_run(engine):
    handle = await engine.start(
        """
        name: cancellable
        steps:
          - id: wait
            sleep: 1h
        """
    )
    import asyncio

    from switchyard.engine.client import get_run

    for _ in range(50):
        if (await get_run(engine.client, handle.id))["steps"]["wait"]["status"] == "running":
            break
        await asyncio.sleep(0.1)
    await handle.cancel()
    run = await handle.result()
    assert run["status"] == "cancelled"
    assert run["steps"]["wait"]["status"] == "cancelled"


async def test_call_child_run(engine):
    engine.add_definition(
        """
        name: child-flow
        inputs:
          n: {type: integer, required: true}
        outputs:
          doubled: "{{ Steps.d.output }}"
        steps:
          - id: d
            transform: "Inputs.n * 2"
        """
    )
    run = await engine.run(
        """
        name: parent-flow
        steps:
          - id: c
            call: child-flow
            with: {n: 21}
            next: after
          - id: after
            transform: "Steps.c.output.doubled + 0"
        """
    )
    assert run["status"] == "succeeded", run
    assert run["steps"]["c"]["output"] == {"doubled": 42}
    assert run["steps"]["after"]["output"] == 42


async def test_call_child_failure_and_bad_inputs(engine):
    engine.add_definition(
        """
        name: child-fails
        inputs:
          n: {type: integer, required: true}
        steps:
          - id: f
            fail: "child says no"
        """
    )
    run = await engine.run(
        """
        name: parent-of-failure
        steps:
          - id: c
            call: child-fails
            with: {n: 1}
            on_error: d
          - id: d
            call: child-fails
            with: {n: "not a number"}
            on_error: e
          - id: e
            call: no-such-flow
        """
    )
    assert run["status"] == "failed"
    assert run["steps"]["c"]["error"]["type"] == "ChildFailed"
    assert "child says no" in run["steps"]["c"]["error"]["message"]
    assert run["steps"]["d"]["error"]["type"] == "ValidationError"
    assert "n" in run["steps"]["d"]["error"]["message"]
    assert run["error"]["step"] == "e" and "no-such-flow" in run["error"]["message"]


async def test_deterministic_time_and_random(engine):
    run = await engine.run(
        """
        name: determinism
        steps:
          - id: t
            transform: >-
              [Date.now() > 1.7e12, Math.random() < 1,
              new Date().getUTCFullYear() >= 2024]
        """
    )
    assert run["steps"]["t"]["output"] == [True, True, True]


async def test_object_key_order_is_kept(engine):
    run = await engine.run(
        """
        name: key-order
        outputs:
          text: "out: {{ Steps.e.output }}"
        steps:
          - id: e
            action: core.echo
            with: {zulu: 1, alpha: 2, mike: 3}
            next: k
          - id: k
            transform: "Object.keys(Steps.e.output).join(',')"
        """
    )
    assert list(run["steps"]["e"]["output"]) == ["zulu", "alpha", "mike"]
    assert run["steps"]["k"]["output"] == "zulu,alpha,mike"
    assert run["outputs"]["text"] == 'out: {"zulu":1,"alpha":2,"mike":3}'


async def test_script_time_limit_and_result_types(engine):
    run = await engine.run(
        """
        name: script-limits
        steps:
          - id: spin
            script: "while (true) {}"
            timeout: 1s
            on_error: continue
            next: typed
          - id: typed
            script: "return [1, 'two', {three: 3}, null, true]"
        """
    )
    assert run["status"] == "succeeded", run
    assert run["steps"]["spin"]["error"]["type"] == "ScriptError"
    assert "spin" in run["steps"]["spin"]["error"]["message"]
    assert run["steps"]["typed"]["output"] == [1, "two", {"three": 3}, None, True]
