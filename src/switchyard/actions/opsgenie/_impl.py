"""The Opsgenie actions' implementation (imported on first call; imports httpx)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from switchyard import errors
from switchyard.actions import rest
from switchyard.actions.opsgenie import AlertRequestOutput, CloseAlertInput, CreateAlertInput
from switchyard.actions.sdk import ActionContext
from switchyard.errors import StepFailure

BASE_URL = "https://api.opsgenie.com"
SERVICE = "Opsgenie"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def _post(
    ctx: ActionContext, path: str, body: dict[str, Any], *, query: dict[str, Any] | None = None
) -> AlertRequestOutput:
    response = await rest.request(
        ctx,
        "POST",
        path,
        base_url=str(rest.conn_field(ctx, "base_url", BASE_URL)),
        headers={
            "Authorization": f"GenieKey {rest.conn_secret(ctx, 'api_key')}",
            "Accept": "application/json",
        },
        params=query,
        json=body,
        service=SERVICE,
    )
    answer = response.body if isinstance(response.body, dict) else {}
    if not answer.get("requestId"):
        raise StepFailure(
            errors.ACTION_ERROR,
            f"{SERVICE} answered HTTP {response.status} without a requestId",
            {"status": response.status, "body": str(response.body)[:2000]},
            retryable=False,
        )
    took = answer.get("took")
    return AlertRequestOutput(
        result=str(answer.get("result") or ""),
        request_id=str(answer["requestId"]),
        took=float(took) if isinstance(took, int | float) else None,
    )


async def create(ctx: ActionContext, params: CreateAlertInput) -> AlertRequestOutput:
    body: dict[str, Any] = {"message": params.message}
    for key in ("alias", "description", "entity", "source", "priority", "user", "note"):
        value = getattr(params, key)
        if value is not None:
            body[key] = value
    if params.responders:
        body["responders"] = [r.model_dump(exclude_none=True) for r in params.responders]
    if params.visible_to:
        body["visibleTo"] = [r.model_dump(exclude_none=True) for r in params.visible_to]
    if params.actions:
        body["actions"] = params.actions
    if params.tags:
        body["tags"] = params.tags
    if params.details:
        # Opsgenie's details are a map of strings.
        body["details"] = {k: _text(v) for k, v in params.details.items()}
    out = await _post(ctx, "/v2/alerts", body)
    out.alias = params.alias
    return out


async def close(ctx: ActionContext, params: CloseAlertInput) -> AlertRequestOutput:
    body = {
        k: v
        for k, v in {"user": params.user, "source": params.source, "note": params.note}.items()
        if v is not None
    }
    out = await _post(
        ctx,
        f"/v2/alerts/{quote(params.identifier, safe='')}/close",
        body,
        query={"identifierType": params.identifier_type},
    )
    if params.identifier_type == "alias":
        out.alias = params.identifier
    return out
