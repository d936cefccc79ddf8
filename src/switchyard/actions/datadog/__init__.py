"""The Datadog integration: mute/unmute a monitor (v2 Downtimes), post an event.

This module only declares the connection type and the actions; the calls
live in `_impl.py`, imported on first use (it imports httpx).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from switchyard.actions.sdk import REST_ERRORS, ActionContext, action
from switchyard.connections.types import ConnectionType, FieldSpec, register_connection_type
from switchyard.definition.durations import DURATION_PATTERN, parse_duration
from switchyard.engine.options import WRITE_IDEMPOTENT, WRITE_ONCE

__all__ = [
    "DATADOG",
    "DEFAULT_BASE_URL",
    "MuteMonitorInput",
    "MuteMonitorOutput",
    "PostEventInput",
    "PostEventOutput",
    "UnmuteMonitorInput",
    "UnmuteMonitorOutput",
]

DEFAULT_BASE_URL = "https://api.datadoghq.com"
GROUP = "Datadog"

DATADOG = register_connection_type(
    ConnectionType(
        name="datadog",
        description="A Datadog organisation: its site and an API key (plus an application key).",
        fields=(
            FieldSpec(
                "site",
                "Datadog site, e.g. `datadoghq.eu`, `us3.datadoghq.com` (the API is "
                "`https://api.<site>`); ignored when `base_url` is set",
                default="datadoghq.com",
            ),
            FieldSpec(
                "base_url",
                "API base URL, overriding `site` (a proxy or a test server); "
                f"unset: from `site`, {DEFAULT_BASE_URL} by default",
            ),
            FieldSpec(
                "allow_private_metadata",
                "allow link-local and cloud metadata addresses",
                type="boolean",
                default=False,
            ),
            FieldSpec("ca_cert", "PEM CA bundle trusted for this API (private PKI)"),
            FieldSpec("api_key", "API key (header DD-API-KEY)", secret=True, required=True),
            FieldSpec(
                "app_key",
                "application key (header DD-APPLICATION-KEY); needed for downtimes",
                secret=True,
            ),
        ),
    )
)

_ERRORS_DOC = (
    "\n\n**Errors.** HTTP 401/403 (a bad key, a missing permission) "
    "`PermissionDenied`; 408/429/5xx `HttpServerError` (retried, `Retry-After` "
    "honoured); other 4xx `HttpClientError` with Datadog's `errors` text. A "
    "missing `api_key` (or `app_key` where needed) is a `ValidationError`."
)


class MuteMonitorInput(BaseModel):
    """Parameters of `datadog.mute_monitor`."""

    model_config = ConfigDict(extra="forbid", title="datadog.mute_monitor input")

    monitor_id: int = Field(gt=0, description="id of the monitor to mute")
    scope: str = Field(
        default="*",
        min_length=1,
        description="downtime scope query, e.g. `env:prod AND service:api` (`*`: everything)",
    )
    duration: str | None = Field(
        default=None,
        pattern=DURATION_PATTERN,
        description=(
            "mute for this long from now (`30m`, `2h`); or give `end`; neither: until unmuted"
        ),
    )
    end: datetime | None = Field(
        default=None,
        description="ISO 8601 time the downtime ends (no offset = UTC)",
    )
    start: datetime | None = Field(
        default=None, description="ISO 8601 time the downtime starts (default: now)"
    )
    message: str | None = Field(
        default=None, description="message sent with the downtime's notifications (`@team` works)"
    )
    mute_first_recovery_notification: bool | None = Field(
        default=None, description="also mute the first recovery notification"
    )

    @field_validator("duration")
    @classmethod
    def _positive(cls, value: str | None) -> str | None:
        if value is not None and parse_duration(value) <= 0:
            raise ValueError("the duration must be positive")
        return value

    @model_validator(mode="after")
    def _one_end(self) -> MuteMonitorInput:
        if self.duration is not None and self.end is not None:
            raise ValueError("give `duration` or `end`, not both")
        if (
            self.start is not None
            and self.end is not None
            and _aware(self.end) <= _aware(self.start)
        ):
            raise ValueError("`end` must be after `start`")
        return self


def _aware(value: datetime) -> datetime:
    """`value` with UTC assumed when it has no offset."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class MuteMonitorOutput(BaseModel):
    """What `datadog.mute_monitor` returns."""

    model_config = ConfigDict(title="datadog.mute_monitor output")

    downtime_id: str = Field(description="id of the new downtime (for `datadog.unmute_monitor`)")
    monitor_id: int
    scope: str
    status: str | None = Field(default=None, description="`active` or `scheduled`")
    start: str | None = None
    end: str | None = Field(default=None, description="when it ends; null: until cancelled")
    message: str | None = None


