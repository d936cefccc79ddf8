"""Datadog API calls (imported by the actions on first use; imports httpx)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from switchyard import errors
from switchyard.actions import rest
from switchyard.actions.datadog import (
    DEFAULT_BASE_URL,
    MuteMonitorInput,
    MuteMonitorOutput,
    PostEventInput,
    PostEventOutput,
    UnmuteMonitorInput,
    UnmuteMonitorOutput,
)
from switchyard.actions.sdk import ActionContext
from switchyard.definition.durations import parse_duration
from switchyard.errors import StepFailure

#: Downtimes asked for per page when listing (the API's default is 30).
PAGE_LIMIT = 100
#: Safety bound on listing: 100 pages of 100 downtimes.
MAX_PAGES = 100


def base_url(ctx: ActionContext) -> str:
    """`base_url` when set, else `https://api.<site>`, else the US1 API."""
    explicit = rest.conn_field(ctx, "base_url")
    if explicit:
        return str(explicit)
    site = rest.conn_field(ctx, "site")
    if not site:
        return DEFAULT_BASE_URL
    host = str(site).strip().removeprefix("https://").removeprefix("http://").strip("/")
    host = host.removeprefix("app.").removeprefix("api.")
    return f"https://api.{host}"


def _headers(ctx: ActionContext, *, app_key: bool) -> dict[str, str]:
    headers = {"DD-API-KEY": rest.conn_secret(ctx, "api_key"), "Accept": "application/json"}
    if app_key:
        headers["DD-APPLICATION-KEY"] = rest.conn_secret(ctx, "app_key")
    return headers


async def _call(
    ctx: ActionContext,
    method: str,
    path: str,
    *,
    app_key: bool = True,
    json: Any = None,
    params: dict[str, Any] | None = None,
    ok: tuple[int, ...] = (),
) -> rest.Response:
    kwargs: dict[str, Any] = {"params": params, "ok": ok}
    if json is not None:
        kwargs["json"] = json
    return await rest.request(
        ctx,
        method,
        path,
        base_url=base_url(ctx),
        headers=_headers(ctx, app_key=app_key),
        service="Datadog",
        **kwargs,
    )


def _iso(value: datetime) -> str:
    """ISO 8601 in UTC (Datadog wants an offset of zero); no offset means UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _obj(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _unexpected(what: str, body: Any) -> StepFailure:
    return StepFailure(
        errors.ACTION_ERROR,
        f"Datadog: unexpected answer to {what} (is the connection's base_url right?)",
        {"body": body if isinstance(body, dict | list) else str(body)[:2000]},
        retryable=False,
    )


async def mute_monitor(ctx: ActionContext, params: MuteMonitorInput) -> MuteMonitorOutput:
    schedule: dict[str, str] = {}
    if params.start is not None:
        schedule["start"] = _iso(params.start)
    end: datetime | None = params.end
    if params.duration is not None:
        begin = params.start if params.start is not None else datetime.now(UTC)
        if begin.tzinfo is None:
            begin = begin.replace(tzinfo=UTC)
        end = begin + timedelta(seconds=parse_duration(params.duration))
    if end is not None:
        schedule["end"] = _iso(end)
    attributes: dict[str, Any] = {
        "monitor_identifier": {"monitor_id": params.monitor_id},
        "scope": params.scope,
    }
    if schedule:
        attributes["schedule"] = schedule
    if params.message is not None:
        attributes["message"] = params.message
    if params.mute_first_recovery_notification is not None:
        attributes["mute_first_recovery_notification"] = params.mute_first_recovery_notification
    body = {"data": {"type": "downtime", "attributes": attributes}}
    response = await _call(ctx, "POST", "/api/v2/downtime", json=body)
    data = response.body.get("data") if isinstance(response.body, dict) else None
    if not isinstance(data, dict) or not data.get("id"):
        raise _unexpected("POST /api/v2/downtime", response.body)
    attrs = _obj(data.get("attributes"))
    sched = _obj(attrs.get("schedule"))
    return MuteMonitorOutput(
        downtime_id=str(data["id"]),
        monitor_id=params.monitor_id,
        scope=str(attrs.get("scope") or params.scope),
        status=attrs.get("status"),
        start=sched.get("start"),
        end=sched.get("end"),
        message=attrs.get("message", params.message),
    )


async def _cancel(ctx: ActionContext, downtime_id: str) -> bool:
    """Cancel one downtime; False when Datadog no longer has it (404)."""
    response = await _call(
        ctx, "DELETE", f"/api/v2/downtime/{quote(downtime_id, safe='')}", ok=(404,)
    )
    return response.status != 404


async def _monitor_downtimes(ctx: ActionContext, monitor_id: int, scope: str | None) -> list[str]:
    """Ids of the active downtimes created for `monitor_id` (every page)."""
    found: list[str] = []
    offset = 0
    for _ in range(MAX_PAGES):
        response = await _call(
            ctx,
            "GET",
            "/api/v2/downtime",
            params={"current_only": "true", "page[limit]": PAGE_LIMIT, "page[offset]": offset},
        )
        body = response.body
        page = body.get("data") if isinstance(body, dict) else None
        if not isinstance(page, list):
            raise _unexpected("GET /api/v2/downtime", body)
        for item in page:
            if _matches(item, monitor_id, scope) and str(item["id"]) not in found:
                found.append(str(item["id"]))
        offset += len(page)
        meta = body.get("meta")
        page_meta = meta.get("page") if isinstance(meta, dict) else None
        total = page_meta.get("total_filtered_count") if isinstance(page_meta, dict) else None
        if len(page) < PAGE_LIMIT or (isinstance(total, int) and offset >= total):
            return found
    raise StepFailure(
        errors.ACTION_ERROR,
        f"Datadog: more than {MAX_PAGES * PAGE_LIMIT} active downtimes; refusing to page further",
        {"monitor_id": monitor_id},
        retryable=False,
    )


def _matches(item: Any, monitor_id: int, scope: str | None) -> bool:
    if not isinstance(item, dict) or not item.get("id"):
        return False
    attrs = item.get("attributes")
    if not isinstance(attrs, dict):
        return False
    ident = attrs.get("monitor_identifier")
    if not isinstance(ident, dict) or str(ident.get("monitor_id")) != str(monitor_id):
        return False
    if attrs.get("canceled") or attrs.get("status") in ("canceled", "ended"):
        return False
    return scope is None or attrs.get("scope") == scope


async def unmute_monitor(ctx: ActionContext, params: UnmuteMonitorInput) -> UnmuteMonitorOutput:
    if params.downtime_id is not None:
        targets = [params.downtime_id]
    else:
        assert params.monitor_id is not None  # the model requires one of the two
        targets = await _monitor_downtimes(ctx, params.monitor_id, params.scope)
    cancelled: list[str] = []
    gone: list[str] = []
    for downtime_id in targets:
        (cancelled if await _cancel(ctx, downtime_id) else gone).append(downtime_id)
    return UnmuteMonitorOutput(
        cancelled=cancelled, already_cancelled=gone, monitor_id=params.monitor_id
    )


async def post_event(ctx: ActionContext, params: PostEventInput) -> PostEventOutput:
    body = params.model_dump(exclude_none=True)
    # Events need only the API key; the application key is not sent.
    response = await _call(ctx, "POST", "/api/v1/events", app_key=False, json=body)
    answer = response.body if isinstance(response.body, dict) else {}
    event = answer.get("event")
    if not isinstance(event, dict) or event.get("id") is None:
        raise _unexpected("POST /api/v1/events", response.body)
    tags = event.get("tags")
    return PostEventOutput(
        id=str(event.get("id_str") or event["id"]),
        url=event.get("url"),
        status=answer.get("status"),
        title=event.get("title", params.title),
        date_happened=event.get("date_happened"),
        tags=[str(t) for t in tags] if isinstance(tags, list) else list(params.tags),
    )
