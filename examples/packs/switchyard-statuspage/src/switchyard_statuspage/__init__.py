"""Statuspage actions: declarations only (this module is imported in the workflow sandbox).

The implementation, which imports httpx through `switchyard.actions.rest`,
is in `_impl.py` and imported on first call.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from switchyard.actions import REST_ERRORS, ActionContext, action
from switchyard.connections.types import ConnectionType, FieldSpec, register_connection_type
from switchyard.engine.options import WRITE_IDEMPOTENT, WRITE_ONCE

register_connection_type(
    ConnectionType(
        name="statuspage",
        description="An Atlassian Statuspage page and an API key that may write to it.",
        fields=(
            FieldSpec("base_url", "API base URL", default="https://api.statuspage.io/v1"),
            FieldSpec("page_id", "the page's id", required=True),
            FieldSpec("allow_private_metadata", "allow link-local addresses", type="boolean"),
            FieldSpec("ca_cert", "PEM CA bundle for a private API endpoint"),
            FieldSpec("api_key", "API key (sent as `Authorization: OAuth <key>`)", secret=True),
        ),
    )
)

Status = Literal["investigating", "identified", "monitoring", "resolved"]


class CreateIncident(BaseModel):
    model_config = ConfigDict(extra="forbid", title="statuspage.create_incident input")

    name: str = Field(min_length=1, description="incident title shown on the page")
    status: Status = Field(default="investigating", description="incident status")
    body: str = Field(default="", description="first update's text")
    impact: Literal["none", "minor", "major", "critical"] | None = Field(
        default=None, description="overrides the computed impact"
    )
    component_ids: list[str] = Field(default_factory=list, description="affected components")


class UpdateIncident(BaseModel):
    model_config = ConfigDict(extra="forbid", title="statuspage.update_incident input")

    incident_id: str = Field(min_length=1, description="the incident to update")
    status: Status = Field(description="new status")
    body: str = Field(default="", description="the update's text")


class Incident(BaseModel):
    model_config = ConfigDict(title="statuspage incident")

    id: str = Field(description="incident id")
    name: str = Field(description="incident title")
    status: str = Field(description="current status")
    shortlink: str | None = Field(default=None, description="public link")


@action(
    "statuspage.create_incident",
    input=CreateIncident,
    output=Incident,
    # Statuspage has no idempotency key: a retried create could post twice.
    options=WRITE_ONCE,
    connection_type="statuspage",
    errors=REST_ERRORS,
    group="Statuspage",
    title="Open a Statuspage incident",
    description="Creates an incident on the connection's page "
    "(`POST /pages/{page_id}/incidents`). Output: `{id, name, status, shortlink}`.",
    examples=({"name": "{{ Trigger.event.title }}", "body": "We are looking into it."},),
)
async def create_incident(ctx: ActionContext, params: CreateIncident) -> dict[str, Any]:
    from switchyard_statuspage._impl import create

    return await create(ctx, params)


@action(
    "statuspage.update_incident",
    input=UpdateIncident,
    output=Incident,
    # Setting a status is idempotent; the update text is appended again on a
    # retry, which Statuspage shows as a repeated line: acceptable for a status.
    options=WRITE_IDEMPOTENT,
    connection_type="statuspage",
    errors=REST_ERRORS,
    group="Statuspage",
    title="Update a Statuspage incident",
    description="Sets an incident's status with an update text "
    "(`PATCH /pages/{page_id}/incidents/{incident_id}`).",
    examples=({"incident_id": "p31zjtct2jer", "status": "resolved", "body": "Fixed."},),
)
async def update_incident(ctx: ActionContext, params: UpdateIncident) -> dict[str, Any]:
    from switchyard_statuspage._impl import update

    return await update(ctx, params)
