"""Live cases of the Datadog actions, and the fake Datadog API they (and test_datadog) use.

The fake checks requests the way the Datadog API does (DD-API-KEY, and
DD-APPLICATION-KEY for downtimes: 403 `{"errors": ["Forbidden"]}`
otherwise; the v2 Downtimes JSON:API body; the v1 event body) and answers
with the documented shapes (`{"data": {...}}` for downtimes with a UUID id,
204 on cancel, 404 `{"errors": ["Downtime <id> not found"]}`; 202
`{"status": "ok", "event": {...}}` for events).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from switchyard.connections import Connection

from . import SECRET, Live, LiveCase

APP_KEY = "app-key-0123456789"
EVENT_ID = 5934719801181587474  # larger than 2**53, as real event ids are
ALERT_TYPES = {"error", "warning", "info", "success", "user_update", "recommendation", "snapshot"}
EVENT_FIELDS = {
    "title": str,
    "text": str,
    "tags": list,
    "alert_type": str,
    "priority": str,
    "aggregation_key": str,
    "source_type_name": str,
    "host": str,
    "date_happened": int,
    "related_event_id": int,
    "device_name": str,
}
DOWNTIME_ATTRIBUTES = {
    "scope",
    "monitor_identifier",
    "schedule",
    "message",
    "mute_first_recovery_notification",
    "display_timezone",
    "notify_end_states",
    "notify_end_types",
}


def datadog_connection(
    server: HTTPServer, api_key: str = SECRET, app_key: str | None = APP_KEY
) -> Connection:
    secrets = {"api_key": api_key}
    if app_key is not None:
        secrets["app_key"] = app_key
    return Connection(
        "dd", "datadog", fields={"base_url": server.url_for("/").rstrip("/")}, secrets=secrets
    )


def _parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time with a zero UTC offset, as Datadog requires; None otherwise."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.utcoffset() is None or parsed.utcoffset().total_seconds() != 0:
        return None
    return parsed


class DatadogFake:
    """The Datadog API endpoints the actions use, on a pytest-httpserver.

    Attributes:
        downtimes: id -> downtime resource (`{type, id, attributes}`).
        events: Every event body accepted.
        requests: `(method, path, query, json body, headers)` of every request.
    """

    def __init__(self, server: HTTPServer, api_key: str = SECRET, app_key: str = APP_KEY) -> None:
        self.api_key = api_key
        self.app_key = app_key
        self.downtimes: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, dict[str, str], Any, dict[str, str]]] = []
        server.expect_request(re.compile(r"^/api/v[12]/.*")).respond_with_handler(self.handle)

    def add_downtime(
        self,
        *,
        monitor_id: int | None = None,
        monitor_tags: list[str] | None = None,
        scope: str = "*",
        canceled: bool = False,
        downtime_id: str | None = None,
    ) -> str:
        ident: dict[str, Any] = (
            {"monitor_id": monitor_id} if monitor_id is not None else {"monitor_tags": monitor_tags}
        )
        resource = self._resource(
            downtime_id or str(uuid.uuid4()), {"scope": scope, "monitor_identifier": ident}
        )
        if canceled:
            resource["attributes"]["canceled"] = "2024-01-01T00:00:00+00:00"
            resource["attributes"]["status"] = "canceled"
        self.downtimes[resource["id"]] = resource
        return resource["id"]

    def _resource(self, downtime_id: str, attrs: dict[str, Any]) -> dict[str, Any]:
        now = datetime.now(UTC).isoformat()
        schedule = dict(attrs.get("schedule") or {})
        start = schedule.get("start")
        status = "scheduled" if start and _parse_time(start) > datetime.now(UTC) else "active"
        return {
            "type": "downtime",
            "id": downtime_id,
            "attributes": {
                "canceled": None,
                "created": now,
                "modified": now,
                "display_timezone": attrs.get("display_timezone", "UTC"),
                "message": attrs.get("message"),
                "monitor_identifier": attrs["monitor_identifier"],
                "mute_first_recovery_notification": attrs.get(
                    "mute_first_recovery_notification", False
                ),
                "notify_end_states": ["alert", "no data", "warn"],
                "notify_end_types": ["expired"],
                "schedule": {"start": start or now, "end": schedule.get("end")},
                "scope": attrs["scope"],
                "status": status,
            },
            "relationships": {"created_by": {"data": None}, "monitor": {"data": None}},
        }

    def handle(self, request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        raw = request.get_data(as_text=True)
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return _errors(400, "Invalid JSON")
        self.requests.append((request.method, request.path, dict(request.args), body, headers))
        if headers.get("dd-api-key") != self.api_key:
            return _errors(403, "Forbidden")
        if request.path.startswith("/api/v2/downtime"):
            if headers.get("dd-application-key") != self.app_key:
                return _errors(403, "Forbidden")
            return self._downtimes(request, body, headers)
        if request.path == "/api/v1/events" and request.method == "POST":
            return self._post_event(body, headers)
        return _errors(404, "Not found")

    def _downtimes(self, request: Request, body: Any, headers: dict[str, str]) -> Response:
        path, method = request.path, request.method
        if path == "/api/v2/downtime" and method == "POST":
            if not headers.get("content-type", "").startswith("application/json"):
                return _errors(415, "Unsupported Media Type")
            problem = _downtime_problem(body)
            if problem:
                return _errors(400, problem)
            resource = self._resource(str(uuid.uuid4()), body["data"]["attributes"])
            self.downtimes[resource["id"]] = resource
            return _json(200, {"data": resource})
        if path == "/api/v2/downtime" and method == "GET":
            try:
                limit = int(request.args.get("page[limit]", "30"))
                offset = int(request.args.get("page[offset]", "0"))
            except ValueError:
                return _errors(400, "page[limit] and page[offset] must be integers")
            if not 1 <= limit <= 100 or offset < 0:
                return _errors(400, "page[limit] must be between 1 and 100")
            items = list(self.downtimes.values())
            if request.args.get("current_only") == "true":
                items = [d for d in items if d["attributes"]["status"] == "active"]
            page = items[offset : offset + limit]
            return _json(
                200, {"data": page, "meta": {"page": {"total_filtered_count": len(items)}}}
            )
        match = re.fullmatch(r"/api/v2/downtime/([^/]+)", path)
        if match and method == "DELETE":
            resource = self.downtimes.get(match.group(1))
            if resource is None:
                return _errors(404, f"Downtime {match.group(1)} not found")
            resource["attributes"]["canceled"] = datetime.now(UTC).isoformat()
            resource["attributes"]["status"] = "canceled"
            return Response("", 204, content_type="text/html; charset=utf-8")
        return _errors(404, "Not found")

    def _post_event(self, body: Any, headers: dict[str, str]) -> Response:
        if not headers.get("content-type", "").startswith("application/json"):
            return _errors(415, "Unsupported Media Type")
        problem = _event_problem(body)
        if problem:
            return _errors(400, problem)
        self.events.append(body)
        event_id = EVENT_ID + len(self.events) - 1
        event = {
            "id": event_id,
            "id_str": str(event_id),
            "title": body["title"],
            "text": body["text"],
            "date_happened": body.get("date_happened", 1617999731),
            "handle": None,
            "priority": body.get("priority"),
            "related_event_id": body.get("related_event_id"),
            "tags": body.get("tags", []),
            "url": f"https://app.datadoghq.com/event/event?id={event_id}",
        }
        return _json(202, {"status": "ok", "event": event})


def _downtime_problem(body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        return "data is required"
    data = body["data"]
    if data.get("type") != "downtime":
        return "data.type must be downtime"
    attrs = data.get("attributes")
    if not isinstance(attrs, dict):
        return "data.attributes is required"
    unknown = set(attrs) - DOWNTIME_ATTRIBUTES
    if unknown:
        return f"unknown attributes {sorted(unknown)}"
    if not isinstance(attrs.get("scope"), str) or not attrs["scope"]:
        return "attributes.scope is required"
    ident = attrs.get("monitor_identifier")
    if not isinstance(ident, dict) or len(ident) != 1:
        return "monitor_identifier needs exactly one of monitor_id, monitor_tags"
    if "monitor_id" in ident and (
        not isinstance(ident["monitor_id"], int) or isinstance(ident["monitor_id"], bool)
    ):
        return "monitor_identifier.monitor_id must be an integer"
    if "monitor_tags" in ident and not isinstance(ident["monitor_tags"], list):
        return "monitor_identifier.monitor_tags must be a list"
    if not {"monitor_id", "monitor_tags"} & set(ident):
        return "monitor_identifier needs monitor_id or monitor_tags"
    schedule = attrs.get("schedule")
    if schedule is not None:
        if not isinstance(schedule, dict) or set(schedule) - {"start", "end"}:
            return "schedule must be {start, end} (one-time)"
        for key in ("start", "end"):
            if schedule.get(key) is not None and _parse_time(schedule[key]) is None:
                return f"schedule.{key} must be an ISO 8601 time with a zero UTC offset"
        end = _parse_time(schedule.get("end"))
        start = _parse_time(schedule.get("start")) or datetime.now(UTC)
        if end is not None and end <= start:
            return "schedule.end must be after the start"
    for key, kind in (("message", str), ("mute_first_recovery_notification", bool)):
        if key in attrs and not isinstance(attrs[key], kind):
            return f"{key} has the wrong type"
    return None


def _event_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "Invalid event"
    for key in ("title", "text"):
        if not isinstance(body.get(key), str):
            return f"Event '{key}' is required"
    unknown = set(body) - set(EVENT_FIELDS)
    if unknown:
        return f"unknown fields {sorted(unknown)}"
    for key, kind in EVENT_FIELDS.items():
        if key in body and (not isinstance(body[key], kind) or isinstance(body[key], bool)):
            return f"'{key}' has the wrong type"
    if len(body["title"]) > 100 or len(body["text"]) > 4000:
        return "title or text too long"
    if not all(isinstance(t, str) for t in body.get("tags", [])):
        return "tags must be strings"
    if "alert_type" in body and body["alert_type"] not in ALERT_TYPES:
        return "invalid alert_type"
    if "priority" in body and body["priority"] not in ("normal", "low"):
        return "invalid priority"
    return None


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")


def _errors(status: int, *messages: str) -> Response:
    return _json(status, {"errors": list(messages)})


# -- live cases: each output echoes a value holding SECRET (masking check) --------------


def _mute_case(server: HTTPServer) -> Live:
    DatadogFake(server)
    return Live(
        {"monitor_id": 1234, "duration": "1h", "message": f"muted {SECRET}"},
        datadog_connection(server),
    )


def _unmute_case(server: HTTPServer) -> Live:
    fake = DatadogFake(server)
    fake.add_downtime(monitor_id=1234, downtime_id=f"dt-{SECRET}")
    return Live({"monitor_id": 1234}, datadog_connection(server))


def _event_case(server: HTTPServer) -> Live:
    DatadogFake(server)
    return Live(
        {"title": f"Deploy {SECRET}", "text": "api v2", "tags": ["env:prod"]},
        datadog_connection(server),
    )


CASES: dict[str, LiveCase] = {
    "datadog.mute_monitor": _mute_case,
    "datadog.unmute_monitor": _unmute_case,
    "datadog.post_event": _event_case,
}