class UnmuteMonitorInput(BaseModel):
    """Parameters of `datadog.unmute_monitor`."""

    model_config = ConfigDict(extra="forbid", title="datadog.unmute_monitor input")

    downtime_id: str | None = Field(
        default=None, min_length=1, description="cancel this downtime (e.g. from mute_monitor)"
    )
    monitor_id: int | None = Field(
        default=None,
        gt=0,
        description="cancel every active downtime created for this monitor (by its id)",
    )
    scope: str | None = Field(
        default=None, description="with `monitor_id`: cancel only downtimes with this exact scope"
    )

    @model_validator(mode="after")
    def _one_target(self) -> UnmuteMonitorInput:
        if (self.downtime_id is None) == (self.monitor_id is None):
            raise ValueError("give exactly one of `downtime_id` and `monitor_id`")
        if self.scope is not None and self.monitor_id is None:
            raise ValueError("`scope` only filters the downtimes of a `monitor_id`")
        return self


class UnmuteMonitorOutput(BaseModel):
    """What `datadog.unmute_monitor` returns."""

    model_config = ConfigDict(title="datadog.unmute_monitor output")

    cancelled: list[str] = Field(description="ids of the downtimes this call cancelled")
    already_cancelled: list[str] = Field(
        description="ids that were already cancelled or gone (Datadog answered 404)"
    )
    monitor_id: int | None = None


AlertType = Literal[
    "error", "warning", "info", "success", "user_update", "recommendation", "snapshot"
]


class PostEventInput(BaseModel):
    """Parameters of `datadog.post_event`."""

    model_config = ConfigDict(extra="forbid", title="datadog.post_event input")

    title: str = Field(min_length=1, max_length=100, description="event title (100 chars max)")
    text: str = Field(
        max_length=4000,
        description="event body (4000 chars max); Markdown when it starts with `%%% \\n`",
    )
    tags: list[str] = Field(
        default_factory=list, description="tags, e.g. `[env:prod, service:api]`"
    )
    alert_type: AlertType | None = Field(default=None, description="event type (default `info`)")
    priority: Literal["normal", "low"] | None = Field(default=None, description="event priority")
    aggregation_key: str | None = Field(
        default=None, max_length=100, description="events with the same key are grouped"
    )
    source_type_name: str | None = Field(
        default=None, description="source type, e.g. `jenkins`, `my_apps`"
    )
    host: str | None = Field(default=None, description="host name the event is about")
    date_happened: int | None = Field(
        default=None, description="POSIX time of the event (default now; 18 hours old at most)"
    )
    related_event_id: int | None = Field(default=None, description="id of a parent event")


class PostEventOutput(BaseModel):
    """What `datadog.post_event` returns."""

    model_config = ConfigDict(title="datadog.post_event output")

    id: str = Field(description="event id, as text (it exceeds what JSON numbers hold exactly)")
    url: str | None = Field(default=None, description="the event's page in Datadog")
    status: str | None = Field(default=None, description="`ok` when accepted")
    title: str | None = None
    date_happened: int | None = None
    tags: list[str] = Field(default_factory=list)


