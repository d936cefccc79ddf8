"""Splitting `{{ }}` templates, and the static helpers built on the tokenizer.

Where a `{{ }}` ends: the text after `{{` is tokenized as JavaScript and the
expression ends at the first `}}` that is outside every string, template,
comment and regex literal and at bracket depth 0. So `{{ ({a: {b: 1}}) }}` and
`{{ "}}" }}` work. There is no escape for a literal `{{` in text: write
`{{ "{{" }}`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ._lexer import LexError, scan

_OPEN = "{{"


@dataclass(frozen=True, slots=True)
class Part:
    """A piece of a template: literal text, or an expression (`expr` set)."""

    text: str
    expr: str | None = None
    pos: int = 0  # offset of the expression inside the template


@dataclass(frozen=True, slots=True)
class Template:
    parts: tuple[Part, ...]
    single: bool  # exactly one `{{ expr }}` (whitespace around allowed): keeps its type


class TemplateError(ValueError):
    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


def is_template(s: str) -> bool:
    return _OPEN in s


@lru_cache(maxsize=4096)
def parse_template(s: str) -> Template:
    """Split a template string; raises TemplateError on an unclosed `{{`."""
    parts: list[Part] = []
    i = 0
    while True:
        j = s.find(_OPEN, i)
        if j < 0:
            if i < len(s):
                parts.append(Part(s[i:]))
            break
        if j > i:
            parts.append(Part(s[i:j]))
        try:
            end = scan(s, j + 2, stop_at_double_brace=True).end
        except LexError as exc:
            raise TemplateError(f"{exc} in '{{{{' at offset {j}", j) from None
        parts.append(Part("", s[j + 2 : end].strip(), j + 2))
        i = end + 2
    exprs = [p for p in parts if p.expr is not None]
    single = len(exprs) == 1 and all(p.expr is not None or not p.text.strip() for p in parts)
    return Template(tuple(parts), single)


def template_expressions(s: str) -> list[str]:
    """The expressions inside a template string, in order."""
    return [p.expr for p in parse_template(s).parts if p.expr is not None]


def strip_braces(expr: str) -> str:
    """`{{ x }}` around a bare expression means the same as `x`."""
    t = expr.strip()
    if t.startswith(_OPEN):
        try:
            tpl = parse_template(t)
        except TemplateError:
            return expr
        if tpl.single and len(tpl.parts) == 1 and tpl.parts[0].expr is not None:
            return tpl.parts[0].expr
    return expr


_STEP_ID = re.compile(r"[A-Za-z_$][\w$]*\Z")


def referenced_steps(expr: str) -> set[str]:
    """Step ids named as `Steps.x`, `Steps?.x`, `Steps["x"]` or `Steps['x']` (best effort)."""
    if is_template(expr):
        try:
            exprs = template_expressions(expr)
        except TemplateError:
            return set()
    else:
        exprs = [expr]
    found: set[str] = set()
    for e in exprs:
        _collect_steps(e, found)
    return found


def _collect_steps(expr: str, found: set[str]) -> None:
    try:
        tokens = scan(expr).tokens
    except LexError:
        return
    for k, tok in enumerate(tokens):
        if tok.kind != "ident" or tok.text != "Steps":
            continue
        if k > 0 and tokens[k - 1].text in (".", "?."):
            continue  # `x.Steps` is some other object's property
        rest = tokens[k + 1 : k + 4]
        if len(rest) >= 2 and rest[0].text in (".", "?.") and rest[1].kind == "ident":
            found.add(rest[1].text)
            continue
        if rest and rest[0].text == "?.":
            rest = rest[1:] + tokens[k + 4 : k + 5]
        if len(rest) >= 3 and rest[0].text == "[" and rest[1].kind == "str" and rest[2].text == "]":
            name = rest[1].text[1:-1]
            if "\\" not in name and _STEP_ID.match(name):
                found.add(name)
