"""One test per problem class of the spec's Validation section (and the extras)."""

from __future__ import annotations

import pytest

from .conftest import doc, only, problems

ECHO = {"action": "core.echo"}


def test_valid_document_has_no_problems():
    assert problems(doc({"id": "a", **ECHO, "next": "b"}, {"id": "b", **ECHO})) == []


# ---------------------------------------------------------------- shape


def test_kind_missing_names_the_keys():
    p = only(doc({"id": "a", "acton": "core.echo"}), "kind-missing")
    assert p.location == "steps[0]"
    assert "step 'a' has no kind key (did you mean 'action'?)" in p.message
    assert "action, if, switch, for_each" in p.message


def test_kind_multiple_names_the_keys():
    p = only(doc({"id": "a", "action": "core.echo", "script": "return 1"}), "kind-multiple")
    assert p.location == "steps[0]"
    assert p.message == "step 'a' has 2 kind keys, 'action' and 'script': it must have exactly one"


def test_step_is_checked_against_its_own_kind():
    found = problems(doc({"id": "a", "if": "true", "then": [], "nxt": "b", "with": {}}))
    assert {(p.location, p.code) for p in found} == {
        ("steps[0].nxt", "unknown-field"),
        ("steps[0].with", "unknown-field"),
    }
    nxt = next(p for p in found if p.location == "steps[0].nxt")
    assert nxt.message == "unknown field 'nxt' (did you mean 'next'?)"


def test_wrong_type_is_a_readable_schema_problem():
    p = only(doc({"id": "a", **ECHO, "retry": {"max_attempts": "lots"}}), "schema")
    assert p.location == "steps[0].retry.max_attempts"
    assert p.message == "expected an integer, got text 'lots'"


def test_missing_field():
    p = only({"steps": [{"id": "a", **ECHO}]}, "missing-field")
    assert (p.location, p.message) == ("name", "is required")


def test_problems_inside_loop_bodies_are_located():
    p = only(
        doc({"id": "l", "for_each": "[1]", "do": [{"id": "x", **ECHO, "join": "some"}]}),
        "schema",
    )
    assert p.location == "steps[0].do[0].join"
    assert p.message == "expected 'all' or 'any', got text 'some'"


# ---------------------------------------------------------------- ids and edges


def test_unknown_step_suggests_the_closest_id():
    data = doc(
        {"id": "a", **ECHO, "next": "b"},
        {"id": "b", **ECHO, "next": "c"},
        {"id": "c", **ECHO, "next": "d"},
        {"id": "d", **ECHO, "next": "notfy"},
        {"id": "notify", **ECHO},
    )
    found = problems(data)
    p = next(p for p in found if p.code == "unknown-step")
    assert str(p) == "steps[3].next: unknown step 'notfy' (did you mean 'notify'?)"


@pytest.mark.parametrize(
    ("step", "location"),
    [
        ({"if": "true", "then": "x"}, "steps[0].then"),
        ({"if": "true", "else": ["b", "x"]}, "steps[0].else[1]"),
        ({"switch": "1", "cases": {"one": "x"}}, "steps[0].cases.one"),
        ({"switch": "1", "default": "x"}, "steps[0].default"),
        ({"approval": "ok?", "on": {"approve": "x"}}, "steps[0].on.approve"),
        ({**ECHO, "on_error": "x"}, "steps[0].on_error"),
    ],
)
def test_unknown_step_in_every_edge_field(step, location):
    data = doc({"id": "a", **step}, {"id": "b", **ECHO})
    found = [p for p in problems(data) if p.code == "unknown-step"]
    assert [(p.location, p.message) for p in found] == [(location, "unknown step 'x'")]


def test_unknown_start():
    p = only(doc({"id": "a", **ECHO}, start="aa"), "unknown-step")
    assert str(p) == "start: unknown step 'aa' (did you mean 'a'?)"


def test_duplicate_ids_within_a_scope():
    p = only(doc({"id": "a", **ECHO, "next": "a2"}, {"id": "a", **ECHO}), "duplicate-id")
    assert str(p) == "steps[1].id: duplicate step id 'a' (also steps[0])"


def test_loop_body_is_its_own_scope_for_ids():
    data = doc({"id": "a", "for_each": "[1]", "do": [{"id": "a", **ECHO}]})
    assert problems(data) == []
    data = doc(
        {
            "id": "l",
            "for_each": "[1]",
            "do": [{"id": "x", **ECHO, "next": "x"}, {"id": "x", **ECHO}],
        }
    )
    p = only(data, "duplicate-id")
    assert p.location == "steps[0].do[1].id"


