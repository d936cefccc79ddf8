"""check_syntax / check_script_syntax: parse only, reject breakouts."""

from __future__ import annotations

import pytest

from switchyard.expressions import Scope, check_script_syntax, check_syntax, evaluate

VALID = [
    "1",
    "Inputs.x ?? 'a'",
    "a?.b?.[c]?.(d)",
    "({a: 1, b: [1, 2]})",
    "x => { if (x) { return /}/.test(x); } return 0; }",
    "`a ${`b ${c}`}`",
    "[1, 2].map((x) => x * 2)",
    "1 // trailing comment",
    "a, b",
    "(async () => 1)",
    "function () { return 1 }",
]
INVALID = [
    "",
    "   ",
    "1 +",
    "a b",
    "1); while(true){} (1",
    "1]; while(true){} [1",
    "1) + (2",
    "1}); (function(){",
    "if (x) 1",
    "let x = 1",
    "x; y",
    "return 1",
    "throw 1",
    "1 /* unterminated",
    "'unterminated",
    "`unterminated",
    "{{ x }}",
]


@pytest.mark.parametrize("expr", VALID)
def test_valid_expressions(expr: str) -> None:
    assert check_syntax(expr) is None


@pytest.mark.parametrize("expr", INVALID)
def test_invalid_expressions(expr: str) -> None:
    assert check_syntax(expr) is not None


def test_breakout_message_mentions_single_expression() -> None:
    msg = check_syntax("1); while(true){} (1")
    assert msg is not None and "single expression" in msg and "column 2" in msg


def test_message_has_a_position() -> None:
    msg = check_syntax("1 +\n2 )) +\n3")
    assert msg is not None and "(line 2)" in msg


def test_truncated_expression_says_so_without_wrapper_artifacts() -> None:
    for text in ("1 +", "1 +\n+ +", "Steps.a.output.filter(x =>"):
        msg = check_syntax(text)
        assert msg is not None and "unexpected end of input" in msg, msg
        assert "line" not in msg and "')'" not in msg


def test_check_never_executes(tmp_path: object) -> None:
    # A breakout that would loop forever or declare globals is only parsed.
    assert check_syntax("1); while(true){} (1") is not None
    assert check_syntax("1]; let Date = 1; [1") is not None
    assert check_syntax("1); let Math = 1; (1") is not None
    assert evaluate("Math.max(1, 2) + new Date(0).getTime()", Scope()) == 2


SCRIPTS_OK = [
    "return 1",
    "const x = Inputs.a ?? 2;\nreturn x * 2;",
    "let s = 0; for (const i of [1, 2, 3]) { s += i } return s",
    "function f(n) { return n < 2 ? n : f(n - 1) + f(n - 2) }\nreturn f(10)",
    "if (Inputs.x) { return /}/.source }",
    "",
    "// nothing",
]
SCRIPTS_BAD = [
    "return (",
    "}); (function(){",
    "}, function(){",
    "}(while(1){}), function(){",
    "return 1 }",
    "import fs from 'fs'",
    "'unterminated",
]


@pytest.mark.parametrize("body", SCRIPTS_OK)
def test_valid_scripts(body: str) -> None:
    assert check_script_syntax(body) is None


@pytest.mark.parametrize("body", SCRIPTS_BAD)
def test_invalid_scripts(body: str) -> None:
    assert check_script_syntax(body) is not None
