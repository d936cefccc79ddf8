"""The implementation of the Azure actions (imported on first call; imports httpx)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote

import httpx

from switchyard import errors
from switchyard.actions import rest
from switchyard.actions.azure import (
    COMPUTE_API_VERSION,
    DEFAULT_ARM_URL,
    DEFAULT_AUTHORITY_URL,
    RESOURCES_API_VERSION,
    ArmRequestInput,
    ListResourcesInput,
    VmInput,
    VmStopInput,
)
from switchyard.actions.sdk import ActionContext
from switchyard.errors import StepFailure

ARM = "Azure Resource Manager"
ENTRA = "Microsoft Entra ID token endpoint"
#: A cached token is renewed this long (seconds) before it expires, or at
#: half its lifetime for short-lived tokens.
TOKEN_MARGIN = 300.0
#: Seconds between heartbeats while waiting (`long_running` needs one < 60 s).
HEARTBEAT_EVERY = 10.0
#: Poll interval when ARM sends no Retry-After, and the floor of the interval.
DEFAULT_POLL = 10.0
MIN_POLL = 0.5
#: One status poll may take this long before it counts as a transient failure.
POLL_REQUEST_TIMEOUT = 60.0
#: Consecutive transient poll failures tolerated before the step fails.
MAX_POLL_FAILURES = 5
TERMINAL = {"succeeded", "failed", "canceled", "cancelled"}
RESPONSE_HEADERS = (
    "content-type",
    "location",
    "azure-asyncoperation",
    "retry-after",
    "etag",
    "x-ms-request-id",
    "x-ms-correlation-request-id",
)

T = TypeVar("T")
_TokenKey = tuple[str, str, str, str, str]
_tokens: dict[_TokenKey, tuple[str, float]] = {}
_locks: dict[_TokenKey, asyncio.Lock] = {}


def clear_token_cache() -> None:
    """Forget every cached token (tests)."""
    _tokens.clear()
    _locks.clear()


@dataclass(frozen=True)
class Arm:
    """The connection's endpoints and credentials."""

    authority: str
    tenant: str
    client_id: str
    client_secret: str
    arm_url: str

    @property
    def scope(self) -> str:
        return f"{self.arm_url}/.default"

    @property
    def token_key(self) -> _TokenKey:
        digest = hashlib.sha256(self.client_secret.encode()).hexdigest()
        return (self.authority, self.tenant, self.client_id, digest, self.scope)


def _required_field(ctx: ActionContext, name: str) -> str:
    value = rest.conn_field(ctx, name)
    if not value:
        raise StepFailure(
            errors.VALIDATION_ERROR,
            f"the azure connection has no field {name!r}",
            retryable=False,
        )
    return str(value)


def arm_of(ctx: ActionContext) -> Arm:
    tenant = _required_field(ctx, "tenant_id")
    if not tenant.replace("-", "").replace(".", "").isalnum():
        raise StepFailure(
            errors.VALIDATION_ERROR,
            f"tenant_id {tenant!r} is not a tenant id (GUID) or domain name",
            retryable=False,
        )
    return Arm(
        authority=str(rest.conn_field(ctx, "authority_url", DEFAULT_AUTHORITY_URL)).rstrip("/"),
        tenant=tenant,
        client_id=_required_field(ctx, "client_id"),
        client_secret=rest.conn_secret(ctx, "client_secret"),
        arm_url=str(rest.conn_field(ctx, "arm_url", DEFAULT_ARM_URL)).rstrip("/"),
    )


def subscription_of(ctx: ActionContext, given: str | None) -> str:
    sub = given or rest.conn_field(ctx, "subscription_id")
    if not sub:
        raise StepFailure(
            errors.VALIDATION_ERROR,
            "no subscription: give `subscription_id` or set the connection's field "
            "`subscription_id`",
            retryable=False,
        )
    return quote(str(sub), safe="")