def test_cycle_is_named():
    data = doc(
        {"id": "start", **ECHO, "next": "a"},
        {"id": "a", **ECHO, "next": "b"},
        {"id": "b", **ECHO, "next": "c"},
        {"id": "c", "if": "true", "then": "a", "else": "end"},
        {"id": "end", **ECHO},
    )
    p = only(data, "cycle")
    assert p.location == "steps[1]"
    assert p.message.startswith("cycle: a -> b -> c -> a")


def test_self_loop_through_on_error_is_a_cycle():
    p = only(doc({"id": "a", **ECHO, "on_error": "a"}), "cycle")
    assert p.message.startswith("cycle: a -> a")


def test_unreachable_step():
    data = doc({"id": "a", **ECHO}, {"id": "orphan", **ECHO})
    p = only(data, "unreachable")
    assert str(p) == "steps[1]: step 'orphan' is unreachable: no edge leads to it from a"


def test_on_error_edges_make_steps_reachable():
    data = doc({"id": "a", **ECHO, "on_error": "fallback"}, {"id": "fallback", **ECHO})
    assert problems(data) == []


def test_unreachable_inside_a_loop_body():
    data = doc({"id": "l", "while": "false", "do": [{"id": "x", **ECHO}, {"id": "y", **ECHO}]})
    p = only(data, "unreachable")
    assert str(p) == "steps[0].do[1]: step 'y' is unreachable: no edge leads to it from x"


def test_next_on_a_branching_kind():
    data = doc({"id": "a", "if": "true", "then": "b", "next": "b"}, {"id": "b", **ECHO})
    p = only(data, "next-on-branching")
    assert p.location == "steps[0].next"
    assert p.message == "'if' step 'a' routes with then/else and cannot have next"


def test_edges_cannot_leave_a_do_scope():
    data = doc(
        {
            "id": "loop",
            "for_each": "[1]",
            "do": [{"id": "x", **ECHO, "next": "after"}],
            "next": "after",
        },
        {"id": "after", **ECHO},
    )
    p = only(data, "edge-leaves-scope")
    assert p.location == "steps[0].do[0].next"
    assert "step 'after' is outside the do: of 'loop'" in p.message
    assert "edges cannot leave a do: scope" in p.message


def test_edges_cannot_enter_a_do_scope():
    data = doc(
        {"id": "a", **ECHO, "next": "x"},
        {"id": "loop", "for_each": "[1]", "do": [{"id": "x", **ECHO}]},
    )
    found = [p for p in problems(data) if p.code == "unknown-step"]
    assert [str(p) for p in found] == [
        "steps[0].next: unknown step 'x': it is inside the do: of 'loop', "
        "and edges cannot enter a do: scope"
    ]


def test_on_error_continue_is_ambiguous_with_a_step_named_continue():
    data = doc(
        {"id": "a", **ECHO, "on_error": "continue", "next": "continue"}, {"id": "continue", **ECHO}
    )
    p = only(data, "on-error-ambiguous")
    assert p.location == "steps[0].on_error"
    assert "named 'continue'" in p.message


def test_approval_on_keys_must_be_choices():
    data = doc({"id": "a", "approval": "ok?", "on": {"aprove": "b"}}, {"id": "b", **ECHO})
    p = only(data, "unknown-choice")
    assert p.location == "steps[0].on.aprove"
    assert "(did you mean 'approve'?)" in p.message


# ---------------------------------------------------------------- actions


def test_unknown_action_type():
    p = only(doc({"id": "a", "action": "http.reqest"}), "unknown-action")
    assert (
        str(p)
        == "steps[0].action: unknown action type 'http.reqest' (did you mean 'http.request'?)"
    )


def test_unknown_parameter():
    data = doc({"id": "a", "action": "http.request", "with": {"url": "http://x", "methd": "GET"}})
    p = only(data, "unknown-parameter")
    assert p.location == "steps[0].with.methd"
    assert p.message == "unknown parameter 'methd' for http.request (did you mean 'method'?)"


def test_missing_parameter():
    p = only(doc({"id": "a", "action": "http.request", "with": {}}), "missing-parameter")
    assert str(p) == "steps[0].with.url: missing required parameter 'url' for http.request"


