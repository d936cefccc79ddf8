"""Syntax checks that never run the code they check.

QuickJS exposes no parse-only call, so each check is a script that starts with
`throw 0;`: a script is parsed completely before its first statement runs, so
a syntax error anywhere is reported, and otherwise execution stops at once at
our `throw`. The checks run in a separate, plain per-thread context, thrown
away after any failure, because even an unexecuted script declares its
top-level names (a would-be breakout's `let x` must not land in the evaluation
context).

An expression is a single expression iff it parses both as `(EXPR\\n)` and as
`[EXPR\\n]`. Up to the first closer that does not belong to EXPR, both scripts
see the same tokens in the same (expression) states; to escape the wrapper that
closer must be `)` in the first and `]` in the second, and one token cannot be
both. So `1); while(true){} (1` and `1]; x; [1` are each rejected by one of the
two. The trailing newline ends a `//` comment. A script body is checked inside
the same function wrapper `run_script` uses, plus the tokenizer's bracket count
(a body must never close the function around it: `}, f(), function(){`).
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from ._engine import PARAMS
from ._lexer import LexError, scan

_POS = re.compile(r"<input>:(\d+)")
_local = threading.local()

EXPR_HEAD = '"use strict"; throw 0;\n'
SCRIPT_HEAD = f'"use strict"; throw 0;\n(function ({PARAMS}) {{"use strict";\n'


def _checker():  # type: ignore[no-untyped-def]
    ctx = getattr(_local, "ctx", None)
    if ctx is None:
        import _quickjs

        ctx = _quickjs.Context()
        ctx.set_time_limit(2.0)
        ctx.set_memory_limit(64 * 1024 * 1024)
        _local.ctx = ctx
    return ctx


def _parse(script: str, first_line: int, lines: int) -> str | None:
    """None if `script` parses; else its first error line, with the line in the checked text.

    `lines` is how many lines the checked text has: an error past them is at
    our wrapper's closing bracket, i.e. the text ended too early. (QuickJS-ng's
    column numbers point at the start of the construct, not at the offending
    token, so only the line is reported, and only for multi-line text.)
    """
    ctx = _checker()
    try:
        ctx.eval(script)
    except Exception as exc:  # JSException, or MemoryError on absurd input
        text = str(exc)
        first = text.split("\n", 1)[0].strip()
        if first == "0":
            return None
        _local.ctx = None  # may hold declarations from the checked text
        m = _POS.search(text)
        if m is None:
            return first
        line = max(int(m.group(1)) - first_line + 1, 1)
        if line > lines:
            return "SyntaxError: unexpected end of input (something is missing at the end)"
        return first if lines == 1 else f"{first} (line {line})"
    _local.ctx = None
    return "the check did not stop where expected"


@lru_cache(maxsize=8192)
def check_syntax(expr: str) -> str | None:
    """None if `expr` is one ES2020 expression, else a short message with line:column."""
    if not expr.strip():
        return "empty expression"
    lines = expr.count("\n") + 1
    err = _parse(f"{EXPR_HEAD}({expr}\n);", 2, lines)
    if err is not None:
        return err
    if _parse(f"{EXPR_HEAD}[{expr}\n];", 2, lines) is not None:
        return "SyntaxError: not a single expression" + _closer_at(expr)
    return None


def _closer_at(src: str) -> str:
    """Where the first bracket closing something outside `src` is, if the tokenizer sees it."""
    try:
        pos = scan(src).underflow
    except LexError:
        return ""
    if pos is None:
        return ""
    line = src.count("\n", 0, pos) + 1
    col = pos - (src.rfind("\n", 0, pos) + 1) + 1
    return f": unmatched '{src[pos]}' at line {line}, column {col}"


@lru_cache(maxsize=1024)
def check_script_syntax(body: str) -> str | None:
    """None if `body` is a valid function body for a `script` step, else a short message."""
    err = _parse(f"{SCRIPT_HEAD}{body}\n}});", 3, body.count("\n") + 1)
    if err is not None:
        return err
    try:
        if scan(body, block_start=True).underflow is None:
            return None
    except LexError:  # the tokenizer is a heuristic; QuickJS accepted the body
        return None
    return "SyntaxError: the body closes the script's function" + _closer_at(body)