async def token(ctx: ActionContext, arm: Arm) -> str:
    """An ARM access token (client credentials), cached per process until near expiry."""
    key = arm.token_key
    lock = _locks.setdefault(key, asyncio.Lock())
    async with lock:
        cached = _tokens.get(key)
        if cached is not None and cached[1] > time.monotonic():
            ctx.add_secret(cached[0])
            return cached[0]
        try:
            response = await rest.request(
                ctx,
                "POST",
                f"{arm.authority}/{quote(arm.tenant, safe='')}/oauth2/v2.0/token",
                headers={"Accept": "application/json"},
                data={
                    "grant_type": "client_credentials",
                    "client_id": arm.client_id,
                    "client_secret": arm.client_secret,
                    "scope": arm.scope,
                },
                service=ENTRA,
            )
        except StepFailure as exc:
            status = exc.details.get("status") if isinstance(exc.details, dict) else None
            if status == 400:
                # AADSTS errors (invalid_client, unknown tenant, bad scope): the
                # credentials or their configuration are wrong; retrying cannot help.
                raise StepFailure(
                    errors.PERMISSION_DENIED, exc.message, exc.details, retryable=False
                ) from None
            raise
        body = response.body if isinstance(response.body, dict) else {}
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise StepFailure(errors.ACTION_ERROR, f"{ENTRA} returned no access_token")
        ctx.add_secret(access)
        kind = str(body.get("token_type") or "Bearer")
        if kind.lower() != "bearer":
            raise StepFailure(
                errors.ACTION_ERROR, f"{ENTRA} returned a {kind!r} token, not a Bearer token"
            )
        try:
            lifetime = max(float(body.get("expires_in", 3599)), 0.0)
        except (TypeError, ValueError):  # null or not a number
            lifetime = 3599.0
        _tokens[key] = (access, time.monotonic() + max(lifetime - TOKEN_MARGIN, lifetime / 2))
        return access


def _forget(arm: Arm, access: str) -> None:
    cached = _tokens.get(arm.token_key)
    if cached is not None and cached[0] == access:
        del _tokens[arm.token_key]


def _on_arm(arm: Arm, url: str) -> str:
    """`url` itself when it is on the ARM endpoint; the token goes nowhere else."""
    try:
        target, home = httpx.URL(url), httpx.URL(arm.arm_url)
    except httpx.InvalidURL as exc:
        raise StepFailure(
            errors.VALIDATION_ERROR, f"invalid url {url!r}: {exc}", retryable=False
        ) from None
    if (target.scheme, target.host, target.port) != (home.scheme, home.host, home.port):
        raise StepFailure(
            errors.PERMISSION_DENIED,
            f"refusing to send the Azure token to {target.scheme}://{target.host}: "
            f"not the connection's arm_url {arm.arm_url}",
            {"url": url},
            retryable=False,
        )
    return url


def _with_arm_error(exc: StepFailure) -> StepFailure:
    """The failure with ARM's `{"error": {"code", "message"}}` spelled out."""
    details = exc.details if isinstance(exc.details, dict) else {}
    body = details.get("body")
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not error.get("code"):
        return exc
    status = details.get("status")
    message = f"{ARM} answered HTTP {status}: {error.get('code')}: {error.get('message', '')}"
    return StepFailure(
        exc.type,
        message.rstrip(": "),
        {**details, "code": error.get("code"), "error_message": error.get("message")},
        retryable=exc.retryable,
        retry_after=exc.retry_after,
    )


async def arm_call(
    ctx: ActionContext,
    arm: Arm,
    method: str,
    url: str,
    *,
    params: dict[str, Any] | None = None,
    body: Any = None,
) -> rest.Response:
    """One ARM request with the bearer token; a 401 renews the token and resends once."""
    if "://" in url:
        _on_arm(arm, url)
    kwargs: dict[str, Any] = {"params": params}
    if body is not None:
        kwargs["json"] = body
    for last in (False, True):
        access = await token(ctx, arm)
        headers = {"Authorization": f"Bearer {access}", "Accept": "application/json"}
        try:
            response = await rest.request(
                ctx,
                method,
                url,
                base_url=arm.arm_url,
                headers=headers,
                service=ARM,
                ok=() if last else (401,),
                **kwargs,
            )
        except StepFailure as exc:
            raise _with_arm_error(exc) from None
        if response.status != 401:
            return response
        # Expired or revoked token: ARM did not process the request.
        _forget(arm, access)
    raise AssertionError("unreachable")  # pragma: no cover


# --- VM power actions ---------------------------------------------------------


def _retry_after(headers: dict[str, str], default: float) -> float:
    from switchyard.actions.http._request import parse_retry_after

    value = parse_retry_after(headers.get("retry-after"))
    return max(value if value is not None else default, MIN_POLL)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _operation_failure(op: str, status: str, body: dict[str, Any], url: str) -> StepFailure:
    error = _dict(body.get("error"))
    code = error.get("code") or status
    message = error.get("message") or ""
    return StepFailure(
        errors.ACTION_ERROR,
        f"Azure operation {op} ended {status}: {code}: {message}".rstrip(": "),
        {"status": status, "code": code, "message": message, "operation_url": url, "error": error},
    )


