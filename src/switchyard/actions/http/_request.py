"""The implementation of `http.request` (imported on first call; imports httpx)."""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from datetime import UTC
from typing import Any

import httpcore
import httpx

from switchyard import errors
from switchyard.actions.http import HttpRequestInput, _auth, status_matches
from switchyard.actions.http._guard import GuardedBackend
from switchyard.actions.sdk import ActionContext
from switchyard.errors import StepFailure

#: Per-attempt client timeout when the activity has none (seconds).
DEFAULT_TIMEOUT = 30.0
MAX_REDIRECTS = 10
#: Larger responses fail the attempt instead of exhausting the worker's memory.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
#: How much of a failed response's body goes into the error details.
ERROR_BODY_CHARS = 2000


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def client_timeout(ctx: ActionContext) -> float:
    """Stay just under the attempt's start-to-close timeout.

    Then a slow server fails the attempt with our typed `Timeout` (and the
    response of a late request is never half-processed) instead of Temporal
    cancelling the activity from outside.
    """
    if not ctx.attempt_timeout:
        return DEFAULT_TIMEOUT
    return max(ctx.attempt_timeout - min(2.0, ctx.attempt_timeout * 0.1), 0.1)


def build_url(base_url: str | None, url: str) -> httpx.URL:
    """Join a path to the connection's base URL; check the scheme."""
    if "://" not in url:
        if not base_url:
            raise StepFailure(
                errors.VALIDATION_ERROR,
                f"url {url!r} is not absolute and the step has no connection with a base_url",
                retryable=False,
            )
        # Concatenate rather than RFC-join: base `https://h/api/v2` + `/users`
        # means `https://h/api/v2/users`, which is what users expect.
        url = base_url.rstrip("/") + "/" + url.lstrip("/")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise StepFailure(
            errors.VALIDATION_ERROR, f"invalid url {url!r}: {exc}", retryable=False
        ) from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise StepFailure(
            errors.VALIDATION_ERROR,
            f"invalid url {url!r}: only http and https URLs with a host are supported",
            retryable=False,
        )
    return parsed


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def make_client(
    fields: dict[str, Any], secrets: dict[str, Any], timeout: float
) -> httpx.AsyncClient:
    """A client that refuses link-local/metadata addresses unless allowed."""
    transport = httpx.AsyncHTTPTransport(
        verify=_auth.ssl_context(fields, secrets) or True, trust_env=False
    )
    if not _truthy(fields.get("allow_private_metadata", False)):
        # httpx has no public hook for the network backend; fail closed if
        # its internals change rather than silently losing the check.
        pool = transport._pool
        if not hasattr(pool, "_network_backend"):
            raise RuntimeError("httpx/httpcore internals changed: cannot install the address guard")
        pool._network_backend = GuardedBackend(pool._network_backend)
    # trust_env=False: no proxy from the environment (a proxy would connect on
    # our behalf, past the address guard) and no ~/.netrc credentials.
    return httpx.AsyncClient(
        transport=transport, timeout=timeout, trust_env=False, follow_redirects=False
    )


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(when.timestamp() - current, 0.0)


