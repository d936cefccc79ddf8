"""The opsgenie integration (declarations; the implementation is imported on first call).

Opsgenie's Alert API (`{base_url}/v2/alerts`) authenticates with an API
integration key sent as `Authorization: GenieKey <key>`. Alert requests are
asynchronous: Opsgenie answers 202 with a `requestId` and processes the
request shortly after.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from switchyard.actions.sdk import REST_ERRORS, ActionContext, action
from switchyard.connections.types import ConnectionType, FieldSpec, register_connection_type
from switchyard.engine.options import WRITE_IDEMPOTENT, WRITE_ONCE

__all__ = [
    "OPSGENIE",
    "AlertRequestOutput",
    "CloseAlertInput",
    "CreateAlertInput",
    "Responder",
    "create_alert_options_class",
]

GROUP = "Opsgenie"

OPSGENIE = register_connection_type(
    ConnectionType(
        name="opsgenie",
        description="An Opsgenie account, through an API integration key.",
        fields=(
            FieldSpec(
                "base_url",
                "API base URL (EU accounts: https://api.eu.opsgenie.com)",
                default="https://api.opsgenie.com",
            ),
            FieldSpec(
                "allow_private_metadata",
                "allow link-local and cloud metadata addresses",
                type="boolean",
                default=False,
            ),
            FieldSpec("ca_cert", "PEM CA bundle trusted for this API (private PKI)"),
            FieldSpec("api_key", "API integration key (sent as `GenieKey`)", secret=True),
        ),
    )
)


class Responder(BaseModel):
    """A team, user, escalation or schedule, by id or by name (username for users)."""

    model_config = ConfigDict(extra="forbid", title="Opsgenie responder")

    type: Literal["team", "user", "escalation", "schedule"] = Field(
        description="team, user, escalation or schedule"
    )
    id: str | None = Field(default=None, description="its id")
    name: str | None = Field(default=None, description="its name (teams, escalations, schedules)")
    username: str | None = Field(default=None, description="the user's email (users)")

    @model_validator(mode="after")
    def _identified(self) -> Responder:
        if self.type == "user":
            if self.name is not None:
                raise ValueError("a user is identified by `id` or `username`, not `name`")
            if not (self.id or self.username):
                raise ValueError("a user responder needs `id` or `username`")
        else:
            if self.username is not None:
                raise ValueError(f"a {self.type} is identified by `id` or `name`, not `username`")
            if not (self.id or self.name):
                raise ValueError(f"a {self.type} responder needs `id` or `name`")
        return self


Scalar = str | int | float | bool


class CreateAlertInput(BaseModel):
    """Parameters of `opsgenie.create_alert`."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, title="opsgenie.create_alert input"
    )

    message: str = Field(min_length=1, max_length=130, description="the alert's message (title)")
    alias: str | None = Field(
        default=None,
        min_length=1,
        max_length=512,
        description="client-defined id: Opsgenie de-duplicates open alerts with the same alias",
    )
    description: str | None = Field(
        default=None, max_length=15000, description="longer description"
    )
    responders: list[Responder] = Field(
        default_factory=list, description="teams, users, escalations, schedules to notify"
    )
    visible_to: list[Responder] = Field(
        default_factory=list,
        alias="visibleTo",
        description="teams and users that see the alert without being notified",
    )
    actions: list[str] = Field(
        default_factory=list, max_length=10, description="custom action names (at most 10)"
    )
    tags: list[str] = Field(default_factory=list, max_length=20, description="tags (at most 20)")
    details: dict[str, Scalar] = Field(
        default_factory=dict, description="custom properties (values are sent as text)"
    )
    entity: str | None = Field(
        default=None, max_length=512, description="the domain of the alert (a host, a service)"
    )
    source: str | None = Field(
        default=None, max_length=100, description="source of the alert (default: Opsgenie's)"
    )
    priority: Literal["P1", "P2", "P3", "P4", "P5"] | None = Field(
        default=None, description="P1 (highest) .. P5; Opsgenie's default is P3"
    )
    user: str | None = Field(default=None, max_length=100, description="display name of the owner")
    note: str | None = Field(default=None, max_length=25000, description="note added at creation")

    @field_validator("priority", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("actions")
    @classmethod
    def _action_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name or len(name) > 50:
                raise ValueError("action names are 1 to 50 characters")
        return value

    @field_validator("tags")
    @classmethod
    def _tag_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name or len(name) > 50:
                raise ValueError("tags are 1 to 50 characters")
        return value

    @field_validator("visible_to")
    @classmethod
    def _teams_and_users(cls, value: list[Responder]) -> list[Responder]:
        for r in value:
            if r.type not in ("team", "user"):
                raise ValueError("visibleTo takes teams and users only")
        return value


class CloseAlertInput(BaseModel):
    """Parameters of `opsgenie.close_alert`."""

    model_config = ConfigDict(extra="forbid", title="opsgenie.close_alert input")

    identifier: str = Field(min_length=1, description="the alert's id, alias or tiny id")
    identifier_type: Literal["id", "alias", "tiny"] = Field(
        default="id", description="what `identifier` is: id, alias or tiny"
    )
    user: str | None = Field(default=None, max_length=100, description="display name of the closer")
    source: str | None = Field(default=None, max_length=100, description="source of the action")
    note: str | None = Field(default=None, max_length=25000, description="note added on close")


class AlertRequestOutput(BaseModel):
    """Opsgenie's answer to an (asynchronous) alert request."""

    model_config = ConfigDict(title="opsgenie alert request output")

    result: str = Field(description="`Request will be processed`")
    request_id: str = Field(
        description="id of the request (`GET /v2/alerts/requests/{id}` tells its outcome)"
    )
    took: float | None = Field(default=None, description="server time in seconds")
    alias: str | None = Field(default=None, description="the alert's alias, when given")


def create_alert_options_class(params: dict[str, Any]) -> str:
    """With an alias, Opsgenie de-duplicates: a repeat of the request updates the
    open alert with that alias (its count) instead of creating a second one.
    Without one, a retry could create a duplicate alert: `write_once`."""
    alias = params.get("alias")
    return WRITE_IDEMPOTENT if isinstance(alias, str) and alias else WRITE_ONCE


@action(
    "opsgenie.create_alert",
    input=CreateAlertInput,
    output=AlertRequestOutput,
    options=create_alert_options_class,
    connection_type="opsgenie",
    title="Create an Opsgenie alert",
    group=GROUP,
    errors=REST_ERRORS,
    description=(
        "Creates an alert with the Opsgenie Alert API (`POST /v2/alerts`). Opsgenie "
        "accepts the request (HTTP 202) and creates the alert asynchronously.\n\n"
        "Output: `{result, request_id, took, alias}`.\n\n"
        "Options: `write_idempotent` when `alias` is given (Opsgenie de-duplicates "
        "open alerts by alias), else `write_once`. A 422 (invalid request) is an "
        "`HttpClientError`; 429 and 5xx are retried."
    ),
    examples=(
        {"message": "{{ Trigger.event.title }}", "priority": "P2"},
        {
            "message": "Disk 99% full on db-1",
            "alias": "db-1/disk",
            "description": "Free space below 1%",
            "responders": [
                {"type": "team", "name": "DBA"},
                {"type": "user", "username": "oncall@example.com"},
            ],
            "visibleTo": [{"type": "team", "name": "SRE"}],
            "tags": ["db", "prod"],
            "details": {"host": "db-1", "free_pct": 1},
            "entity": "db-1",
            "source": "switchyard",
            "priority": "P1",
        },
    ),
)
async def create_alert(ctx: ActionContext, params: CreateAlertInput) -> AlertRequestOutput:
    from switchyard.actions.opsgenie._impl import create

    return await create(ctx, params)


@action(
    "opsgenie.close_alert",
    input=CloseAlertInput,
    output=AlertRequestOutput,
    # Closing a closed alert changes nothing: safe to repeat.
    options=WRITE_IDEMPOTENT,
    connection_type="opsgenie",
    title="Close an Opsgenie alert",
    group=GROUP,
    errors=REST_ERRORS,
    description=(
        "Closes an alert with the Opsgenie Alert API "
        "(`POST /v2/alerts/{identifier}/close?identifierType=id|alias|tiny`), with an "
        "optional note. Output: `{result, request_id, took}`."
    ),
    examples=(
        {"identifier": "db-1/disk", "identifier_type": "alias", "note": "disk cleaned"},
        {"identifier": "{{ Trigger.event.alert_id }}"},
    ),
)
async def close_alert(ctx: ActionContext, params: CloseAlertInput) -> AlertRequestOutput:
    from switchyard.actions.opsgenie._impl import close

    return await close(ctx, params)