async def _poll(
    ctx: ActionContext,
    arm: Arm,
    op: str,
    url: str,
    *,
    location: bool,
    delay: float,
    started: float,
) -> None:
    """Poll an async operation until it ends; raise when it did not succeed.

    `started` is when the attempt began (monotonic): polling stops, with a
    retryable `Timeout`, before the attempt's start-to-close timeout would.
    """
    budget = (ctx.attempt_timeout or 3600.0) - min(5.0, (ctx.attempt_timeout or 3600.0) * 0.1)
    failures = 0
    last = "InProgress"
    while True:
        remaining = budget - (time.monotonic() - started)
        if remaining <= delay:
            raise StepFailure(
                errors.TIMEOUT,
                f"Azure operation {op} still {last} when the attempt's time ran out",
                {"operation_url": url, "status": last},
                retryable=True,
            )
        await asyncio.sleep(delay)
        exc: StepFailure | None = None
        try:
            async with asyncio.timeout(min(POLL_REQUEST_TIMEOUT, remaining - delay)):
                response = await arm_call(ctx, arm, "GET", url)
        except TimeoutError:
            exc = StepFailure(
                errors.TIMEOUT,
                f"polling Azure operation {op} timed out",
                {"operation_url": url},
                retryable=True,
            )
        except StepFailure as failure:
            exc = failure
        if exc is not None:
            if location and exc.type == errors.HTTP_CLIENT_ERROR:
                # A Location URL answers a failed operation with its error status
                # and ARM error body: the operation failed, the poll did not.
                body = _dict(_dict(exc.details).get("body"))
                raise _operation_failure(op, "Failed", body, url)
            failures += 1
            if exc.retryable is False or failures >= MAX_POLL_FAILURES:
                raise exc
            # 5xx, 429, a reset or a slow answer: the operation goes on at
            # Azure; ask again rather than failing (and re-sending) the action.
            delay = max(DEFAULT_POLL if exc.retry_after is None else exc.retry_after, MIN_POLL)
            ctx.logger.warning("polling Azure operation %s failed (%s); retrying", op, exc)
            continue
        failures = 0
        delay = _retry_after(response.headers, DEFAULT_POLL)
        body = response.body if isinstance(response.body, dict) else {}
        if location:
            # Location polling: 202 while running, 200/204 when done.
            if response.status != 202:
                return
            continue
        last = str(body.get("status") or "InProgress")
        ctx.heartbeat({"operation": op, "status": last})
        if last.lower() == "succeeded":
            return
        if last.lower() in TERMINAL:
            raise _operation_failure(op, last, body, url)


async def vm_operation(ctx: ActionContext, params: VmInput, op: str) -> dict[str, Any]:
    """POST a VM power action and, with `wait`, follow it to its end."""
    started = time.monotonic()
    arm = arm_of(ctx)
    sub = subscription_of(ctx, params.subscription_id)
    resource_id = (
        f"/subscriptions/{sub}/resourceGroups/{quote(params.resource_group, safe='()')}"
        f"/providers/Microsoft.Compute/virtualMachines/{quote(params.vm_name, safe='')}"
    )
    query: dict[str, Any] = {"api-version": COMPUTE_API_VERSION}
    if isinstance(params, VmStopInput) and op == "powerOff" and params.skip_shutdown:
        query["skipShutdown"] = "true"

    async def run() -> dict[str, Any]:
        response = await arm_call(ctx, arm, "POST", f"{resource_id}/{op}", params=query)
        async_url = response.headers.get("azure-asyncoperation")
        location = response.headers.get("location")
        url = async_url or location
        out: dict[str, Any] = {
            "status": "Succeeded",
            "operation_url": url,
            "resource_id": resource_id,
        }
        if response.status not in (201, 202) or url is None:
            return out  # finished synchronously
        if not params.wait:
            out["status"] = "Accepted"
            return out
        _on_arm(arm, url)
        await _poll(
            ctx,
            arm,
            op,
            url,
            location=async_url is None,
            delay=_retry_after(response.headers, DEFAULT_POLL),
            started=started,
        )
        return out

    return await ctx.heartbeating(run(), HEARTBEAT_EVERY)


# --- list_resources -------------------------------------------------------------


