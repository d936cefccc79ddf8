"""Live case of the OpenAI-compatible integration, and its fake server.

`FakeOpenAI` answers `POST {prefix}/chat/completions` the way OpenAI does:
it checks the bearer key and the request body (unknown parameters, types and
ranges are 400 `invalid_request_error`s, a wrong key is 401
`invalid_api_key`) and answers a `chat.completion` object.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from switchyard.connections import Connection

from . import SECRET, Live, LiveCase

#: Request fields the Chat Completions API accepts (others are rejected).
KNOWN_FIELDS = {
    "model",
    "messages",
    "temperature",
    "max_tokens",
    "max_completion_tokens",
    "top_p",
    "stop",
    "seed",
    "response_format",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "n",
    "frequency_penalty",
    "presence_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "user",
    "stream",
    "stream_options",
    "reasoning_effort",
    "store",
    "metadata",
    "service_tier",
}
ROLES = {"system", "developer", "user", "assistant", "tool"}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def body_problem(body: Any) -> tuple[str, str | None] | None:
    """`(message, param)` when the body is not a valid chat completion request."""
    if not isinstance(body, dict):
        return "We could not parse the JSON body of your request.", None
    for key in body:
        if key not in KNOWN_FIELDS:
            return f"Unrecognized request argument supplied: {key}", key
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "you must provide a model parameter", "model"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty array", "messages"
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            return f"Invalid value for '{where}.role'", f"{where}.role"
        content = m.get("content")
        if content is None:
            if not (m["role"] == "assistant" and m.get("tool_calls")):
                return f"'{where}.content' is required", f"{where}.content"
        elif not isinstance(content, str | list):
            return f"Invalid type for '{where}.content'", f"{where}.content"
        if m["role"] == "tool" and not isinstance(m.get("tool_call_id"), str):
            return f"'{where}.tool_call_id' is required for tool messages", where
    for key, low, high in (("temperature", 0, 2), ("top_p", 0, 1)):
        if key in body and not (_number(body[key]) and low <= body[key] <= high):
            return f"Invalid '{key}'", key
    for key in ("max_tokens", "seed", "max_completion_tokens"):
        if key in body and (not isinstance(body[key], int) or isinstance(body[key], bool)):
            return f"Invalid type for '{key}': expected an integer", key
    stop = body.get("stop")
    if stop is not None and not (
        isinstance(stop, str)
        or (isinstance(stop, list) and len(stop) <= 4 and all(isinstance(s, str) for s in stop))
    ):
        return "Invalid 'stop'", "stop"
    fmt = body.get("response_format")
    if fmt is not None:
        if not isinstance(fmt, dict) or fmt.get("type") not in (
            "text",
            "json_object",
            "json_schema",
        ):
            return "Invalid 'response_format.type'", "response_format.type"
        if fmt["type"] == "json_schema":
            schema = fmt.get("json_schema")
            if not (
                isinstance(schema, dict)
                and isinstance(schema.get("name"), str)
                and isinstance(schema.get("schema"), dict)
            ):
                return "Missing 'response_format.json_schema'", "response_format.json_schema"
        elif set(fmt) != {"type"}:
            return "Unrecognized 'response_format' field", "response_format"
    tools = body.get("tools")
    valid_tools = isinstance(tools, list) and all(
        isinstance(t, dict)
        and t.get("type") == "function"
        and isinstance(t.get("function"), dict)
        and isinstance(t["function"].get("name"), str)
        for t in tools
    )
    if tools is not None and not valid_tools:
        return "Invalid 'tools'", "tools"
    return None


def _error(status: int, message: str, etype: str, code: str | None, param: str | None) -> Response:
    body = {"error": {"message": message, "type": etype, "param": param, "code": code}}
    return Response(json.dumps(body), status, content_type="application/json")


def completion(
    content: str | None, *, model: str, finish_reason: str = "stop", **message: Any
) -> dict[str, Any]:
    """A `chat.completion` object as OpenAI returns it."""
    return {
        "id": "chatcmpl-9xYz123",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_0123456789",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None, **message},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
    }


Reply = Callable[[dict[str, Any], Request], "dict[str, Any] | str | Response"]


class FakeOpenAI:
    """`POST {prefix}/chat/completions` checked as OpenAI would, answered by `reply`.

    `reply(body, request)` returns the content text, a whole completion object,
    or a werkzeug Response. `key=None` accepts requests without auth (a local
    server); `key_header` is where the key is expected (default Authorization
    Bearer). Requests are recorded in `bodies` / `requests`.
    """

    def __init__(
        self,
        server: HTTPServer,
        reply: Reply,
        *,
        key: str | None = SECRET,
        prefix: str = "/v1",
        key_header: str | None = None,
    ) -> None:
        self.reply = reply
        self.key = key
        self.key_header = key_header
        self.bodies: list[dict[str, Any]] = []
        self.requests: list[Request] = []
        self.url = server.url_for(prefix)
        server.expect_request(f"{prefix}/chat/completions", method="POST").respond_with_handler(
            self.handle
        )

    def _authorized(self, request: Request) -> bool:
        if self.key is None:
            return True
        if self.key_header:
            return request.headers.get(self.key_header) == self.key
        return request.headers.get("Authorization") == f"Bearer {self.key}"

    def handle(self, request: Request) -> Response:
        self.requests.append(request)
        if not self._authorized(request):
            return _error(
                401,
                "Incorrect API key provided. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                "invalid_api_key",
                None,
            )
        if request.mimetype != "application/json":
            return _error(
                400, "Content-Type must be application/json", "invalid_request_error", None, None
            )
        try:
            body = json.loads(request.get_data(as_text=True))
        except ValueError:
            body = None
        problem = body_problem(body)
        if problem is not None:
            return _error(400, problem[0], "invalid_request_error", None, problem[1])
        assert isinstance(body, dict)
        self.bodies.append(body)
        answer = self.reply(body, request)
        if isinstance(answer, Response):
            return answer
        if isinstance(answer, str):
            answer = completion(answer, model=body["model"])
        return Response(json.dumps(answer), 200, content_type="application/json")


def _chat_case(server: HTTPServer) -> Live:
    # The fake quotes the Authorization header it got: the key reaches the
    # output, where it must be masked.
    fake = FakeOpenAI(server, lambda body, req: f"You sent {req.headers.get('Authorization')}")
    conn = Connection(
        "llm",
        "openai",
        fields={"base_url": fake.url, "default_model": "gpt-4o-mini"},
        secrets={"api_key": SECRET},
    )
    return Live({"prompt": "Say hello", "system": "Be brief.", "temperature": 0}, conn)


CASES: dict[str, LiveCase] = {"openai.chat_completion": _chat_case}
