"""Templating rules, every name in scope, and ES2020 features."""

from __future__ import annotations

import pytest

from switchyard.expressions import (
    ExpressionError,
    Scope,
    check_template,
    evaluate,
    is_template,
    referenced_steps,
    render,
    template_expressions,
)


def test_lone_template_keeps_type(scope: Scope) -> None:
    assert render("{{ Inputs.limit }}", scope) == 7
    assert render("  {{ Trigger.event.tags }}  ", scope) == ["team:sre", "env:prod"]
    assert render("{{ Steps.get_pods.output.body }}", scope)["items"][0]["name"] == "api-1"
    assert render("{{ Inputs.dry_run }}", scope) is False
    assert render("{{ null }}", scope) is None
    assert render("{{ Vars.threshold }}", scope) == 0.5


def test_mixed_template_interpolates_text(scope: Scope) -> None:
    out = render("Alert {{ Trigger.event.title }} on {{ Inputs.service }}", scope)
    assert out == "Alert High latency on api"
    assert render("n={{ Inputs.limit }} x={{ 1.5 }} big={{ 1e21 }}", scope) == "n=7 x=1.5 big=1e+21"
    assert render("tags: {{ Trigger.event.tags }}", scope) == 'tags: ["team:sre","env:prod"]'
    assert render("obj: {{ ({a: 1}) }}", scope) == 'obj: {"a":1}'
    assert render("[{{ null }}|{{ undefined }}|{{ true }}]", scope) == "[||true]"
    assert render("{{ 'a' }}{{ 'b' }}", scope) == "ab"


def test_render_recurses_and_names_the_field(scope: Scope) -> None:
    value = {
        "text": "{{ Inputs.service }}",
        "headers": {"X-Team": "{{ Vars.team }}", "n": 3},
        "items": ["a", "{{ Index }}", "{{ Steps.nope.output }}"],
    }
    with pytest.raises(ExpressionError) as info:
        render(value, scope, step="notify", field="with")
    assert info.value.field == "with.items[2]"
    assert info.value.step == "notify"
    ok = render({k: v for k, v in value.items() if k != "items"}, scope, field="with")
    assert ok == {"text": "api", "headers": {"X-Team": "sre", "n": 3}}
    assert render([1, None, True, "{{ 2 }}"], scope) == [1, None, True, 2]


def test_braces_inside_expressions(scope: Scope) -> None:
    assert render("{{ ({a: {b: 1}}) }}", scope) == {"a": {"b": 1}}
    assert render("x{{ '}}' }}y", scope) == "x}}y"
    assert render("{{ `${Inputs.service}}}` }}", scope) == "api}}"
    assert render("{{ [1,2].map(x => { return {v: x}; }) }}", scope) == [{"v": 1}, {"v": 2}]
    assert template_expressions("a {{ x }} b {{ y.z }}") == ["x", "y.z"]
    assert template_expressions("{{ ({a: '}}'}) }}") == ["({a: '}}'})"]


def test_bare_expressions_accept_braces(scope: Scope) -> None:
    assert evaluate("Inputs.limit > 5", scope) is True
    assert evaluate("{{ Inputs.limit > 5 }}", scope) is True
    assert evaluate("  {{Inputs.service}} ", scope) == "api"


def test_unclosed_template_is_a_syntax_problem(scope: Scope) -> None:
    assert is_template("a {{ b")
    assert not is_template("plain")
    assert check_template("a {{ b") is not None
    assert check_template("a {{ 1) }}") is not None
    assert check_template("a {{ b }}") is None
    with pytest.raises(ExpressionError):
        template_expressions("{{ x")
    with pytest.raises(ExpressionError) as info:
        render("hello {{ Inputs.service", scope, step="s", field="with.text")
    assert "unclosed" in str(info.value)


def test_non_strings_pass_through(scope: Scope) -> None:
    assert render(5, scope) == 5
    assert render(None, scope) is None
    assert render("no template", scope) == "no template"