def _odata(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _filter(params: ListResourcesInput) -> str | None:
    if params.filter:
        return params.filter
    if params.resource_type:
        return f"resourceType eq {_odata(params.resource_type)}"
    if params.tag_name:
        text = f"tagName eq {_odata(params.tag_name)}"
        if params.tag_value is not None:
            text += f" and tagValue eq {_odata(params.tag_value)}"
        return text
    return None


def _resource(raw: dict[str, Any], *, tag_filtered: bool) -> dict[str, Any]:
    rid = str(raw.get("id") or "")
    parts = rid.split("/")
    group = None
    for i, part in enumerate(parts[:-1]):
        if part.lower() == "resourcegroups":
            group = parts[i + 1]
            break
    tags = raw.get("tags")
    if not isinstance(tags, dict):
        # ARM leaves `tags` out for untagged resources, and for every resource
        # of a tag-filtered list (then they are unknown, not empty).
        tags = None if tag_filtered else {}
    return {
        "id": rid,
        "name": str(raw.get("name") or ""),
        "type": str(raw.get("type") or ""),
        "location": raw.get("location"),
        "resource_group": group,
        "tags": {str(k): str(v) for k, v in tags.items()} if tags is not None else None,
    }


async def list_resources(ctx: ActionContext, params: ListResourcesInput) -> dict[str, Any]:
    arm = arm_of(ctx)
    sub = subscription_of(ctx, params.subscription_id)
    path = f"/subscriptions/{sub}"
    if params.resource_group:
        path += f"/resourceGroups/{quote(params.resource_group, safe='()')}"
    query: dict[str, Any] | None = {
        "api-version": RESOURCES_API_VERSION,
        "$filter": _filter(params),
        "$expand": params.expand,
    }
    url = f"{path}/resources"
    items: list[dict[str, Any]] = []
    truncated = False
    while True:
        response = await arm_call(ctx, arm, "GET", url, params=query)
        body = _dict(response.body)
        value = body.get("value")
        page: list[Any] = value if isinstance(value, list) else []
        next_link = body.get("nextLink")
        room = params.max_items - len(items)
        items.extend(
            _resource(r, tag_filtered=bool(params.tag_name))
            for r in page[:room]
            if isinstance(r, dict)
        )
        if len(page) > room:
            truncated = True
            break
        if not next_link:
            break
        if len(items) >= params.max_items:
            truncated = True
            break
        url, query = str(next_link), None  # the link carries api-version and $skiptoken
    return {"items": items, "count": len(items), "truncated": truncated}


# --- arm_request ------------------------------------------------------------------


def _arm_path(ctx: ActionContext, arm: Arm, params: ArmRequestInput) -> tuple[str, dict[str, Any]]:
    """The request path and the query found in it (absolute URLs only on arm_url)."""
    raw = params.path
    if "://" in raw:
        _on_arm(arm, raw)
        url = httpx.URL(raw)
        base = httpx.URL(arm.arm_url).path.rstrip("/")
        path = url.path[len(base) :] if base and url.path.startswith(base) else url.path
        query_text = url.query.decode()
    else:
        path, _, query_text = raw.partition("?")
    if "#" in path or any(seg in (".", "..") for seg in path.split("/")):
        raise StepFailure(
            errors.VALIDATION_ERROR, f"path {raw!r} has '.', '..' or '#'", retryable=False
        )
    lower = path.lower()
    if lower.startswith("/resourcegroups/"):
        path = f"/subscriptions/{subscription_of(ctx, params.subscription_id)}{path}"
    elif not (
        lower in ("/subscriptions", "/providers", "/tenants")
        or lower.startswith(("/subscriptions/", "/providers/"))
    ):
        raise StepFailure(
            errors.VALIDATION_ERROR,
            f"path {raw!r} is not an ARM path: start it with /subscriptions/, /providers/ or "
            "/resourceGroups/",
            retryable=False,
        )
    found = {k: v for k, v in parse_qsl(query_text, keep_blank_values=True)}
    found.pop("api-version", None)
    return path, found


async def arm_request(ctx: ActionContext, params: ArmRequestInput) -> dict[str, Any]:
    arm = arm_of(ctx)
    path, query = _arm_path(ctx, arm, params)
    for key, value in params.query.items():
        query[key] = str(value).lower() if isinstance(value, bool) else value
    query["api-version"] = params.api_version
    response = await arm_call(ctx, arm, params.method, path, params=query, body=params.body)
    body = response.body if response.body != "" else None
    headers = {k: v for k, v in response.headers.items() if k in RESPONSE_HEADERS}
    return {"status": response.status, "headers": headers, "body": body}
