"""Loading YAML and JSON text safely into the model."""

from __future__ import annotations

import json
import time

import pytest

from switchyard.definition.loader import (
    MAX_DOCUMENT_BYTES,
    LoadError,
    load_text,
    load_workflow_file,
    parse_text,
    parse_workflow,
)
from switchyard.definition.problems import Problem

from .conftest import EXAMPLES


def _load_problem(text: str, filename: str = "<input>") -> Problem:
    with pytest.raises(LoadError) as info:
        load_text(text, filename=filename)
    assert len(info.value.problems) == 1
    problem = info.value.problems[0]
    assert problem.code == "yaml"
    return problem


def test_yaml_and_json_of_the_same_workflow_load_into_equal_models():
    from_yaml, p1 = load_workflow_file(EXAMPLES / "restart-unhealthy-pods.yaml")
    from_json, p2 = load_workflow_file(EXAMPLES / "restart-unhealthy-pods.json")
    assert p1 == [] and p2 == []
    assert from_yaml is not None and from_json is not None
    assert from_yaml == from_json
    assert from_yaml.model_dump(by_alias=True) == from_json.model_dump(by_alias=True)


def test_model_dumps_back_to_an_equal_model():
    wf, _ = load_workflow_file(EXAMPLES / "restart-unhealthy-pods.yaml")
    assert wf is not None
    again, problems = parse_workflow(json.loads(wf.model_dump_json(by_alias=True)))
    assert problems == []
    assert again == wf


def test_yaml_uses_the_core_schema():
    data = load_text("on: {yes: no}\nd: 2024-01-01\no: 010\nh: 0x1f\nb: True\nn: ~\nf: 1.5e3")
    assert data == {
        "on": {"yes": "no"},
        "d": "2024-01-01",
        "o": 10,
        "h": 31,
        "b": True,
        "n": None,
        "f": 1500.0,
    }


def test_merge_keys_work():
    assert load_text("a: &a {x: 1}\nb: {<<: *a, y: 2}") == {"a": {"x": 1}, "b": {"x": 1, "y": 2}}


def test_duplicate_yaml_key_is_a_problem():
    problem = _load_problem("name: a\nsteps: []\nname: b\n")
    assert problem.message == "line 3, column 1: duplicate key 'name' (first at line 1)"


def test_duplicate_json_key_is_a_problem():
    problem = _load_problem('{"name": "a", "name": "b"}', "wf.json")
    assert "duplicate key 'name'" in problem.message


def test_json_errors_are_reported_as_json():
    problem = _load_problem('{"name": "a",\n "steps": [}')
    assert problem.message.startswith("line 2, column 12: invalid JSON")


def test_yaml_syntax_error_has_a_line():
    problem = _load_problem("name: a\nsteps: [\n")
    assert problem.message.startswith("line 3, column 1:")


@pytest.mark.parametrize("tag", ["!!python/object:os.system", "!!binary", "!custom", "!!set"])
def test_non_standard_tags_are_refused(tag):
    problem = _load_problem(f"name: {tag} x\n")
    assert "is not allowed" in problem.message


def test_billion_laughs_is_refused_quickly():
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for n in range(1, 12):
        prev = f"*a{n - 1}"
        lines.append(f"a{n}: &a{n} [{', '.join([prev] * 10)}]")
    started = time.perf_counter()
    problem = _load_problem("\n".join(lines))
    assert time.perf_counter() - started < 1.0
    assert "once aliases are expanded" in problem.message


def test_recursive_alias_is_refused():
    problem = _load_problem("a: &a [1, *a]")
    assert "recursive alias" in problem.message


def test_deep_nesting_is_refused():
    problem = _load_problem("x: " + "[" * 150 + "]" * 150)
    assert "nesting deeper than 100 levels" in problem.message
    problem = _load_problem('{"x": ' + "[" * 5000 + "]" * 5000 + "}")
    assert "nesting" in problem.message


def test_huge_document_is_refused():
    problem = _load_problem("x: " + "a" * (MAX_DOCUMENT_BYTES + 1))
    assert "larger than" in problem.message


def test_lone_surrogate_and_nul_are_problems():
    assert "surrogate" in _load_problem("name: \ud800\n").message
    assert _load_problem("name: a\x00b\n").code == "yaml"


def test_nan_is_not_json():
    assert "NaN" in _load_problem('{"x": NaN}', "wf.json").message


def test_not_a_mapping():
    wf, problems = parse_text("- a\n- b\n")
    assert wf is None
    assert [str(p) for p in problems] == [
        "a workflow is a mapping with at least name and steps, got a list"
    ]


def test_unreadable_file(tmp_path):
    wf, problems = load_workflow_file(tmp_path / "missing.yaml")
    assert wf is None and problems[0].code == "io"
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"name: \xff\xfe")
    wf, problems = load_workflow_file(binary)
    assert wf is None and "not UTF-8" in problems[0].message


def test_problem_str():
    assert (
        str(Problem("steps[3].next", "unknown step 'notfy'"))
        == "steps[3].next: unknown step 'notfy'"
    )
    assert str(Problem("", "whole document")) == "whole document"
