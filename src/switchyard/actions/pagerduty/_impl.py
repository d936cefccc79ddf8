"""The PagerDuty actions' implementation (imported on first call; imports httpx)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from switchyard import errors
from switchyard.actions import rest
from switchyard.actions.pagerduty import (
    AddNoteInput,
    EventOutput,
    GetOncallInput,
    NoteOutput,
    Oncall,
    OncallOutput,
    OncallUser,
    Reference,
    ResolveInput,
    TriggerInput,
)
from switchyard.actions.sdk import ActionContext
from switchyard.errors import StepFailure

API_BASE_URL = "https://api.pagerduty.com"
EVENTS_BASE_URL = "https://events.pagerduty.com"
SERVICE = "PagerDuty"
#: Page size of the REST API's classic pagination (its maximum).
PAGE_LIMIT = 100
#: PagerDuty refuses offset + limit beyond 10000 (HTTP 400).
MAX_RECORDS = 10000


async def _enqueue(ctx: ActionContext, event: dict[str, Any]) -> EventOutput:
    """Send one event to the Events API v2 and check its answer."""
    event = {"routing_key": rest.conn_secret(ctx, "routing_key"), **event}
    response = await rest.request(
        ctx,
        "POST",
        "/v2/enqueue",
        base_url=str(rest.conn_field(ctx, "events_base_url", EVENTS_BASE_URL)),
        headers={"Accept": "application/json"},
        json=event,
        service=f"{SERVICE} Events API",
        ok=(400,),
    )
    body = response.body if isinstance(response.body, dict) else {}
    if response.status == 400:
        # An invalid event: PagerDuty names the problems in `errors`.
        problems = body.get("errors") or []
        text = "; ".join(str(p) for p in problems) if isinstance(problems, list) else ""
        message = str(body.get("message") or "invalid event")
        raise StepFailure(
            errors.HTTP_CLIENT_ERROR,
            f"{SERVICE} Events API refused the event: {message}" + (f" ({text})" if text else ""),
            {"status": 400, "body": body or response.body},
            retryable=False,
        )
    if body.get("status") != "success":
        raise StepFailure(
            errors.ACTION_ERROR,
            f"{SERVICE} Events API answered HTTP {response.status} without success: "
            f"{str(body.get('message') or response.body)[:300]}",
            {"status": response.status, "body": response.body},
            retryable=False,
        )
    return EventOutput(
        status=str(body["status"]),
        message=str(body.get("message") or ""),
        dedup_key=str(body.get("dedup_key") or event.get("dedup_key") or ""),
    )


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


async def trigger(ctx: ActionContext, params: TriggerInput) -> EventOutput:
    payload = _drop_none(
        {
            "summary": params.summary,
            "source": params.source,
            "severity": params.severity,
            "timestamp": params.timestamp,
            "component": params.component,
            "group": params.group,
            "class": params.class_,
            "custom_details": params.custom_details,
        }
    )
    event: dict[str, Any] = {"event_action": "trigger", "payload": payload}
    event.update(
        _drop_none(
            {
                "dedup_key": params.dedup_key,
                "client": params.client,
                "client_url": params.client_url,
            }
        )
    )
    if params.links:
        event["links"] = [link.model_dump(exclude_none=True) for link in params.links]
    if params.images:
        event["images"] = [image.model_dump(exclude_none=True) for image in params.images]
    return await _enqueue(ctx, event)


async def follow_up(ctx: ActionContext, action: str, params: ResolveInput) -> EventOutput:
    return await _enqueue(ctx, {"event_action": action, "dedup_key": params.dedup_key})


def _rest_headers(ctx: ActionContext) -> dict[str, str]:
    return {
        "Authorization": f"Token token={rest.conn_secret(ctx, 'api_token')}",
        "Accept": "application/json",
    }


def _api_base(ctx: ActionContext) -> str:
    return str(rest.conn_field(ctx, "api_base_url", API_BASE_URL))


def _reference(value: Any) -> Reference | None:
    if not isinstance(value, dict) or not value.get("id"):
        return None
    return Reference(id=str(value["id"]), name=value.get("name") or value.get("summary"))


def _oncall(entry: dict[str, Any]) -> Oncall:
    user = entry.get("user") or {}
    return Oncall(
        user=OncallUser(
            id=str(user.get("id") or ""),
            # With include[]=users the user is the full object (name, email);
            # a bare reference only has its name in `summary`.
            name=user.get("name") or user.get("summary"),
            email=user.get("email"),
        ),
        schedule=_reference(entry.get("schedule")),
        escalation_policy=_reference(entry.get("escalation_policy")),
        escalation_level=entry.get("escalation_level"),
        start=entry.get("start"),
        end=entry.get("end"),
    )


async def oncalls(ctx: ActionContext, params: GetOncallInput) -> OncallOutput:
    headers = _rest_headers(ctx)
    query: dict[str, Any] = {
        "include[]": ["users"],
        "escalation_policy_ids[]": params.escalation_policy_ids or None,
        "schedule_ids[]": params.schedule_ids or None,
        "user_ids[]": params.user_ids or None,
        "since": params.since,
        "until": params.until,
        "time_zone": params.time_zone,
        "earliest": "true" if params.earliest else None,
        "limit": PAGE_LIMIT,
    }
    found: list[Oncall] = []
    offset = 0
    while True:
        response = await rest.request(
            ctx,
            "GET",
            "/oncalls",
            base_url=_api_base(ctx),
            headers=headers,
            params={**query, "offset": offset},
            service=SERVICE,
        )
        body = response.body if isinstance(response.body, dict) else {}
        page = body.get("oncalls")
        if not isinstance(page, list):
            raise StepFailure(
                errors.ACTION_ERROR,
                f"{SERVICE} answered GET /oncalls without an `oncalls` list",
                {"status": response.status, "body": str(response.body)[:2000]},
            )
        found.extend(_oncall(entry) for entry in page if isinstance(entry, dict))
        offset += len(page)
        if not body.get("more") or not page or offset + PAGE_LIMIT > MAX_RECORDS:
            return OncallOutput(oncalls=found)


async def note(ctx: ActionContext, params: AddNoteInput) -> NoteOutput:
    sender = params.from_email or rest.conn_field(ctx, "from_email")
    if not sender:
        raise StepFailure(
            errors.VALIDATION_ERROR,
            "pagerduty.add_note needs the email of a PagerDuty user (the `From` header): "
            "set the connection's `from_email` field or the `from_email` parameter",
            retryable=False,
        )
    headers = {**_rest_headers(ctx), "From": str(sender)}
    response = await rest.request(
        ctx,
        "POST",
        f"/incidents/{quote(params.incident_id, safe='')}/notes",
        base_url=_api_base(ctx),
        headers=headers,
        json={"note": {"content": params.content}},
        service=SERVICE,
    )
    body = response.body if isinstance(response.body, dict) else {}
    created = body.get("note")
    if not isinstance(created, dict) or not created.get("id"):
        raise StepFailure(
            errors.ACTION_ERROR,
            f"{SERVICE} answered HTTP {response.status} without the created note",
            {"status": response.status, "body": str(response.body)[:2000]},
        )
    return NoteOutput(
        id=str(created["id"]),
        incident_id=params.incident_id,
        content=str(created.get("content", params.content)),
        created_at=created.get("created_at"),
        user=_reference(created.get("user")),
    )