def _body(response: httpx.Response, raw: bytes) -> Any:
    ctype = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    try:
        text = raw.decode(response.encoding or "utf-8", errors="replace")
    except LookupError:  # an unknown charset name
        text = raw.decode("utf-8", errors="replace")
    if ctype == "application/json" or ctype.endswith("+json"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _headers(response: httpx.Response) -> dict[str, str]:
    # httpx joins repeated headers with ", " and lower-cases names.
    return dict(response.headers.items())


async def _read(response: httpx.Response) -> bytes:
    size = 0
    chunks: list[bytes] = []
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise StepFailure(
                errors.ACTION_ERROR,
                f"response body larger than {MAX_RESPONSE_BYTES} bytes",
                {"status": response.status_code},
                retryable=False,
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _status_failure(response: httpx.Response, body: Any) -> StepFailure:
    status = response.status_code
    shown = body if not isinstance(body, str) else body[:ERROR_BODY_CHARS]
    if len(json.dumps(shown, default=str)) > ERROR_BODY_CHARS:
        shown = json.dumps(shown, default=str)[:ERROR_BODY_CHARS]
    details = {
        "status": status,
        "url": str(response.request.url),
        "headers": _headers(response),
        "body": shown,
    }
    reason = response.reason_phrase or ""
    if status >= 500 or status in (408, 429):
        return StepFailure(
            errors.HTTP_SERVER_ERROR,
            f"HTTP {status} {reason}".rstrip(),
            details,
            retryable=True,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
    # Other 4xx (and any other status listed in fail_on_status): the same
    # request would get the same answer, so retrying cannot help.
    return StepFailure(
        errors.HTTP_CLIENT_ERROR, f"HTTP {status} {reason}".rstrip(), details, retryable=False
    )


async def perform(ctx: ActionContext, params: HttpRequestInput) -> dict[str, Any]:
    """Send the request, follow redirects, map the result (see the action's doc)."""
    conn = ctx.connection
    fields: dict[str, Any] = dict(conn.fields) if conn is not None else {}
    secrets: dict[str, Any] = dict(conn.secrets) if conn is not None else {}
    mode = _auth.auth_mode(fields)
    base_url = fields.get("base_url")
    url = build_url(str(base_url) if base_url else None, params.url)
    # A connection's credentials go only to its own API: an absolute URL to
    # another origin would hand them to whoever runs that host.
    if base_url and mode != "none" and not _same_origin(url, httpx.URL(str(base_url))):
        raise StepFailure(
            errors.PERMISSION_DENIED,
            f"url {url} is outside the connection's base_url; its credentials are only sent there",
            retryable=False,
        )

    headers: dict[str, str] = {}
    default_headers = fields.get("headers") or {}
    if isinstance(default_headers, str):
        default_headers = json.loads(default_headers)
    headers.update({str(k): str(v) for k, v in default_headers.items()})
    auth_headers = _auth.static_auth_headers(ctx, fields, secrets)
    headers.update(auth_headers)
    headers.update({k: _text(v) for k, v in params.headers.items()})
    query = {
        k: ([_text(x) for x in v] if isinstance(v, list) else _text(v))
        for k, v in params.query.items()
    }

    content: bytes | None = None
    if params.has_json:
        content = json.dumps(params.json_).encode()
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
    elif params.body is not None:
        content = params.body.encode()

    timeout = client_timeout(ctx)
    try:
        async with asyncio.timeout(timeout):
            async with make_client(fields, secrets, timeout) as client:
                response, raw = await _send(
                    ctx, client, params, url, headers, query, content, fields, secrets, auth_headers
                )
    except StepFailure:
        raise
    except (TimeoutError, httpx.TimeoutException, httpcore.TimeoutException) as exc:
        raise StepFailure(
            errors.TIMEOUT,
            f"{params.method} {url} timed out after {timeout:g}s",
            {"url": str(url), "reason": type(exc).__name__},
            retryable=True,
        ) from None
    except httpx.TooManyRedirects as exc:
        raise StepFailure(errors.ACTION_ERROR, str(exc), {"url": str(url)}) from None
    except (httpx.TransportError, httpcore.NetworkError) as exc:
        raise StepFailure(
            errors.ACTION_ERROR,
            f"{params.method} {url} failed: {type(exc).__name__}: {exc}",
            {"url": str(url)},
            retryable=True,
        ) from None

    body = _body(response, raw)
    if status_matches(response.status_code, params.fail_on_status):
        raise _status_failure(response, body)
    return {"status": response.status_code, "headers": _headers(response), "body": body}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def _send(
    ctx: ActionContext,
    client: httpx.AsyncClient,
    params: HttpRequestInput,
    url: httpx.URL,
    headers: dict[str, str],
    query: dict[str, Any],
    content: bytes | None,
    fields: dict[str, Any],
    secrets: dict[str, Any],
    auth_headers: dict[str, str],
) -> tuple[httpx.Response, bytes]:
    oauth2 = _auth.auth_mode(fields) == "oauth2"
    for renewed in (False, True):
        request_headers = dict(headers)
        if oauth2 and not any(k.lower() == "authorization" for k in params.headers):
            token = await _auth.oauth2_token(ctx, client, fields, secrets)
            request_headers["Authorization"] = f"Bearer {token}"
        request = client.build_request(
            params.method, url, headers=request_headers, params=query or None, content=content
        )
        response, raw = await _follow(client, request, params.follow_redirects, auth_headers)
        if oauth2 and response.status_code == 401 and not renewed:
            # The API refused a cached token (revoked or expired early): a 401
            # means the request was not processed, so one resend is safe.
            _auth.forget_token(fields, secrets)
            continue
        return response, raw
    raise AssertionError("unreachable")


async def _follow(
    client: httpx.AsyncClient,
    request: httpx.Request,
    follow: bool,
    auth_headers: dict[str, str],
) -> tuple[httpx.Response, bytes]:
    """Send, following redirects ourselves so credentials stay with their origin.

    httpx drops `Authorization` on a cross-origin redirect; an API-key header
    has a custom name, so it is dropped here too.
    """
    origin = request.url
    for _ in range(MAX_REDIRECTS + 1):
        response = await client.send(request, stream=True)
        try:
            raw = await _read(response)
        finally:
            await response.aclose()
        if not (follow and response.is_redirect and response.next_request is not None):
            return response, raw
        request = response.next_request
        if not _same_origin(request.url, origin):
            for name in auth_headers:
                request.headers.pop(name, None)
    raise httpx.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects", request=request)
