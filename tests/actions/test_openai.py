"""`openai.chat_completion` against a fake OpenAI-compatible server."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from temporalio.exceptions import ApplicationError
from werkzeug import Request, Response

from switchyard import errors
from switchyard.actions import get_action
from switchyard.actions.openai import _impl
from switchyard.connections import Connection
from switchyard.engine.options import LONG_RUNNING

from .conftest import RunAction, error_detail
from .live.openai import FakeOpenAI, completion

KEY = "sk-test-0123456789"
ACTION = "openai.chat_completion"


def _conn(url: str, *, key: str | None = KEY, **fields: Any) -> Connection:
    return Connection(
        "llm",
        "openai",
        fields={"base_url": url, **fields},
        secrets={"api_key": key} if key else {},
    )


async def _run(run_action: RunAction, params: dict[str, Any], conn: Connection) -> Any:
    result = await run_action(ACTION, params, connection=conn.name, connections=[conn])
    return result.output


def test_declaration() -> None:
    spec = get_action(ACTION)
    assert spec.options_class({"prompt": "x"}) == LONG_RUNNING
    assert spec.connection_type == "openai"


async def test_prompt_shorthand_builds_messages_and_maps_the_answer(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeOpenAI(httpserver, lambda body, req: "Hello there!", key=KEY)
    conn = _conn(fake.url, default_model="gpt-4o-mini", organization="org-1", project="proj-1")
    out = await _run(
        run_action,
        {
            "prompt": "Say hi",
            "system": "Be brief.",
            "temperature": 0.2,
            "max_tokens": 50,
            "top_p": 0.9,
            "stop": ["\n\n"],
            "seed": 7,
        },
        conn,
    )
    assert out == {
        "id": "chatcmpl-9xYz123",
        "model": "gpt-4o-mini",
        "role": "assistant",
        "content": "Hello there!",
        "finish_reason": "stop",
        "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
        "json": None,
        "tool_calls": None,
        "refusal": None,
    }
    (body,) = fake.bodies
    assert body == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hi"},
        ],
        "temperature": 0.2,
        "max_tokens": 50,
        "top_p": 0.9,
        "stop": ["\n\n"],
        "seed": 7,
    }
    (req,) = fake.requests
    assert req.headers["OpenAI-Organization"] == "org-1"
    assert req.headers["OpenAI-Project"] == "proj-1"


async def test_messages_model_and_extra_headers(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeOpenAI(httpserver, lambda body, req: "ok", key=KEY)
    conn = _conn(fake.url, default_model="ignored", headers={"X-Team": "sre"})
    messages = [
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": [{"type": "text", "text": "And 3+3?"}]},
    ]
    await _run(
        run_action,
        {"model": "llama3.1", "messages": messages, "extra_body": {"frequency_penalty": 0.5}},
        conn,
    )
    (body,) = fake.bodies
    assert body["model"] == "llama3.1"
    assert body["messages"] == messages
    assert body["frequency_penalty"] == 0.5
    assert fake.requests[0].headers["X-Team"] == "sre"


async def test_json_object_answer_is_parsed(run_action: RunAction, httpserver: HTTPServer) -> None:
    fake = FakeOpenAI(httpserver, lambda body, req: '{"severity": "high", "n": 2}', key=KEY)
    out = await _run(
        run_action,
        {"model": "gpt-4o", "prompt": "JSON please", "response_format": "json_object"},
        _conn(fake.url),
    )
    assert out["json"] == {"severity": "high", "n": 2}
    assert fake.bodies[0]["response_format"] == {"type": "json_object"}


@pytest.mark.parametrize(
    "given",
    [
        {"name": "triage", "schema": {"type": "object"}, "strict": True},
        {
            "type": "json_schema",
            "json_schema": {"name": "triage", "schema": {"type": "object"}, "strict": True},
        },
    ],
)
async def test_json_schema_is_sent_in_openai_shape(
    run_action: RunAction, httpserver: HTTPServer, given: dict[str, Any]
) -> None:
    fake = FakeOpenAI(httpserver, lambda body, req: '```json\n{"ok": true}\n```', key=KEY)
    out = await _run(
        run_action, {"model": "m", "prompt": "x", "response_format": given}, _conn(fake.url)
    )
    assert fake.bodies[0]["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "triage", "schema": {"type": "object"}, "strict": True},
    }
    assert out["json"] == {"ok": True}


async def test_answer_that_is_not_json_is_a_clear_error(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    FakeOpenAI(httpserver, lambda body, req: "Sure! Here it is: {oops", key=KEY)
    conn = _conn(httpserver.url_for("/v1"))
    with pytest.raises(ApplicationError) as info:
        await _run(
            run_action, {"model": "m", "prompt": "x", "response_format": "json_object"}, conn
        )
    assert info.value.type == errors.ACTION_ERROR
    assert "does not parse" in str(info.value)
    assert error_detail(info.value)["details"]["content"].startswith("Sure!")


async def test_truncated_json_is_not_retried(run_action: RunAction, httpserver: HTTPServer) -> None:
    FakeOpenAI(
        httpserver,
        lambda body, req: completion('{"a": [1, 2', model="m", finish_reason="length"),
        key=KEY,
    )
    with pytest.raises(ApplicationError) as info:
        await _run(
            run_action,
            {"model": "m", "prompt": "x", "response_format": "json_object"},
            _conn(httpserver.url_for("/v1")),
        )
    assert info.value.type == errors.ACTION_ERROR
    assert info.value.non_retryable
    assert "max_tokens" in str(info.value)


async def test_tools_pass_through_and_tool_calls_come_back(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "restart", "arguments": '{"host": "web-1"}'},
    }
    fake = FakeOpenAI(
        httpserver,
        lambda body, req: completion(
            None, model="m", finish_reason="tool_calls", tool_calls=[call]
        ),
        key=KEY,
    )
    tools = [{"type": "function", "function": {"name": "restart", "parameters": {}}}]
    out = await _run(
        run_action,
        {"model": "m", "prompt": "restart web-1", "tools": tools, "tool_choice": "auto"},
        _conn(fake.url),
    )
    assert fake.bodies[0]["tools"] == tools
    assert fake.bodies[0]["tool_choice"] == "auto"
    assert out["content"] is None
    assert out["finish_reason"] == "tool_calls"
    assert out["tool_calls"] == [call]


async def test_local_server_without_key_gets_no_auth_header(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeOpenAI(httpserver, lambda body, req: "hi", key=None, prefix="/ollama/v1")
    out = await _run(run_action, {"model": "llama3.1", "prompt": "hi"}, _conn(fake.url, key=None))
    assert out["content"] == "hi"
    assert "Authorization" not in fake.requests[0].headers


async def test_api_key_header_and_query_for_azure_style_proxies(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeOpenAI(httpserver, lambda body, req: "hi", key=KEY, key_header="api-key")
    conn = _conn(fake.url, api_key_header="api-key", query={"api-version": "2024-10-21"})
    await _run(run_action, {"model": "gpt-4o", "prompt": "hi"}, conn)
    req = fake.requests[0]
    assert req.args["api-version"] == "2024-10-21"
    assert "Authorization" not in req.headers


async def test_wrong_key_is_permission_denied_and_masked(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    FakeOpenAI(httpserver, lambda body, req: "never", key="sk-the-right-one")
    with pytest.raises(ApplicationError) as info:
        await _run(run_action, {"model": "m", "prompt": "x"}, _conn(httpserver.url_for("/v1")))
    assert info.value.type == errors.PERMISSION_DENIED
    assert info.value.non_retryable
    assert "Incorrect API key" in str(info.value)
    assert KEY not in json.dumps(error_detail(info.value))


async def test_bad_request_is_http_client_error_with_the_api_message(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    FakeOpenAI(httpserver, lambda body, req: "never", key=KEY)
    with pytest.raises(ApplicationError) as info:
        await _run(
            run_action,
            {"model": "m", "prompt": "x", "extra_body": {"bogus_param": 1}},
            _conn(httpserver.url_for("/v1")),
        )
    assert info.value.type == errors.HTTP_CLIENT_ERROR
    assert "Unrecognized request argument supplied: bogus_param" in str(info.value)


async def test_rate_limit_is_retried_after_the_servers_delay(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    def limited(body: dict[str, Any], req: Request) -> Response:
        error = {"error": {"message": "Rate limit reached", "type": "requests", "code": None}}
        return Response(
            json.dumps(error), 429, {"Retry-After": "20"}, content_type="application/json"
        )

    FakeOpenAI(httpserver, limited, key=KEY)
    with pytest.raises(ApplicationError) as info:
        await _run(run_action, {"model": "m", "prompt": "x"}, _conn(httpserver.url_for("/v1")))
    assert info.value.type == errors.HTTP_SERVER_ERROR
    assert not info.value.non_retryable
    assert info.value.next_retry_delay is not None
    assert info.value.next_retry_delay.total_seconds() == 20


@pytest.mark.parametrize(
    ("error", "etype"),
    [
        ({"message": "invalid api key", "code": "invalid_api_key"}, errors.PERMISSION_DENIED),
        ({"message": "slow down", "code": "rate_limit_exceeded"}, errors.HTTP_SERVER_ERROR),
        ({"message": "model not loaded", "code": "model_error"}, errors.ACTION_ERROR),
    ],
)
async def test_error_inside_a_200_answer_is_mapped(
    run_action: RunAction, httpserver: HTTPServer, error: dict[str, Any], etype: str
) -> None:
    FakeOpenAI(httpserver, lambda body, req: {"error": error}, key=KEY)
    with pytest.raises(ApplicationError) as info:
        await _run(run_action, {"model": "m", "prompt": "x"}, _conn(httpserver.url_for("/v1")))
    assert info.value.type == etype
    assert error["message"] in str(info.value)


async def test_refusal_with_json_requested_fails(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    answer = completion(None, model="m")
    answer["choices"][0]["message"]["refusal"] = "I can't help with that."
    FakeOpenAI(httpserver, lambda body, req: answer, key=KEY)
    with pytest.raises(ApplicationError) as info:
        await _run(
            run_action,
            {"model": "m", "prompt": "x", "response_format": {"schema": {"type": "object"}}},
            _conn(httpserver.url_for("/v1")),
        )
    assert info.value.type == errors.ACTION_ERROR
    assert "refused" in str(info.value)


async def test_heartbeats_while_the_answer_is_slow(
    run_action: RunAction, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_impl, "HEARTBEAT_EVERY", 0.05)

    def slow(body: dict[str, Any], req: Request) -> str:
        time.sleep(0.5)
        return "done"

    FakeOpenAI(httpserver, slow, key=KEY)
    run_action.heartbeats.clear()  # type: ignore[attr-defined]
    out = await _run(run_action, {"model": "m", "prompt": "x"}, _conn(httpserver.url_for("/v1")))
    assert out["content"] == "done"
    assert len(run_action.heartbeats) >= 3  # type: ignore[attr-defined]


async def test_openai_without_key_is_a_validation_error(run_action: RunAction) -> None:
    # No base_url: the real api.openai.com, which always needs a key. No
    # request is sent (it would leave the machine).
    conn = Connection("llm", "openai", fields={"default_model": "gpt-4o-mini"}, secrets={})
    with pytest.raises(ApplicationError) as info:
        await _run(run_action, {"prompt": "x"}, conn)
    assert info.value.type == errors.VALIDATION_ERROR
    assert "api_key" in str(info.value)


async def test_no_model_anywhere_is_a_validation_error(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeOpenAI(httpserver, lambda body, req: "never", key=KEY)
    with pytest.raises(ApplicationError) as info:
        await _run(run_action, {"prompt": "x"}, _conn(fake.url))
    assert info.value.type == errors.VALIDATION_ERROR
    assert "default_model" in str(info.value)
    assert fake.requests == []


@pytest.mark.parametrize(
    "params",
    [
        {"model": "m"},  # neither messages nor prompt
        {"model": "m", "prompt": "x", "messages": [{"role": "user", "content": "y"}]},
        {"model": "m", "messages": [{"role": "robot", "content": "y"}]},
        {"model": "m", "prompt": "x", "temperature": 3},
        {"model": "m", "prompt": "x", "stop": ["a", "b", "c", "d", "e"]},
        {"model": "m", "prompt": "x", "response_format": "yaml"},
        {"model": "m", "prompt": "x", "response_format": {"name": "bad name!", "schema": {}}},
    ],
)
async def test_bad_parameters_are_validation_errors(
    run_action: RunAction, httpserver: HTTPServer, params: dict[str, Any]
) -> None:
    with pytest.raises(ApplicationError) as info:
        await _run(run_action, params, _conn(httpserver.url_for("/v1")))
    assert info.value.type == errors.VALIDATION_ERROR
