"""The sandbox: no host access, no state kept between evaluations, limits hold."""

from __future__ import annotations

import contextlib
import time

import pytest

from switchyard.expressions import ExpressionError, Scope, configure, evaluate, render

HOST_NAMES = [
    "require",
    "process",
    "fetch",
    "std",
    "os",
    "module",
    "exports",
    "XMLHttpRequest",
    "print",
    "console",
    "scriptArgs",
    "performance",
    "WeakRef",
    "FinalizationRegistry",
    "SharedArrayBuffer",
    "Atomics",
    "Deno",
    "Bun",
]


@pytest.mark.parametrize("name", HOST_NAMES)
def test_no_host_globals(scope: Scope, name: str) -> None:
    assert evaluate(f"typeof {name}", scope) == "undefined"
    assert evaluate(f"typeof globalThis[{name!r}]", scope) == "undefined"


@pytest.mark.parametrize(
    "expr",
    [
        "import('os')",
        "import('std')",
        "import('/etc/passwd')",
        "require('fs')",
        "process.exit(1)",
        "fetch('http://127.0.0.1/')",
        "eval('1')",
        "(0, eval)('this')",
        "Function('return this')()",
        "new Function('return 1')",
        "(() => 1).constructor('return this')()",
        "({}).constructor.constructor('return this')()",
        "Object.getPrototypeOf(function*(){}).constructor('yield 1')",
        "Object.getPrototypeOf(async function(){}).constructor('return 1')",
        "Object.getPrototypeOf(async function*(){}).constructor('yield 1')",
        "Reflect.construct(Function, ['return 1'])",
    ],
)
def test_escapes_fail(scope: Scope, expr: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(expr, scope)


def test_dynamic_import_gives_a_rejected_promise_at_most(scope: Scope) -> None:
    # `import()` is an expression; it must neither load anything nor return a module.
    with pytest.raises(ExpressionError, match="Promise"):
        evaluate("import('os')", scope)
    assert evaluate("(import('os'), 1)", scope) == 1


# Each attempt must fail or do nothing, and the probe after it must see a pristine realm.
TAMPERING = [
    "globalThis.leak = 1",
    "leak = 1",
    "Object.defineProperty(globalThis, 'leak', {value: 1})",
    "Reflect.set(globalThis, 'leak', 1) && leak",
    "globalThis.JSON = null",
    "delete globalThis.JSON",
    "delete globalThis.Math",
    "Math.max = () => 42",
    "Math.random = () => 0.5",
    "Date.now = () => 5",
    "JSON.stringify = () => 'x'",
    "Object.prototype.leak = 1",
    "({}).__proto__.leak = 1",
    "Object.getPrototypeOf({}).leak = 1",
    "Array.prototype.map = function () { return ['hijacked'] }",
    "Array.prototype.leak = 1",
    "String.prototype.toUpperCase = () => 'x'",
    "Steps.__proto__.leak = 1",
    "Inputs.__proto__.leak = 1",
    "Object.setPrototypeOf(Inputs, {leak: 1})",
    "Function.prototype.leak = 1",
    "(function*(){}).constructor.prototype.leak = 1",
    "Object.getPrototypeOf([][Symbol.iterator]()).leak = 1",
    "Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())).leak = 1",
    "Object.getPrototypeOf(Uint8Array).prototype.leak = 1",
    "Object.getPrototypeOf(Promise.resolve()).leak = 1",
    "Promise.prototype.then = () => 1",
    "Error.prototype.leak = 1",
    "Symbol.prototype.leak = 1",
    "RegExp.prototype.exec = () => null",
    "Inputs.service = 'hijacked'",
    "Inputs.leak = 1",
    "delete Inputs.service",
    "Trigger.event.tags.push('leak')",
    "Trigger.event.tags.sort().reverse()",
    "Trigger.event.attributes.region = 'x'",
    "Steps.get_pods.output.body.items[0].name = 'x'",
    "Steps.get_pods.status = 'x'",
    "Vars.team = 'x'",
    "Run.id = 'x'",
    "Object.assign(Inputs, {leak: 1})",
    "Object.defineProperty(Inputs, 'leak', {value: 1})",
    "(() => { 'use strict'; return this; })()",  # `this` is undefined: nothing to mutate
    "Math.random() && Math.random()",
    "Promise.resolve().then(() => { globalThis.leak = 1 })",
    "(Promise.resolve().then(() => { Object.prototype.leak = 1 }), 1)",
]

PROBE = (
    "[typeof leak, typeof globalThis.leak, ({}).leak, [].leak, (() => 1).leak,"
    " [1,2].map(x => x * 2).join(), typeof JSON.stringify, JSON.stringify([1]),"
    " Math.max(1, 2), 'a'.toUpperCase(), Inputs.service, Inputs.leak, Steps.leak,"
    " Trigger.event.tags.join(), Trigger.event.attributes.region,"
    " Steps.get_pods.output.body.items[0].name, Steps.get_pods.status, Vars.team, Run.id,"
    " /a/.exec('a')[0], typeof Promise.prototype.then,"
    " Object.getPrototypeOf(Inputs) === Object.prototype,"
    " Date.now()]"
)
PROBE_RESULT = [
    "undefined",
    "undefined",
    None,
    None,
    None,
    "2,4",
    "function",
    "[1]",
    2,
    "A",
    "api",
    None,
    None,
    "team:sre,env:prod",
    "eu-west-1",
    "api-1",
    "succeeded",
    "sre",
    "run-1",
    "a",
    "function",
    True,
    1_704_189_600_000,
]


@pytest.mark.parametrize("attack", TAMPERING)
def test_tampering_leaks_nothing_into_the_next_evaluation(scope: Scope, attack: str) -> None:
    assert evaluate(PROBE, scope) == PROBE_RESULT
    with contextlib.suppress(ExpressionError):
        evaluate(attack, scope)
    assert evaluate(PROBE, scope) == PROBE_RESULT
    # and through another scope sharing the same converted values
    assert evaluate(PROBE, scope.with_(item=1)) == PROBE_RESULT


def test_scope_mutation_is_refused_with_a_hint(scope: Scope) -> None:
    with pytest.raises(ExpressionError, match="read-only"):
        evaluate("Inputs.x = 5", scope)
    with pytest.raises(ExpressionError, match="copy"):
        evaluate("Trigger.event.tags.push(1)", scope)
    assert evaluate("[...Trigger.event.tags, 1].length", scope) == 3


def test_python_values_are_not_mutated(scope: Scope) -> None:
    before = repr(scope.inputs), repr(scope.trigger)
    for attack in TAMPERING:
        with contextlib.suppress(ExpressionError):
            evaluate(attack, scope)
    assert (repr(scope.inputs), repr(scope.trigger)) == before


def test_closures_cannot_carry_state(scope: Scope) -> None:
    # Anything an expression builds is gone afterwards: same input, same output.
    expr = "(() => { const m = new Map(); m.set(1, Math.random()); return m.size; })()"
    assert [evaluate(expr, scope) for _ in range(3)] == [1, 1, 1]
    assert evaluate("Symbol.for('x') === Symbol.for('x')", scope) is True


@pytest.fixture
def short_limits():  # type: ignore[no-untyped-def]
    configure(time_s=0.3, memory_mb=64)
    yield
    configure(time_s=1.0, memory_mb=128)


@pytest.mark.parametrize(
    "expr",
    [
        "(()=>{while(true){}})()",
        "(() => { for (;;) {} })()",
        "[1,2,3].map(() => { while (true) {} })",
        "/(a+)+$/.test('a'.repeat(40) + 'b')",
    ],
)
def test_runaway_loops_hit_the_time_limit(scope: Scope, short_limits: None, expr: str) -> None:
    t = time.monotonic()
    with pytest.raises(ExpressionError, match="time limit"):
        evaluate(expr, scope)
    assert time.monotonic() - t < 3.0
    assert evaluate("1 + 1", scope) == 2
    assert evaluate(PROBE, scope) == PROBE_RESULT


@pytest.mark.parametrize(
    "expr",
    [
        "'x'.repeat(2**28)",
        "new Array(1e9).fill(0)",
        "(() => { const a = []; while (true) a.push({x: a.length}); })()",
        "(() => { let s = 'x'; while (true) s = s + s; })()",
    ],
)
def test_huge_allocations_hit_the_memory_limit(scope: Scope, short_limits: None, expr: str) -> None:
    with pytest.raises(ExpressionError, match=r"memory limit|time limit|string too long"):
        evaluate(expr, scope)
    assert evaluate("1 + 1", scope) == 2
    assert evaluate(PROBE, scope) == PROBE_RESULT


@pytest.mark.parametrize(
    "expr",
    [
        "(function f() { return f() + 1; })()",
        "(() => { const f = (n) => f(n + 1); return f(0); })()",
        "JSON.parse('['.repeat(100000) + ']'.repeat(100000))",
        "(() => { let a = []; for (let i = 0; i < 100000; i++) a = [a]; return a; })()",
    ],
)
def test_deep_recursion_is_an_expression_error(scope: Scope, expr: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(expr, scope)
    assert evaluate(PROBE, scope) == PROBE_RESULT


def test_template_text_of_a_huge_value_is_limited(scope: Scope, short_limits: None) -> None:
    with pytest.raises(ExpressionError):
        render("x {{ 'y'.repeat(2**27) }}", scope)
    assert render("x {{ 1 }}", scope) == "x 1"


def test_errors_name_step_field_and_expression(scope: Scope) -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate("Steps.check.output.y", scope, step="notify", field="with.text")
    e = info.value
    assert (e.step, e.field, e.expression, e.type) == (
        "notify",
        "with.text",
        "Steps.check.output.y",
        "ExpressionError",
    )
    assert str(e) == (
        "step 'notify', field 'with.text': expression `Steps.check.output.y` failed: "
        "TypeError: cannot read property 'y' of null"
    )
    assert e.message.startswith("TypeError")
    with pytest.raises(ExpressionError) as info:
        render("Hi {{ Inputs.service.nope.x }}", scope, step="s", field="with.body")
    assert str(info.value).startswith(
        "step 's', field 'with.body': expression `Inputs.service.nope.x`"
    )
    with pytest.raises(ExpressionError) as info:
        evaluate("throw new Error('boom')", scope, step="s")
    assert info.value.syntax


def test_thrown_values_are_reported(scope: Scope) -> None:
    with pytest.raises(ExpressionError, match="boom"):
        evaluate("(() => { throw new RangeError('boom'); })()", scope)
    with pytest.raises(ExpressionError, match="plain string"):
        evaluate("(() => { throw 'plain string'; })()", scope)


def test_syntax_errors_are_expression_errors(scope: Scope) -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate("1 +", scope, step="a", field="if")
    assert info.value.syntax
    assert "step 'a', field 'if': expression `1 +` is invalid: SyntaxError" in str(info.value)
    with pytest.raises(ExpressionError, match="single expression"):
        evaluate("1); while(true){} (1", scope)
