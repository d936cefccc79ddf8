"""The action SDK: registry, parameter validation, masking, import cost."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from pydantic import BaseModel

from switchyard.actions import (
    ActionContext,
    action,
    all_actions,
    get_action,
    is_template,
    mask_secrets,
    sdk,
    validate_params,
)


def test_importing_actions_is_cheap_and_side_effect_free() -> None:
    code = (
        "import sys; import switchyard.actions as a; "
        "assert 'httpx' not in sys.modules, 'httpx at import'; "
        "assert not a.sdk._REGISTRY, 'catalogue loaded at import'; "
        "a.get_action('http.request'); "
        "assert 'httpx' not in sys.modules, 'httpx at lookup'; "
        "assert 'temporalio.workflow' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_get_action_unknown_raises_key_error() -> None:
    with pytest.raises(KeyError) as info:
        get_action("no.such")
    assert info.value.args == ("no.such",)


def test_all_actions_sorted_and_include_core() -> None:
    types = [a.type for a in all_actions()]
    assert types == sorted(types)
    assert {"core.echo", "http.request"} <= set(types)


def test_duplicate_registration_is_refused() -> None:
    class In(BaseModel):
        pass

    with pytest.raises(ValueError, match="already registered"):

        @action("core.echo", input=In, options="read")
        async def other(ctx: ActionContext, params: In) -> None:
            return None


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("GET", "read"),
        ("head", "read"),
        ("OPTIONS", "read"),
        ("PUT", "write_idempotent"),
        ("delete", "write_idempotent"),
        ("POST", "write_once"),
        ("PATCH", "write_once"),
        ("{{ Inputs.m }}", "write_once"),
        (None, "write_once"),
    ],
)
def test_http_options_class_by_method(method: Any, expected: str) -> None:
    assert get_action("http.request").options_class({"method": method}) == expected


def test_http_options_class_default_method_is_get() -> None:
    assert get_action("http.request").options_class({"url": "x"}) == "read"


@pytest.mark.parametrize(
    ("params", "problems"),
    [
        ({"url": "https://x"}, []),
        ({"url": "{{ Inputs.url }}", "method": "{{ Inputs.method }}"}, []),
        ({"url": "https://x/{{ Inputs.id }}", "headers": "{{ Vars.headers }}"}, []),
        ({"url": "u", "fail_on_status": ["{{ Inputs.code }}", "4xx", 404]}, []),
        ({"url": "u", "follow_redirects": "{{ Inputs.follow }}", "query": {"a": "{{ x }}"}}, []),
        ({"url": "u", "json": "{{ Steps.a.output }}"}, []),
        ({}, [("with.url", "Field required")]),
        ({"url": "u", "bogus": 1}, [("with.bogus", "Extra inputs are not permitted")]),
        ({"url": "u", "bogus": "{{ x }}"}, [("with.bogus", "Extra inputs are not permitted")]),
        ({"url": "u", "method": "FETCH"}, [("with.method", None)]),
        ({"url": "u", "fail_on_status": ["4xx", "9xx"]}, [("with.fail_on_status[1]", None)]),
        ({"url": "u", "headers": {"a": ["list"]}}, [("with.headers.a", None)]),
        ({"url": "u", "json": {}, "body": "b"}, [("with", None)]),
        ({"url": "u", "follow_redirects": "maybe"}, [("with.follow_redirects", None)]),
    ],
)
def test_validate_params(params: dict[str, Any], problems: list[tuple[str, str | None]]) -> None:
    found = validate_params("http.request", params)
    assert [loc for loc, _ in found] == [loc for loc, _ in problems]
    for (_, msg), (_, expected) in zip(found, problems, strict=True):
        if expected is not None:
            assert msg == expected


def test_validate_params_unknown_action() -> None:
    assert validate_params("no.such", {}) == [("action", "unknown action type 'no.such'")]


def test_echo_accepts_anything() -> None:
    assert validate_params("core.echo", {"anything": {"at": ["all"]}, "x": "{{ y }}"}) == []


def test_is_template() -> None:
    assert is_template("{{ a }}")
    assert is_template("prefix {{ a }} suffix")
    assert is_template("{{\n a\n}}")
    assert not is_template("{ a }")
    assert not is_template(3)


def test_mask_secrets() -> None:
    value = {
        "k": "Bearer abc123 and abc123",
        "abc123": [1, "xabc123x", {"n": 987654}],
        "ok": True,
        "none": None,
    }
    masked = mask_secrets(value, ["abc123", "987654", ""])
    assert masked == {
        "k": "Bearer *** and ***",
        "***": [1, "x***x", {"n": "***"}],
        "ok": True,
        "none": None,
    }
    # Longest first: a secret containing another is masked whole.
    assert mask_secrets("pw-long", ["pw", "pw-long"]) == "***"
    assert mask_secrets({"a": "x"}, []) == {"a": "x"}


def test_context_heartbeat_without_activity_is_a_no_op() -> None:
    ctx = ActionContext()
    ctx.heartbeat("x")
    ctx.add_secret("s")
    assert ctx.secrets == ["s"]


def test_builtin_modules_registered_once() -> None:
    sdk.load_builtins()
    sdk.load_builtins()
    assert len([a for a in all_actions() if a.type == "http.request"]) == 1