@action(
    "datadog.mute_monitor",
    input=MuteMonitorInput,
    output=MuteMonitorOutput,
    # POST /api/v2/downtime has no idempotency key: a retry after a timed-out
    # attempt that did succeed would create a second downtime.
    options=WRITE_ONCE,
    connection_type="datadog",
    errors=REST_ERRORS,
    group=GROUP,
    title="Mute a monitor",
    description=(
        "Mutes one monitor by scheduling a downtime for it with the v2 Downtimes API "
        "(`POST /api/v2/downtime`, `monitor_identifier.monitor_id`; permission "
        "`monitors_downtime`, API and application keys). `scope` narrows it "
        "(default `*`); `duration` or `end` bound it (otherwise it lasts until "
        "cancelled); `message` goes with its notifications.\n\nOutput: "
        "`{downtime_id, monitor_id, scope, status, start, end, message}`; pass "
        "`downtime_id` to `datadog.unmute_monitor`.\n\nOptions class "
        "`write_once`: each call creates a downtime, so a retry could create two." + _ERRORS_DOC
    ),
    examples=(
        {"monitor_id": 12345678, "duration": "1h", "message": "Deploy in progress"},
        {
            "monitor_id": "{{ Trigger.event.monitor_id }}",
            "scope": "env:prod AND service:api",
            "end": "2030-01-01T06:00:00Z",
        },
    ),
)
async def mute_monitor(ctx: ActionContext, params: MuteMonitorInput) -> MuteMonitorOutput:
    from switchyard.actions.datadog._impl import mute_monitor as impl

    return await impl(ctx, params)


@action(
    "datadog.unmute_monitor",
    input=UnmuteMonitorInput,
    output=UnmuteMonitorOutput,
    # Cancelling is a DELETE: a downtime already cancelled (404) counts as
    # done, and re-listing finds only what is still active.
    options=WRITE_IDEMPOTENT,
    connection_type="datadog",
    errors=REST_ERRORS,
    group=GROUP,
    title="Unmute a monitor",
    description=(
        "Cancels downtimes with the v2 Downtimes API: the one given as "
        "`downtime_id` (`DELETE /api/v2/downtime/{id}`), or every active downtime "
        "created for `monitor_id` (listed with `GET /api/v2/downtime?current_only=true`, "
        "all pages, keeping those whose `monitor_identifier.monitor_id` matches, "
        "optionally only with the given `scope`). Downtimes that match the monitor "
        "through tags are left alone. A 404 on cancel means already cancelled: "
        "the action is idempotent.\n\nOutput: `{cancelled, already_cancelled, "
        "monitor_id}`.\n\nOptions class `write_idempotent`." + _ERRORS_DOC
    ),
    examples=(
        {"downtime_id": "{{ Steps.mute.output.downtime_id }}"},
        {"monitor_id": 12345678},
    ),
)
async def unmute_monitor(ctx: ActionContext, params: UnmuteMonitorInput) -> UnmuteMonitorOutput:
    from switchyard.actions.datadog._impl import unmute_monitor as impl

    return await impl(ctx, params)


@action(
    "datadog.post_event",
    input=PostEventInput,
    output=PostEventOutput,
    # POST /api/v1/events creates an event each time (aggregation_key only
    # groups them in the UI): a retry could post it twice.
    options=WRITE_ONCE,
    connection_type="datadog",
    errors=REST_ERRORS,
    group=GROUP,
    title="Post an event",
    description=(
        "Posts an event to the Datadog event stream (`POST /api/v1/events`, API "
        "key): `title`, `text`, `tags`, `alert_type`, `priority`, "
        "`aggregation_key`, `source_type_name`, `host`.\n\nOutput: `{id, url, "
        "status, title, date_happened, tags}` (`id` as text).\n\nOptions class "
        "`write_once`: each call creates an event." + _ERRORS_DOC
    ),
    examples=(
        {
            "title": "Deployed api {{ Trigger.event.version }}",
            "text": "Deployed by {{ Trigger.event.actor }}",
            "tags": ["env:prod", "service:api"],
            "alert_type": "info",
            "source_type_name": "my_apps",
        },
    ),
)
async def post_event(ctx: ActionContext, params: PostEventInput) -> PostEventOutput:
    from switchyard.actions.datadog._impl import post_event as impl

    return await impl(ctx, params)
