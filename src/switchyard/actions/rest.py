"""A small client for integrations that talk to a REST API (Slack, GitHub, ...).

Import it from an action's implementation module (it imports httpx), never
from the module that declares the action. It applies the platform's rules
so that every integration behaves the same:

- failures map as `sdk.REST_ERRORS` says: 401/403 are `PermissionDenied`
  (not retried), 408/429/5xx are `HttpServerError` (retried, `Retry-After`
  honoured), other 4xx `HttpClientError`; timeouts are `Timeout`, connection
  failures `ActionError` (both retried);
- the client timeout stays under the attempt's start-to-close timeout;
- link-local and cloud metadata addresses are refused unless the
  connection sets `allow_private_metadata` (the `http.request` guard);
- no proxy or `.netrc` from the environment.

Secrets the action passes in headers come from `ctx.connection`, whose
secret values the activity masks in outputs and errors; a derived secret
(a fetched token) must be registered with `ctx.add_secret`.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from switchyard import errors
from switchyard.actions.http._request import (
    ERROR_BODY_CHARS,
    _body,
    _read,
    build_url,
    client_timeout,
    make_client,
    parse_retry_after,
)
from switchyard.actions.sdk import ActionContext
from switchyard.errors import StepFailure

__all__ = [
    "Response",
    "conn_field",
    "conn_secret",
    "expect_object",
    "request",
    "status_failure",
    "unexpected_body",
]

_UNSET: Any = object()


@dataclass
class Response:
    """A successful response: status, lower-case headers, parsed body."""

    status: int
    headers: dict[str, str]
    body: Any


def conn_field(ctx: ActionContext, name: str, default: Any = None) -> Any:
    """A field of the step's connection, or `default` when absent (or no connection)."""
    if ctx.connection is None:
        return default
    value = ctx.connection.fields.get(name)
    return default if value in (None, "") else value


def conn_secret(ctx: ActionContext, name: str, *, required: bool = True) -> str:
    """A secret of the step's connection; a clear `ValidationError` when missing."""
    conn = ctx.connection
    value = conn.secrets.get(name) if conn is not None else None
    if not value:
        if not required:
            return ""
        where = f"connection {conn.name!r}" if conn is not None else "the step (no connection)"
        raise StepFailure(
            errors.VALIDATION_ERROR,
            f"{where} has no secret {name!r}; set it with "
            f"`switchyard connection create NAME --type TYPE --secret {name}=...`",
            retryable=False,
        )
    return str(value)


def status_failure(
    status: int,
    message: str,
    *,
    details: dict[str, Any] | None = None,
    retry_after: float | None = None,
) -> StepFailure:
    """The typed failure for an HTTP status, per `sdk.REST_ERRORS`."""
    details = {"status": status, **(details or {})}
    if status in (401, 403):
        return StepFailure(errors.PERMISSION_DENIED, message, details, retryable=False)
    if status >= 500 or status in (408, 429):
        return StepFailure(
            errors.HTTP_SERVER_ERROR, message, details, retryable=True, retry_after=retry_after
        )
    return StepFailure(errors.HTTP_CLIENT_ERROR, message, details, retryable=False)


def _excerpt(body: Any) -> Any:
    text = body if isinstance(body, str) else jsonlib.dumps(body, default=str)
    if len(text) > ERROR_BODY_CHARS:
        return text[:ERROR_BODY_CHARS]
    return body


async def request(
    ctx: ActionContext,
    method: str,
    url: str,
    *,
    base_url: str | None = None,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    json: Any = _UNSET,
    data: dict[str, Any] | None = None,
    content: bytes | str | None = None,
    service: str = "",
    ok: tuple[int, ...] = (),
) -> Response:
    """Send one request and map its failure; returns the parsed response.

    Args:
        ctx: The action's context (timeouts, connection fields for TLS and
            the address guard).
        method: HTTP method.
        url: An absolute URL, or a path joined to `base_url`.
        base_url: The API's base URL (usually a connection field with a default).
        headers: Request headers (auth included).
        params: Query parameters (None values are dropped).
        json: A body sent as JSON.
        data: A form body.
        content: A raw body.
        service: Name used in messages (`Slack`, `GitHub`).
        ok: Statuses >= 400 that are answers, not failures (e.g. 404 for a
            lookup that may find nothing).

    Raises:
        StepFailure: typed as described in the module docstring.
    """
    fields: dict[str, Any] = dict(ctx.connection.fields) if ctx.connection is not None else {}
    secrets: dict[str, Any] = dict(ctx.connection.secrets) if ctx.connection is not None else {}
    target = build_url(base_url, url)
    label = service or target.host
    query = {k: v for k, v in (params or {}).items() if v is not None}
    timeout = client_timeout(ctx)
    kwargs: dict[str, Any] = {"headers": headers or {}, "params": query or None}
    if json is not _UNSET:
        kwargs["json"] = json
    elif data is not None:
        kwargs["data"] = data
    elif content is not None:
        kwargs["content"] = content
    try:
        async with asyncio.timeout(timeout):
            # Only the address-guard and TLS fields of the connection matter
            # here; its `auth` belongs to `http.request`.
            tls_fields = {
                k: fields[k] for k in ("allow_private_metadata", "ca_cert") if k in fields
            }
            async with make_client(tls_fields, secrets, timeout) as client:
                req = client.build_request(method, target, **kwargs)
                response = await client.send(req, stream=True)
                try:
                    raw = await _read(response)
                finally:
                    await response.aclose()
    except StepFailure:
        raise
    except (TimeoutError, httpx.TimeoutException, httpcore.TimeoutException) as exc:
        raise StepFailure(
            errors.TIMEOUT,
            f"{label}: {method} {target} timed out after {timeout:g}s",
            {"url": str(target), "reason": type(exc).__name__},
            retryable=True,
        ) from None
    except (httpx.TransportError, httpcore.NetworkError) as exc:
        raise StepFailure(
            errors.ACTION_ERROR,
            f"{label}: {method} {target} failed: {type(exc).__name__}: {exc}",
            {"url": str(target)},
            retryable=True,
        ) from None
    body = _body(response, raw)
    status = response.status_code
    if status >= 400 and status not in ok:
        raise status_failure(
            status,
            f"{label} answered HTTP {status} {response.reason_phrase}".rstrip()
            + _api_message(body),
            details={"url": str(target), "body": _excerpt(body)},
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
    return Response(status=status, headers=dict(response.headers.items()), body=body)


def unexpected_body(service: str, body: Any, what: str) -> StepFailure:
    """The failure for an answer that is not the shape the API documents."""
    return StepFailure(
        errors.ACTION_ERROR,
        f"{service} answered with an unexpected body (expected {what})",
        {"body": _excerpt(body)},
        retryable=False,
    )


def expect_object(service: str, body: Any, what: str) -> dict[str, Any]:
    """`body` when it is a JSON object, else an `ActionError` saying what was expected."""
    if not isinstance(body, dict):
        raise unexpected_body(service, body, what)
    return body


def _api_message(body: Any) -> str:
    """The API's own error text, when it sends one in a usual place."""
    if isinstance(body, dict):
        for key in ("message", "error_description", "error", "errorMessages", "errors"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("code")
            if isinstance(value, list) and value:
                value = "; ".join(
                    str(v.get("message", v)) if isinstance(v, dict) else str(v) for v in value[:3]
                )
            if value:
                return f": {str(value)[:300]}"
    return ""