def test_mistyped_parameter_but_templates_are_accepted():
    data = doc({"id": "a", "action": "http.request", "with": {"url": "u", "method": "FETCH"}})
    p = only(data, "bad-parameter")
    assert p.location == "steps[0].with.method"
    templated = doc(
        {"id": "a", "action": "http.request", "with": {"url": "u", "method": "{{ Inputs.m }}"}}
    )
    assert problems(templated) == []


# ---------------------------------------------------------------- expressions


@pytest.mark.usefixtures("expressions_ready")
@pytest.mark.parametrize(
    ("step", "location"),
    [
        ({"if": "a ===", "then": []}, "steps[0].if"),
        ({"transform": "{{ 1 + }}"}, "steps[0].transform"),
        ({"set": {"n": "(("}}, "steps[0].set.n"),
        ({"action": "core.echo", "with": {"deep": ["{{ Inputs.x. }}"]}}, "steps[0].with.deep[0]"),
        ({"fail": "broken {{ ) }}"}, "steps[0].fail"),
        ({"approval": "ok {{ Inputs.x + }}?"}, "steps[0].approval"),
        ({"sleep": "{{ * }}"}, "steps[0].sleep"),
        ({"script": "return (;"}, "steps[0].script"),
        ({"for_each": "[1,", "do": [{"id": "x", "transform": "1"}]}, "steps[0].for_each"),
        (
            {"action": "core.echo", "wait_until": {"condition": "Output.ok &&"}},
            "steps[0].wait_until.condition",
        ),
    ],
)
def test_expression_syntax(step, location):
    p = only(doc({"id": "a", **step}), "expression-syntax")
    assert p.location == location
    assert "does not parse" in p.message


@pytest.mark.usefixtures("expressions_ready")
def test_expression_syntax_in_outputs_and_triggers():
    data = doc(
        {"id": "a", **ECHO},
        outputs={"x": "{{ Steps.a.output. }}"},
        triggers=[
            {"monitor": {"match": "status =="}},
            {"webhook": {"connection": "h"}, "inputs": {"who": "{{ ] }}"}},
        ],
        inputs={"who": {"type": "string"}},
    )
    found = [p.location for p in problems(data) if p.code == "expression-syntax"]
    assert found == ["outputs.x", "triggers[0].monitor.match", "triggers[1].inputs.who"]


@pytest.mark.usefixtures("expressions_ready")
def test_reference_to_a_step_that_cannot_have_run_is_a_warning():
    data = doc(
        {"id": "a", **ECHO, "next": ["b", "c"]},
        {"id": "b", "action": "core.echo", "with": {"v": "{{ Steps.c.output }}"}},
        {"id": "c", "transform": "Steps.a.output"},
    )
    found = problems(data)
    assert [(p.location, p.severity, p.code) for p in found] == [
        ("steps[1].with.v", "warning", "reference-not-ancestor")
    ]
    assert found[0].message == (
        "Steps.c cannot have run before step 'b': 'c' is not an ancestor of it"
    )


@pytest.mark.usefixtures("expressions_ready")
def test_references_inside_loops():
    data = doc(
        {"id": "pre", **ECHO, "next": "loop"},
        {
            "id": "loop",
            "for_each": "Steps.pre.output",
            "do": [
                {"id": "x", "transform": "Steps.pre.output + Item", "next": "y"},
                {"id": "y", "transform": "Steps.x.output + Steps.loop.output"},
            ],
            "output": "Steps.y.output",
            "next": "post",
        },
        {"id": "post", "transform": "Steps.loop.output.concat(Steps.y.output)"},
    )
    found = [(p.location, p.message) for p in problems(data)]
    assert found == [
        (
            "steps[1].do[1].transform",
            "Steps.loop cannot have run before step 'y': 'loop' is not an ancestor of it",
        ),
        (
            "steps[2].transform",
            "Steps.y is inside the do: of 'loop'; outside the loop only Steps.loop.output "
            "is visible",
        ),
    ]


@pytest.mark.usefixtures("expressions_ready")
def test_reference_to_a_missing_step_is_a_warning():
    p = only(
        doc({"id": "fetch", **ECHO, "next": "b"}, {"id": "b", "transform": "Steps.fetc.output"}),
        "unknown-reference",
    )
    assert p.severity == "warning"
    assert (
        str(p) == "steps[1].transform: Steps.fetc: there is no step 'fetc' (did you mean 'fetch'?)"
    )


