"""`script` steps: fresh context, return value, ScriptError, limits, threads."""

from __future__ import annotations

import concurrent.futures
import time

import pytest

from switchyard.expressions import ExpressionError, Scope, ScriptError, run_script


def test_return_value_and_scope(scope: Scope) -> None:
    body = """
    const bad = Steps.get_pods.output.body.items.filter(p => p.status !== 'Running');
    return {service: Inputs.service, bad: bad.map(p => p.name), n: bad.length,
            now: Date.now(), tag: Trigger.event.tags[0]};
    """
    assert run_script(body, scope) == {
        "service": "api",
        "bad": ["api-2", "api-3"],
        "n": 2,
        "now": 1_704_189_600_000,
        "tag": "team:sre",
    }
    assert run_script("", scope) is None
    assert run_script("return Item * 2 + Index", scope.with_(item=21, index=0)) == 42


def test_scripts_get_mutable_copies(scope: Scope) -> None:
    assert run_script("Trigger.event.tags.push('x'); return Trigger.event.tags.sort()", scope) == [
        "env:prod",
        "team:sre",
        "x",
    ]
    assert scope.trigger["event"]["tags"] == ["team:sre", "env:prod"]
    assert run_script("globalThis.leak = 1; Object.prototype.p = 1; return 1", scope) == 1
    assert run_script("return [typeof leak, ({}).p]", scope) == ["undefined", None]


def test_throw_is_a_script_error(scope: Scope) -> None:
    with pytest.raises(ScriptError) as info:
        run_script("throw new Error('nope')", scope, step="calc")
    e = info.value
    assert isinstance(e, ExpressionError)
    assert e.type == "ScriptError" and e.step == "calc"
    assert str(e) == "step 'calc': script failed: Error: nope"


def test_syntax_error_is_a_script_error(scope: Scope) -> None:
    with pytest.raises(ScriptError):
        run_script("return (", scope)
    with pytest.raises(ScriptError):
        run_script("}); (function(){", scope)


def test_timeout(scope: Scope) -> None:
    t = time.monotonic()
    with pytest.raises(ScriptError, match="time limit"):
        run_script("while (true) {}", scope, timeout_s=0.2)
    assert time.monotonic() - t < 2.0


def test_memory(scope: Scope) -> None:
    with pytest.raises(ScriptError, match=r"memory limit|string too long"):
        run_script(
            "const a = []; while (true) a.push(new Array(1000).fill(1));",
            scope,
            memory_mb=16,
            timeout_s=10,
        )
    with pytest.raises(ScriptError, match="memory limit"):
        run_script("return 'x'.repeat(2**26).length", scope, memory_mb=16)


def test_no_host_and_no_code_generation(scope: Scope) -> None:
    body = "return [typeof require, typeof process, typeof fetch, typeof std, typeof os]"
    assert run_script(body, scope) == ["undefined"] * 5
    for bad in [
        "return eval('1')",
        "return Function('return this')()",
        "return (() => 1).constructor('return 1')()",
    ]:
        with pytest.raises(ScriptError):
            run_script(bad, scope)


def test_deterministic(scope: Scope) -> None:
    body = "return [Math.random(), new Date().toISOString()]"
    assert run_script(body, scope) == run_script(body, scope)
    assert run_script(body, scope)[1] == "2024-01-02T10:00:00.000Z"


def test_runs_in_many_threads(scope: Scope) -> None:
    body = "let s = 0; for (let i = 0; i < 10000; i++) s += i; return s + Inputs.limit"
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: run_script(body, scope), range(40)))
    assert results == [49995007] * 40
