"""The implementation of `openai.chat_completion` (imported on first call; imports httpx)."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

import httpx

from switchyard import errors
from switchyard.actions import rest
from switchyard.actions.openai import DEFAULT_BASE_URL, ChatCompletionInput, JsonSchemaFormat
from switchyard.actions.sdk import ActionContext
from switchyard.errors import StepFailure

SERVICE = "OpenAI-compatible API"
#: Seconds between heartbeats while a request is in flight (`long_running`
#: needs one at least every 60 s).
HEARTBEAT_EVERY = 10.0

T = TypeVar("T")
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*?)\n?```\s*$", re.DOTALL | re.IGNORECASE)


def _object_field(ctx: ActionContext, name: str) -> dict[str, Any]:
    value = rest.conn_field(ctx, name, {})
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, dict):
        raise StepFailure(
            errors.VALIDATION_ERROR,
            f"the connection's field {name!r} must be an object (JSON mapping)",
            retryable=False,
        )
    return value


def _headers(ctx: ActionContext, base_url: str) -> dict[str, str]:
    headers = {str(k): str(v) for k, v in _object_field(ctx, "headers").items()}
    headers["Accept"] = "application/json"
    organization = rest.conn_field(ctx, "organization")
    if organization:
        headers["OpenAI-Organization"] = str(organization)
    project = rest.conn_field(ctx, "project")
    if project:
        headers["OpenAI-Project"] = str(project)
    # OpenAI itself always needs a key; local servers (Ollama, vLLM) often none.
    try:
        needs_key = httpx.URL(base_url).host == httpx.URL(DEFAULT_BASE_URL).host
    except httpx.InvalidURL:
        needs_key = False  # rest.request reports the bad URL
    key = rest.conn_secret(ctx, "api_key", required=needs_key)
    if key:
        header = rest.conn_field(ctx, "api_key_header")
        if header:
            headers[str(header)] = key
        else:
            headers["Authorization"] = f"Bearer {key}"
    return headers


def _messages(params: ChatCompletionInput) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if params.system is not None:
        messages.append({"role": "system", "content": params.system})
    if params.prompt is not None:
        messages.append({"role": "user", "content": params.prompt})
    for message in params.messages or []:
        messages.append(message.model_dump(exclude_none=True))
        messages[-1].setdefault("content", None)
    return messages


def _response_format(value: str | JsonSchemaFormat) -> dict[str, Any]:
    if isinstance(value, str):
        return {"type": value}
    return {
        "type": "json_schema",
        "json_schema": value.model_dump(by_alias=True, exclude_none=True),
    }


def build_body(ctx: ActionContext, params: ChatCompletionInput) -> dict[str, Any]:
    """The request body of `POST /chat/completions`."""
    model = params.model or rest.conn_field(ctx, "default_model")
    if not model:
        raise StepFailure(
            errors.VALIDATION_ERROR,
            "no model: give `model` or set the connection's field `default_model`",
            retryable=False,
        )
    body: dict[str, Any] = {"model": str(model), "messages": _messages(params)}
    optional = {
        "temperature": params.temperature,
        "max_tokens": params.max_tokens,
        "top_p": params.top_p,
        "stop": params.stop,
        "seed": params.seed,
        "tools": params.tools,
        "tool_choice": params.tool_choice,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    if params.response_format is not None:
        body["response_format"] = _response_format(params.response_format)
    body.update(params.extra_body)
    return body


def _error_in_body(body: dict[str, Any]) -> StepFailure:
    """Map an error a server sent with HTTP 200 (some proxies do)."""
    error = body.get("error")
    info = error if isinstance(error, dict) else {"message": str(error)}
    message = str(info.get("message") or info.get("code") or "error")
    code = str(info.get("code") or info.get("type") or "").lower()
    details = {"error": info}
    text = f"{SERVICE} answered an error: {message}"
    if any(k in code for k in ("auth", "api_key", "permission", "forbidden")):
        return StepFailure(errors.PERMISSION_DENIED, text, details, retryable=False)
    if "rate" in code or "quota" in code or "overloaded" in code:
        return StepFailure(errors.HTTP_SERVER_ERROR, text, details, retryable=True)
    return StepFailure(errors.ACTION_ERROR, text, details)


def parse_json_answer(content: str | None, finish_reason: str | None) -> Any:
    """The answer parsed as JSON (a ```json fence around it is tolerated)."""
    if content is None:
        raise StepFailure(
            errors.ACTION_ERROR,
            "response_format asked for JSON but the answer has no content",
            {"finish_reason": finish_reason},
        )
    text = content
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        return json.loads(text)
    except ValueError as exc:
        truncated = finish_reason == "length"
        hint = " (the answer was cut at max_tokens; raise it)" if truncated else ""
        raise StepFailure(
            errors.ACTION_ERROR,
            f"response_format asked for JSON but the answer does not parse: {exc}{hint}",
            {"content": content[:2000], "finish_reason": finish_reason},
            # The same request would be cut at the same length again.
            retryable=False if truncated else None,
        ) from None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_completion(body: Any, *, wants_json: bool) -> dict[str, Any]:
    """The action's output from a `chat.completion` object."""
    if not isinstance(body, dict):
        raise StepFailure(
            errors.ACTION_ERROR,
            f"{SERVICE} answered something that is not a JSON object",
            {"body": str(body)[:2000]},
        )
    if "error" in body and not body.get("choices"):
        raise _error_in_body(body)
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise StepFailure(
            errors.ACTION_ERROR,
            f"{SERVICE} answered without choices",
            {"body": json.dumps(body)[:2000]},
        )
    choice = choices[0]
    message = _dict(choice.get("message"))
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        content = json.dumps(content)
    finish_reason = choice.get("finish_reason")
    refusal = message.get("refusal")
    raw_usage = _dict(body.get("usage"))
    usage = {
        k: int(raw_usage.get(k) or 0)
        for k in ("prompt_tokens", "completion_tokens", "total_tokens")
    }
    parsed: Any = None
    if wants_json:
        if refusal:
            raise StepFailure(
                errors.ACTION_ERROR,
                f"the model refused to answer: {refusal}",
                {"refusal": refusal},
                retryable=False,
            )
        parsed = parse_json_answer(content, finish_reason)
    tool_calls = message.get("tool_calls")
    return {
        "id": body.get("id"),
        "model": body.get("model"),
        "role": str(message.get("role") or "assistant"),
        "content": content,
        "finish_reason": finish_reason,
        "usage": usage,
        "json": parsed,
        "tool_calls": tool_calls if isinstance(tool_calls, list) else None,
        "refusal": refusal if isinstance(refusal, str) else None,
    }


async def chat_completion(ctx: ActionContext, params: ChatCompletionInput) -> dict[str, Any]:
    base_url = str(rest.conn_field(ctx, "base_url", DEFAULT_BASE_URL))
    headers = _headers(ctx, base_url)
    body = build_body(ctx, params)
    query = _object_field(ctx, "query")
    response = await ctx.heartbeating(
        rest.request(
            ctx,
            "POST",
            "/chat/completions",
            base_url=base_url,
            headers=headers,
            params=query or None,
            json=body,
            service=SERVICE,
        ),
        HEARTBEAT_EVERY,
    )
    return parse_completion(response.body, wants_json=params.wants_json)
