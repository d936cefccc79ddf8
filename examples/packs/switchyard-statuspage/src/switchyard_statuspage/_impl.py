"""Statuspage calls (imported on first use: it brings in httpx)."""

from __future__ import annotations

from typing import Any

from switchyard.actions import ActionContext
from switchyard.actions.rest import conn_field, conn_secret, request
from switchyard_statuspage import CreateIncident, UpdateIncident


def _where(ctx: ActionContext) -> tuple[str, dict[str, str]]:
    base = conn_field(ctx, "base_url", "https://api.statuspage.io/v1")
    page = conn_field(ctx, "page_id")
    headers = {"Authorization": f"OAuth {conn_secret(ctx, 'api_key')}"}
    return f"{base.rstrip('/')}/pages/{page}/incidents", headers


def _incident(body: Any) -> dict[str, Any]:
    return {k: body.get(k) for k in ("id", "name", "status", "shortlink")}


async def create(ctx: ActionContext, params: CreateIncident) -> dict[str, Any]:
    url, headers = _where(ctx)
    incident: dict[str, Any] = {"name": params.name, "status": params.status, "body": params.body}
    if params.impact is not None:
        incident["impact_override"] = params.impact
    if params.component_ids:
        incident["component_ids"] = params.component_ids
    response = await request(
        ctx, "POST", url, headers=headers, json={"incident": incident}, service="Statuspage"
    )
    return _incident(response.body)


async def update(ctx: ActionContext, params: UpdateIncident) -> dict[str, Any]:
    url, headers = _where(ctx)
    response = await request(
        ctx,
        "PATCH",
        f"{url}/{params.incident_id}",
        headers=headers,
        json={"incident": {"status": params.status, "body": params.body}},
        service="Statuspage",
    )
    return _incident(response.body)
