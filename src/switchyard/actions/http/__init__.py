"""`http.request`: call an HTTP API (spec, "Core actions").

This module only declares the action (models, options class); the request
itself lives in `_request.py`, imported on first call, so that looking the
action up (in the workflow sandbox, in `switchyard validate`) never imports
httpx.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from switchyard.actions.sdk import ActionContext, ErrorRule, action
from switchyard.engine.options import READ, WRITE_IDEMPOTENT, WRITE_ONCE

__all__ = ["HttpRequestInput", "HttpResponseOutput", "http_options_class", "status_matches"]

Method = Literal["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]
Scalar = str | int | float | bool
_RANGE = re.compile(r"^([1-5])xx$|^([1-5]\d\d)-([1-5]\d\d)$", re.IGNORECASE)


def _status_spec(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a status is a code like 404 or a range like '4xx' or '500-504'")
    if isinstance(value, int):
        if not 100 <= value <= 599:
            raise ValueError(f"{value} is not an HTTP status code (100-599)")
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return _status_spec(int(text))
        if _RANGE.match(text):
            return text.lower()
    raise ValueError(f"{value!r}: expected a status code like 404 or a range like '4xx'")


def _default_fail_on_status() -> list[int | str]:
    return ["4xx", "5xx"]


StatusSpec = Annotated[int | str, BeforeValidator(_status_spec)]


class HttpRequestInput(BaseModel):
    """Parameters of `http.request`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, title="http.request input")

    method: Method = Field(default="GET", description="HTTP method (case-insensitive)")
    url: str = Field(
        min_length=1,
        description="absolute URL, or a path joined to the connection's base_url",
    )
    headers: dict[str, Scalar] = Field(default_factory=dict, description="request headers")
    query: dict[str, Scalar | list[Scalar]] = Field(
        default_factory=dict, description="query-string parameters"
    )
    json_: Any = Field(default=None, alias="json", description="a body sent as JSON")
    body: str | None = Field(default=None, description="a body sent as text")
    fail_on_status: list[StatusSpec] = Field(
        default_factory=_default_fail_on_status,
        description="codes (404) or ranges ('4xx', '500-504') that fail the step",
    )
    follow_redirects: bool = True

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_body(self) -> HttpRequestInput:
        if "json_" in self.model_fields_set and self.body is not None:
            raise ValueError("give either `json` or `body`, not both")
        return self

    @property
    def has_json(self) -> bool:
        return "json_" in self.model_fields_set


class HttpResponseOutput(BaseModel):
    """What `http.request` returns."""

    model_config = ConfigDict(title="http.request output")

    status: int
    headers: dict[str, str] = Field(description="response headers, lower-case names")
    body: Any = Field(description="parsed JSON when the response is JSON, else text")


def status_matches(status: int, specs: list[int | str]) -> bool:
    """True when `status` is one of the codes or in one of the ranges."""
    for spec in specs:
        if isinstance(spec, int):
            if status == spec:
                return True
            continue
        m = _RANGE.match(spec)
        if m is None:
            continue
        if m.group(1) is not None:
            if status // 100 == int(m.group(1)):
                return True
        elif int(m.group(2)) <= status <= int(m.group(3)):
            return True
    return False


def http_options_class(params: dict[str, Any]) -> str:
    """GET/HEAD/OPTIONS read; PUT/DELETE are idempotent writes; the rest write once.

    Anything unrecognised (including a method that is still a template) is
    treated as `write_once`: never retrying is the safe mistake.
    """
    method = params.get("method", "GET")
    method = method.upper() if isinstance(method, str) else ""
    if method in ("GET", "HEAD", "OPTIONS"):
        return READ
    if method in ("PUT", "DELETE"):
        return WRITE_IDEMPOTENT
    return WRITE_ONCE


@action(
    "http.request",
    input=HttpRequestInput,
    output=HttpResponseOutput,
    options=http_options_class,
    connection_type="http",
    title="HTTP request",
    group="HTTP",
    # The spec's mapping for this action: every 4xx other than 408/429 is an
    # HttpClientError (401/403 included), unlike REST integrations.
    errors=(
        ErrorRule("status in fail_on_status: 5xx, 408, 429", "HttpServerError", True),
        ErrorRule("status in fail_on_status: other 4xx", "HttpClientError", False),
        ErrorRule("timeout", "Timeout", True),
        ErrorRule("connection failure", "ActionError", True),
        ErrorRule("link-local / metadata address", "PermissionDenied", False),
    ),
    description=(
        "Sends one HTTP request and returns `{status, headers, body}`. A status in "
        "`fail_on_status` fails the step (`HttpServerError` for 5xx/408/429, retried "
        "honouring Retry-After; `HttpClientError` for other 4xx, not retried). "
        "Link-local and cloud metadata addresses are refused unless the connection "
        "sets `allow_private_metadata`."
    ),
    examples=(
        {"url": "https://api.example.com/health"},
        {
            "method": "POST",
            "url": "/v1/incidents",
            "json": {"title": "{{ Trigger.event.title }}"},
            "fail_on_status": ["4xx", "5xx"],
        },
        {"method": "PUT", "url": "https://api.example.com/x", "body": "text"},
    ),
)
async def http_request(ctx: ActionContext, params: HttpRequestInput) -> dict[str, Any]:
    from switchyard.actions.http._request import perform

    return await perform(ctx, params)
