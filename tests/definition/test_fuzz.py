"""Property: load + validate answers problems or a workflow, never raises, never hangs."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from switchyard.definition.problems import Problem
from switchyard.definition.validate import validate_document, validate_text

from .conftest import EXAMPLES

BOUND_SECONDS = 2.0
SEEDS = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.*"))]
SEED_DATA = [yaml.safe_load(text) for text in SEEDS]

ODD_TEXT = st.sampled_from(
    [
        "\ud800",
        "\udfff",
        "\u202eevil\u202c",
        "\x00",
        "a\x00b",
        "\ufeff",
        "{{",
        "}}",
        "{{ Steps.",
        "{{ }}",
        "\u0645\u0631\u062d\u0628\u0627",
        "x" * 100_000,
        "*/0 * * * *",
        "continue",
        "Steps.a.output",
        "1h30",
        "-5s",
    ]
)
TEXT = st.one_of(st.text(max_size=30), ODD_TEXT)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), TEXT)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _set(root: Any, path: tuple, fn) -> Any:
    if not path:
        return fn(root)
    parent = root
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = fn(parent[path[-1]])
    return root


def _delete(root: Any, path: tuple) -> Any:
    if not path:
        return None
    parent = root
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return root


def _nest(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value


@st.composite
def mutated_documents(draw) -> Any:
    data = copy.deepcopy(draw(st.sampled_from(SEED_DATA)))
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(data)
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "delete", "nest", "long", "dup-step"]))
        try:
            if action == "replace":
                data = _set(data, path, lambda _old: draw(VALUES))
            elif action == "delete":
                data = _delete(data, path)
            elif action == "nest":
                depth = draw(st.sampled_from([5, 50, 99, 101, 500]))
                data = _set(data, path, lambda old, d=depth: _nest(old, d))
            elif action == "long":
                data = _set(data, path, lambda _old: "y" * draw(st.sampled_from([10, 10_000])))
            elif isinstance(data, dict) and isinstance(data.get("steps"), list) and data["steps"]:
                data["steps"].append(copy.deepcopy(draw(st.sampled_from(data["steps"]))))
        except (KeyError, IndexError, TypeError):
            pass
    return data


def _alias_bomb(levels: int, width: int) -> str:
    lines = ["name: bomb", "a0: &a0 [lol]"]
    for n in range(1, levels + 1):
        lines.append(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * width)}]")
    lines.append(f"steps: [{{id: s, action: core.echo, with: {{x: *a{levels}}}}}]")
    return "\n".join(lines)


def _dumped(dump, data: Any, **kw: Any) -> str:
    """The document as text; nesting too deep for the dumper's own recursion
    becomes the equivalent deep text (the point of the case is the depth)."""
    try:
        return dump(data, **kw)
    except RecursionError:
        return "x: " + "[" * 2000 + "]" * 2000


TEXTS = st.one_of(
    # the seeds' text with random edits
    st.tuples(
        st.sampled_from(SEEDS), st.integers(0, 5000), st.integers(0, 200), st.text(max_size=20)
    ).map(lambda t: t[0][: t[1]] + t[3] + t[0][t[1] + t[2] :]),
    st.builds(_alias_bomb, st.integers(1, 12), st.integers(1, 12)),
    st.sampled_from(["a: &a [*a]", "a: &a {b: *a}", "&x [*x]", "!!python/object:os.system x"]),
    st.integers(1, 3000).map(lambda n: "x: " + "[" * n + "]" * n),
    st.integers(1, 3000).map(lambda n: "x:\n" + "".join(" " * i + "- \n" for i in range(n))),
    st.text(max_size=200),
    mutated_documents().map(lambda d: _dumped(json.dumps, d, ensure_ascii=False)),
    mutated_documents().map(lambda d: _dumped(yaml.safe_dump, d, allow_unicode=True)),
)


@pytest.fixture(autouse=True, scope="module")
def _catalogue_imported() -> None:
    # The bound is on validation, not on importing the action catalogue
    # (done once per process, at worker start-up in production).
    from switchyard.actions import load_builtins

    load_builtins()


def _check(result: tuple) -> None:
    wf, problems = result
    assert isinstance(problems, list)
    for p in problems:
        assert isinstance(p, Problem)
        assert p.severity in ("error", "warning")
        assert isinstance(p.location, str) and isinstance(p.message, str) and p.code
        str(p)
    if wf is None:
        assert any(p.severity == "error" for p in problems)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated_documents())
def test_mutated_documents_answer_problems_in_bounded_time(data):
    started = time.perf_counter()
    _check(validate_document(data))
    assert time.perf_counter() - started < BOUND_SECONDS


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(TEXTS)
def test_random_texts_answer_problems_in_bounded_time(text):
    started = time.perf_counter()
    _check(validate_text(text))
    assert time.perf_counter() - started < BOUND_SECONDS
