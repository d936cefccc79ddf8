"""Graph helpers over one scope of steps."""

from __future__ import annotations

import time

import pytest

from switchyard.definition.graph import (
    ancestors,
    find_cycle,
    find_cycles,
    predecessors,
    reachable,
    topological_order,
)
from switchyard.definition.loader import parse_steps


def steps(*raw):
    parsed, problems = parse_steps(list(raw), "steps")
    assert problems == [] and parsed is not None
    return parsed


def echo(sid, **extra):
    return {"id": sid, "action": "core.echo", **extra}


DIAMOND = steps(
    {"id": "a", "if": "true", "then": "b", "else": "c"},
    echo("b", next="d"),
    echo("c", next="d", on_error="e"),
    echo("d"),
    echo("e"),
)


def test_predecessors_cover_every_edge_kind():
    assert predecessors(DIAMOND) == {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"], "e": ["c"]}


def test_ancestors():
    assert ancestors(DIAMOND, "d") == {"a", "b", "c"}
    assert ancestors(DIAMOND, "a") == set()


def test_topological_order_keeps_list_order_for_ties():
    assert topological_order(DIAMOND) == ["a", "b", "c", "d", "e"]


def test_reachable():
    assert reachable(DIAMOND, ["c"]) == {"c", "d", "e"}


def test_find_cycle():
    assert find_cycle(DIAMOND) is None
    cyclic = steps(echo("a", next="b"), echo("b", next="c"), echo("c", next=["a", "d"]), echo("d"))
    assert find_cycle(cyclic) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="cycle: a -> b -> c -> a"):
        topological_order(cyclic)


def test_every_cycle_is_found():
    two = steps(echo("a", next="b"), echo("b", next="a"), echo("c", next="c"))
    assert find_cycles(two) == [["a", "b"], ["c"]]


def test_long_chains_do_not_recurse():
    n = 5000
    chain = steps(*(echo(f"s{i}", next=f"s{i + 1}") for i in range(n - 1)), echo(f"s{n - 1}"))
    started = time.perf_counter()
    assert topological_order(chain)[-1] == f"s{n - 1}"
    assert find_cycle(chain) is None
    assert len(reachable(chain, ["s0"])) == n
    assert len(predecessors(chain)) == n
    assert time.perf_counter() - started < 5
