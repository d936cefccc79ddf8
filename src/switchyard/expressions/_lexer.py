"""A small JavaScript tokenizer: just enough to find where a `{{ }}` ends, to check
that a script body never closes its enclosing function, and to find `Steps.x`.

It is not a parser. It knows string, template (with nested `${}`), comment and
regular-expression literals, so brackets inside them are not counted, and decides
"regex or division" by the previous significant token, the usual heuristic:
`/` starts a regex unless it follows an identifier, a literal, `)`, `]` or `}`;
after `)` closing `if (...)`/`while (...)`/`for (...)`/`with (...)` and after `}`
closing a block it is a regex again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_IDENT_START = re.compile(r"[A-Za-z_$\u0080-\uffff]")
_IDENT = re.compile(r"[A-Za-z0-9_$\u0080-\uffff]*")
_NUMBER = re.compile(
    r"(?:0[xXoObB][0-9a-fA-F_]+n?|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?n?)"
)
_PUNCT = re.compile(
    r">>>=|\.\.\.|===|!==|\*\*=|<<=|>>=|>>>|\?\?=|&&=|\|\|=|=>|==|!=|<=|>=|&&|\|\||\?\?|\?\.(?!\d)|\+\+|--|<<|>>|\*\*|[-+*%&|^!~<>=?:;,.]=?|[-+*/%&|^!~<>=?:;,.@#]"
)

# After these keywords an expression starts, so `/` begins a regex and `{` an object.
_EXPR_KEYWORDS = frozenset(
    [
        "return",
        "typeof",
        "instanceof",
        "in",
        "of",
        "new",
        "delete",
        "void",
        "throw",
        "case",
        "do",
        "else",
        "yield",
        "await",
    ]
)
_PAREN_STATEMENTS = frozenset(("if", "while", "for", "with"))
_BLOCK_AFTER = frozenset(("else", "do", "try", "finally"))


class LexError(ValueError):
    """Unterminated literal or comment, with the offset where it started."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "ident", "num", "str", "tmpl", "regex", "punct"
    text: str
    start: int


@dataclass
class ScanResult:
    tokens: list[Token]
    end: int  # offset just after the last character consumed
    underflow: int | None = None  # offset of the first closer with no opener


def scan(
    src: str, pos: int = 0, *, stop_at_double_brace: bool = False, block_start: bool = False
) -> ScanResult:
    """Tokenize `src` from `pos`.

    With `stop_at_double_brace`, stop at the first `}}` found at bracket depth 0
    outside any literal (the end of a `{{ }}` expression); `end` is then the offset
    of that `}}`. Raises LexError if a literal is unterminated or (in that mode) no
    `}}` closes the expression.
    """
    tokens: list[Token] = []
    # Bracket stack entries: "(", "[", "{" (object), "B" (block), "${", "P" (paren of if/while/...).
    stack: list[str] = []
    underflow: int | None = None
    prev: Token | None = None
    # What the last closer closed, to decide regex-vs-division right after it.
    closed_block = block_start
    n = len(src)
    i = pos

    def regex_allowed() -> bool:
        if prev is None:
            return True
        if prev.kind in ("num", "str", "tmpl", "regex"):
            return False
        if prev.kind == "ident":
            return prev.text in _EXPR_KEYWORDS
        if prev.text in (")", "}"):
            return closed_block
        return prev.text != "]"

    def object_brace() -> bool:
        if prev is None:
            return not block_start
        if prev.kind == "ident":
            return prev.text in _EXPR_KEYWORDS and prev.text not in _BLOCK_AFTER
        if prev.kind != "punct":
            return False
        return prev.text not in (")", "=>", "{", "}", ";")

    while i < n:
        c = src[i]
        if c in " \t\r\n\u00a0\ufeff\u2028\u2029":
            i += 1
            continue
        if c == "/" and src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "/" and src.startswith("/*", i):
            j = src.find("*/", i + 2)
            if j < 0:
                raise LexError("unterminated comment", i)
            i = j + 2
            continue
        start = i
        if c in "'\"":
            i = _skip_string(src, i)
            prev = Token("str", src[start:i], start)
        elif c == "`" or (c == "}" and stack and stack[-1] == "${"):
            if c == "}":
                stack.pop()
            i, opened = _skip_template_part(src, i + 1)
            if opened:
                stack.append("${")
            prev = Token("tmpl", src[start:i], start)
        elif c == "/" and regex_allowed():
            i = _skip_regex(src, i)
            prev = Token("regex", src[start:i], start)
        elif _IDENT_START.match(c) or c == "\\":
            m = _IDENT.match(src, i + 1)
            i = m.end() if m else i + 1
            prev = Token("ident", src[start:i], start)
        elif c.isdigit() or (c == "." and i + 1 < n and src[i + 1].isdigit()):
            m = _NUMBER.match(src, i)
            i = m.end() if m and m.end() > i else i + 1
            prev = Token("num", src[start:i], start)
        elif c in "([{":
            if c == "{":
                kind = "{" if object_brace() else "B"
            elif c == "(" and prev is not None and prev.text in _PAREN_STATEMENTS:
                kind = "P"
            else:
                kind = c
            stack.append(kind)
            i += 1
            prev = Token("punct", c, start)
        elif c in ")]}":
            if not stack:
                if stop_at_double_brace and c == "}" and src.startswith("}}", i):
                    return ScanResult(tokens, i, underflow)
                if underflow is None:
                    underflow = i
                closed_block = False
            else:
                closed_block = stack.pop() in ("B", "P")
            i += 1
            prev = Token("punct", c, start)
        else:
            m = _PUNCT.match(src, i)
            i = m.end() if m else i + 1
            prev = Token("punct", src[start:i], start)
        tokens.append(prev)
    if stop_at_double_brace:
        raise LexError("unclosed '{{'", pos)
    return ScanResult(tokens, n, underflow)


def _skip_string(src: str, i: int) -> int:
    quote = src[i]
    j = i + 1
    n = len(src)
    while j < n:
        c = src[j]
        if c == "\\":
            j += 2
            continue
        if c == quote:
            return j + 1
        if c == "\n":
            break
        j += 1
    raise LexError("unterminated string literal", i)


def _skip_template_part(src: str, j: int) -> tuple[int, bool]:
    """Skip template characters from `j`; returns (offset after, True if at `${`)."""
    n = len(src)
    while j < n:
        c = src[j]
        if c == "\\":
            j += 2
            continue
        if c == "`":
            return j + 1, False
        if c == "$" and src.startswith("${", j):
            return j + 2, True
        j += 1
    raise LexError("unterminated template literal", j)


def _skip_regex(src: str, i: int) -> int:
    j = i + 1
    n = len(src)
    in_class = False
    while j < n:
        c = src[j]
        if c == "\\":
            j += 2
            continue
        if c == "\n":
            break
        if c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "/" and not in_class:
            m = _IDENT.match(src, j + 1)
            return m.end() if m else j + 1
        j += 1
    raise LexError("unterminated regular expression", i)