# ---------------------------------------------------------------- durations, triggers, inputs


def test_bad_duration():
    p = only(doc({"id": "a", **ECHO, "timeout": "5 minutes"}), "bad-duration")
    assert p.location == "steps[0].timeout"
    assert "bad duration '5 minutes'" in p.message


def test_bad_sleep_duration():
    p = only(doc({"id": "a", "sleep": "10 sec"}), "bad-duration")
    assert p.location == "steps[0].sleep"
    assert "bad duration '10 sec'" in p.message


def test_duplicate_trigger_ids_and_default_ids():
    from switchyard.definition.loader import parse_workflow
    from switchyard.definition.validate import trigger_ids

    triggers = [
        {"schedule": {"every": "1h"}},
        {"schedule": {"every": "2h"}},
        {"webhook": {"connection": "c"}},
        {"monitor": {}, "id": "schedule-1"},
    ]
    wf, _ = parse_workflow(doc({"id": "a", **ECHO}, triggers=triggers))
    assert wf is not None
    assert trigger_ids(wf) == ["schedule-1", "schedule-2", "webhook", "schedule-1"]
    p = only(doc({"id": "a", **ECHO}, triggers=triggers), "duplicate-id")
    assert str(p) == "triggers[3].id: duplicate trigger id 'schedule-1' (also triggers[0])"


def test_bad_cron():
    data = doc({"id": "a", **ECHO}, triggers=[{"schedule": {"cron": "61 * * * *"}}])
    p = only(data, "bad-cron")
    assert str(p) == "triggers[0].schedule.cron: bad minute '61' in '61': expected 0-59"


def test_unknown_timezone():
    data = doc(
        {"id": "a", **ECHO},
        triggers=[{"schedule": {"cron": "0 9 * * MON-FRI", "timezone": "Europe/Pari"}}],
    )
    p = only(data, "bad-timezone")
    assert str(p) == (
        "triggers[0].schedule.timezone: unknown time zone 'Europe/Pari' "
        "(did you mean 'Europe/Paris'?)"
    )


def test_schedule_needs_cron_or_every():
    p = only(doc({"id": "a", **ECHO}, triggers=[{"schedule": {}}]), "bad-schedule")
    assert p.location == "triggers[0].schedule"


def test_trigger_inputs_must_be_declared():
    data = doc(
        {"id": "a", **ECHO},
        inputs={"service": {}},
        triggers=[{"webhook": {"connection": "c"}, "inputs": {"servce": "x"}}],
    )
    p = only(data, "unknown-input")
    assert str(p) == "triggers[0].inputs.servce: unknown input 'servce' (did you mean 'service'?)"


def test_trigger_kind_missing():
    p = only(doc({"id": "a", **ECHO}, triggers=[{"schedul": {"every": "1h"}}]), "kind-missing")
    assert p.location == "triggers[0]"
    assert "(did you mean 'schedule'?)" in p.message


def test_input_default_must_match_type_and_enum():
    data = doc(
        {"id": "a", **ECHO},
        inputs={
            "limit": {"type": "integer", "default": "ten"},
            "env": {"type": "string", "enum": ["prod", "dev"], "default": "qa"},
            "tags": {"type": "array", "items": "string", "default": ["a", 2]},
        },
    )
    found = [str(p) for p in problems(data) if p.code == "input-default"]
    assert found == [
        "inputs.limit.default: expected an integer, got text 'ten'",
        "inputs.env.default: 'qa' is not one of 'prod', 'dev'",
        "inputs.tags.default[1]: expected text, got an integer 2",
    ]


def test_call_needs_a_workflow_name():
    p = only(doc({"id": "a", "call": "Other_Flow"}), "bad-workflow-name")
    assert p.location == "steps[0].call"


def test_yaml_problem_through_validate_text():
    from switchyard.definition.validate import validate_text

    wf, found = validate_text("name: a\nsteps: [\n")
    assert wf is None and [p.code for p in found] == ["yaml"]


def test_loop_expression_must_be_an_expression_or_literal():
    p = only(doc({"id": "l", "for_each": 5, "do": [{"id": "x", **ECHO}]}), "schema")
    assert str(p) == "steps[0].for_each: expected an expression or a list, got an integer"