def test_every_name_in_scope(scope: Scope) -> None:
    assert evaluate("Inputs.service", scope) == "api"
    pods = "Steps.get_pods"
    assert evaluate(f"{pods}.status", scope) == "succeeded"
    assert evaluate(f"{pods}.attempts", scope) == 1
    assert evaluate(f"{pods}.started_at", scope) == "2024-01-02T10:00:00Z"
    assert evaluate(f"{pods}.finished_at", scope) == "2024-01-02T10:00:01Z"
    assert evaluate(f"{pods}.output.status", scope) == 200
    assert evaluate("Steps.check.error.type", scope) == "HttpServerError"
    assert evaluate("Steps.check.output", scope) is None
    assert evaluate("Vars.team", scope) == "sre"
    assert evaluate("Trigger.type + ':' + Trigger.event.id", scope) == "monitor:evt-1"
    assert evaluate("Run.workflow + '@' + Run.version", scope) == "restart@3"
    assert evaluate("typeof Item + typeof Index + typeof Output", scope) == (
        "undefinedundefinedundefined"
    )
    loop = scope.with_(item={"name": "api-2"}, index=1)
    assert evaluate("Item.name + '#' + Index", loop) == "api-2#1"
    assert evaluate("Output.status == 'done'", scope.with_(output={"status": "done"})) is True
    assert evaluate("Item", scope.with_(item=None)) is None
    assert evaluate("Item", scope.with_(item="a\x00b")) == "a\x00b"


def test_derived_scopes_see_new_steps(scope: Scope) -> None:
    assert evaluate("Steps.new?.output", scope) is None
    s2 = scope.with_step("new", {"status": "succeeded", "output": {"n": 1}})
    assert evaluate("Steps.new.output.n", s2) == 1
    assert evaluate("Object.keys(Steps)", s2) == ["get_pods", "check", "new"]
    s3 = s2.with_step("new", {"status": "succeeded", "output": {"n": 2}})
    assert evaluate("Steps.new.output.n", s3) == 2
    assert evaluate("Steps.new.output.n", s2) == 1  # the parent is unchanged
    assert evaluate("Vars.team", s3.with_(vars={"team": "ops"})) == "ops"
    assert evaluate("Vars.team", s3) == "sre"


def test_es2020_features(scope: Scope) -> None:
    assert evaluate("Steps.nope?.output?.x ?? 'default'", scope) == "default"
    assert evaluate("Inputs.missing ?? 0", scope) == 0
    assert evaluate("[...Trigger.event.tags, 'x'].length", scope) == 3
    assert evaluate("({...Inputs, limit: 1}).limit", scope) == 1
    assert evaluate("`svc=${Inputs.service}`", scope) == "svc=api"
    expr = "Steps.get_pods.output.body.items.filter(p => p.status != 'Running').map(p => p.name)"
    assert evaluate(expr, scope) == ["api-2", "api-3"]
    assert evaluate("Trigger.event.tags.includes('team:sre')", scope) is True
    assert evaluate("Object.entries({a: 1}).flat()", scope) == ["a", 1]
    assert evaluate("[3, 1, 2].sort((a, b) => a - b)", scope) == [1, 2, 3]
    assert evaluate("Trigger.event.tags.toSorted()", scope) == ["env:prod", "team:sre"]
    assert evaluate("10n ** 3n", scope) == 1000
    assert evaluate("'a-b-c'.replaceAll('-', '+')", scope) == "a+b+c"
    assert evaluate("(() => { const x = 2; return x * 3; })()", scope) == 6
    assert evaluate("JSON.parse('{\"k\": [1]}').k[0]", scope) == 1
    assert evaluate("/^api-(\\d)$/.exec('api-2')[1]", scope) == "2"


def test_result_conversion(scope: Scope) -> None:
    assert evaluate("undefined", scope) is None
    assert evaluate("(() => 1)", scope) is None
    assert evaluate("0/0", scope) is None
    assert evaluate("2.0", scope) == 2 and isinstance(evaluate("2.0", scope), int)
    assert evaluate("Inputs.limit * 1.5", scope) == 10.5
    assert evaluate("({u: undefined, d: new Date(0)})", scope) == {"d": "1970-01-01T00:00:00.000Z"}
    assert evaluate("'\\u0000x'", scope) == "\x00x"
    assert evaluate("'é😀'", scope) == "é😀"


def test_referenced_steps() -> None:
    assert referenced_steps("Steps.a.output + Steps['b'].status + Steps[\"c\"]") == {"a", "b", "c"}
    assert referenced_steps("Steps?.d?.output") == {"d"}
    assert referenced_steps("'Steps.x' + foo.Steps.y + Steps[k]") == set()
    assert referenced_steps("Hi {{ Steps.a.output }} and {{ `${Steps.b.status}` }}") == {"a", "b"}
    assert referenced_steps("{{ Steps.z }}") == {"z"}
    assert referenced_steps("Steps.a /* Steps.b */ // Steps.c") == {"a"}
