"""The normalized event: `{id, source, title, status, severity, tags, attributes, ...}`.

Fields: `id, source, title, status, severity, tags, attributes, occurred_at, raw`.

Monitoring adapters produce `source: monitor`, security adapters
`source: security_signal`; `POST /api/v1/events` accepts this shape (or a
list of it) directly. Every event has an id: given by the sender, or derived
from its content, so a redelivered event is recognised as the same one.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = ["EVENT_SOURCES", "Event", "EventError", "content_id", "parse_events"]

#: Sources that triggers listen to (others are stored and matched by nothing).
EVENT_SOURCES = ("monitor", "security_signal")
#: Statuses adapters produce; senders may use others.
STATUSES = ("alert", "warn", "ok", "no_data", "info")
MAX_EVENTS_PER_REQUEST = 500


class EventError(ValueError):
    """A body that is not an event (or a list of them), with located problems."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p['location']}: {p['message']}" for p in problems[:5]))


class Event(BaseModel):
    """One normalized event."""

    model_config = ConfigDict(extra="forbid", title="Switchyard event")

    id: str = Field(
        default="",
        max_length=256,
        description="unique id; redeliveries carry the same one (derived from content when absent)",
    )
    source: str = Field(default="monitor", min_length=1, max_length=64)
    title: str = Field(default="", max_length=2000)
    status: str = Field(default="alert", max_length=64)
    severity: str = Field(default="", max_length=64)
    tags: list[str] = Field(default_factory=list, max_length=500)
    attributes: dict[str, Any] = Field(default_factory=dict)
    occurred_at: datetime | None = None
    raw: Any = None

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> Any:
        # Datadog sends "$TAGS" as one comma-separated string.
        if isinstance(value, str):
            return [t.strip() for t in value.split(",") if t.strip()]
        return value

    @field_validator("severity", "status", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    def to_trigger(self) -> dict[str, Any]:
        """The event as `Trigger.event` sees it (JSON data)."""
        data = self.model_dump(mode="json")
        return data


def content_id(source: str, payload: Any) -> str:
    """A stable id for an event that came without one: a hash of its content."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return f"{source}:{hashlib.sha256(text.encode()).hexdigest()[:32]}"


def _problems(exc: ValidationError, prefix: str) -> list[dict[str, str]]:
    out = []
    for err in exc.errors():
        loc = prefix
        for part in err["loc"]:
            loc += f"[{part}]" if isinstance(part, int) else f".{part}"
        out.append({"location": loc.lstrip("."), "message": err["msg"]})
    return out


def parse_events(body: Any) -> list[Event]:
    """Validate a normalized event or a list of them; ids filled in, times defaulted.

    Raises:
        EventError: with one located problem per bad field (`[2].tags: ...`).
    """
    items = body if isinstance(body, list) else [body]
    if isinstance(body, list) and not body:
        raise EventError([{"location": "body", "message": "an empty list of events"}])
    if len(items) > MAX_EVENTS_PER_REQUEST:
        raise EventError(
            [{"location": "body", "message": f"more than {MAX_EVENTS_PER_REQUEST} events"}]
        )
    events: list[Event] = []
    problems: list[dict[str, str]] = []
    for index, item in enumerate(items):
        prefix = f"[{index}]" if isinstance(body, list) else ""
        if not isinstance(item, dict):
            problems.append({"location": prefix or "body", "message": "an event is a JSON object"})
            continue
        try:
            event = Event.model_validate(item)
        except ValidationError as exc:
            problems += _problems(exc, prefix)
            continue
        if not event.id:
            event.id = content_id(event.source, item)
        if event.occurred_at is None:
            event.occurred_at = datetime.now(UTC)
        elif event.occurred_at.tzinfo is None:
            event.occurred_at = event.occurred_at.replace(tzinfo=UTC)
        events.append(event)
    if problems:
        raise EventError(problems)
    return events
