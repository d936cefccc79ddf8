"""Live cases of the PagerDuty actions, and the PagerDuty fake they (and the unit tests) use.

The fake checks requests the way PagerDuty does (Events API v2 `POST
/v2/enqueue`, REST `GET /oncalls` and `POST /incidents/{id}/notes`) and answers
with PagerDuty's documented shapes; requests are recorded for assertions.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from switchyard.connections import Connection

from . import SECRET, Live, LiveCase

SEVERITIES = ("critical", "error", "warning", "info")
EVENT_KEYS = {
    "routing_key",
    "event_action",
    "dedup_key",
    "payload",
    "links",
    "images",
    "client",
    "client_url",
}
PAYLOAD_KEYS = {
    "summary",
    "source",
    "severity",
    "timestamp",
    "component",
    "group",
    "class",
    "custom_details",
}


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")


def _invalid_event(*problems: str) -> Response:
    return _json(
        {"status": "invalid event", "message": "Event object is invalid", "errors": list(problems)},
        400,
    )


def _rest_error(status: int, message: str, code: int, *problems: str) -> Response:
    return _json({"error": {"message": message, "code": code, "errors": list(problems)}}, status)


def _event_problems(event: dict[str, Any], routing_key: str) -> list[str]:
    problems = [f"unknown field {k!r}" for k in event if k not in EVENT_KEYS]
    if event.get("routing_key") != routing_key:
        problems.append("Invalid routing key")
    action = event.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        problems.append("'event_action' is invalid (must be trigger, acknowledge or resolve)")
    dedup = event.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or not dedup or len(dedup) > 255):
        problems.append("'dedup_key' must be a string of 1 to 255 characters")
    if action in ("acknowledge", "resolve") and dedup is None:
        problems.append("'dedup_key' is missing or blank")
    if action in ("acknowledge", "resolve") and "payload" in event:
        problems.append("'payload' is only for trigger events")
    if action == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            return [*problems, "'payload' is missing or not an object"]
        problems += [f"unknown payload field {k!r}" for k in payload if k not in PAYLOAD_KEYS]
        summary = payload.get("summary")
        if not isinstance(summary, str) or not summary or len(summary) > 1024:
            problems.append("'payload.summary' must be a string of 1 to 1024 characters")
        if not isinstance(payload.get("source"), str) or not payload["source"]:
            problems.append("'payload.source' is missing or blank")
        if payload.get("severity") not in SEVERITIES:
            problems.append("'payload.severity' must be one of critical, error, warning, info")
        for key in ("component", "group", "class", "timestamp"):
            if key in payload and not isinstance(payload[key], str):
                problems.append(f"'payload.{key}' must be a string")
        if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
            problems.append("'payload.custom_details' must be an object")
        for key, required in (("links", "href"), ("images", "src")):
            items = event.get(key, [])
            if not isinstance(items, list) or not all(
                isinstance(i, dict) and isinstance(i.get(required), str) for i in items
            ):
                problems.append(f"'{key}' must be a list of objects with '{required}'")
    return problems


class PagerDutyFake:
    """PagerDuty's Events API v2 and the REST endpoints the actions use."""

    def __init__(
        self,
        server: HTTPServer,
        *,
        routing_key: str = SECRET,
        api_token: str = SECRET,
        oncalls: list[dict[str, Any]] | None = None,
    ) -> None:
        self.server = server
        self.routing_key = routing_key
        self.api_token = api_token
        self.oncalls = oncalls if oncalls is not None else []
        self.events: list[dict[str, Any]] = []
        self.oncall_queries: list[dict[str, list[str]]] = []
        self.notes: list[tuple[str, str, dict[str, Any]]] = []
        server.expect_request("/v2/enqueue", method="POST").respond_with_handler(self.enqueue)
        server.expect_request("/oncalls", method="GET").respond_with_handler(self.list_oncalls)
        server.expect_request("/incidents/PT4KHLK/notes", method="POST").respond_with_handler(
            self.add_note
        )

    def connection(self, **fields: Any) -> Connection:
        return Connection(
            "pd",
            "pagerduty",
            fields={
                "api_base_url": self.server.url_for("/"),
                "events_base_url": self.server.url_for("/"),
                "from_email": "responder@example.com",
                **fields,
            },
            secrets={"api_token": self.api_token, "routing_key": self.routing_key},
        )

    # Events API v2 ---------------------------------------------------------

    def enqueue(self, request: Request) -> Response:
        if request.mimetype != "application/json":
            return _json(
                {
                    "status": "Unrecognized object",
                    "message": "Event object format is unrecognized",
                    "errors": ["JSON parse error"],
                },
                400,
            )
        try:
            event = json.loads(request.get_data(as_text=True))
        except ValueError:
            event = None
        if not isinstance(event, dict):
            return _json(
                {
                    "status": "Unrecognized object",
                    "message": "Event object format is unrecognized",
                    "errors": ["JSON parse error"],
                },
                400,
            )
        problems = _event_problems(event, self.routing_key)
        if problems:
            return _invalid_event(*problems)
        self.events.append(event)
        key = event.get("dedup_key") or uuid.uuid4().hex
        return _json({"status": "success", "message": "Event processed", "dedup_key": key}, 202)

    # REST API --------------------------------------------------------------

    def _refused(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"Token token={self.api_token}":
            return _rest_error(401, "Unauthorized", 2006, "Authentication failed")
        accept = request.headers.get("Accept", "")
        if "application/json" not in accept and "application/vnd.pagerduty+json" not in accept:
            return _rest_error(406, "Not Acceptable", 2001, "Accept must be JSON")
        return None

    def list_oncalls(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        query = {k: request.args.getlist(k) for k in request.args}
        self.oncall_queries.append(query)
        try:
            offset = int(request.args.get("offset", "0"))
            limit = int(request.args.get("limit", "25"))
        except ValueError:
            return _rest_error(400, "Invalid Input Provided", 2001, "offset/limit: integers")
        if limit > 100 or offset + limit > 10000:
            return _rest_error(400, "Invalid Input Provided", 2001, "limit too large")
        for name in query:
            base = name[:-2] if name.endswith("[]") else name
            allowed = (
                "include",
                "escalation_policy_ids",
                "schedule_ids",
                "user_ids",
                "since",
                "until",
                "earliest",
                "time_zone",
                "offset",
                "limit",
                "total",
            )
            if base not in allowed:
                return _rest_error(400, "Invalid Input Provided", 2001, f"unknown {name}")
        if request.args.get("earliest") not in (None, "true", "false"):
            return _rest_error(400, "Invalid Input Provided", 2001, "earliest: true/false")
        entries = self.oncalls
        policies = request.args.getlist("escalation_policy_ids[]")
        schedules = request.args.getlist("schedule_ids[]")
        if policies:
            entries = [e for e in entries if e["escalation_policy"]["id"] in policies]
        if schedules:
            entries = [e for e in entries if (e.get("schedule") or {}).get("id") in schedules]
        full_users = "users" in request.args.getlist("include[]")
        page = [_shape(e, full_users) for e in entries[offset : offset + limit]]
        return _json(
            {
                "oncalls": page,
                "limit": limit,
                "offset": offset,
                "more": offset + limit < len(entries),
                "total": None,
            }
        )

    def add_note(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        sender = request.headers.get("From", "")
        if "@" not in sender:
            return _rest_error(
                400, "Invalid Input Provided", 2001, "A valid From header is required"
            )
        try:
            body = json.loads(request.get_data(as_text=True))
        except ValueError:
            return _rest_error(400, "Invalid Input Provided", 2001, "invalid JSON")
        note = body.get("note") if isinstance(body, dict) else None
        if (
            not isinstance(note, dict)
            or set(body) != {"note"}
            or set(note) != {"content"}
            or not isinstance(note["content"], str)
            or not note["content"]
        ):
            return _rest_error(400, "Invalid Input Provided", 2001, "note.content is required")
        self.notes.append(("PT4KHLK", sender, body))
        return _json(
            {
                "note": {
                    "id": "PWL7QXS",
                    "user": {
                        "id": "PXPGF42",
                        "type": "user_reference",
                        "summary": "Earline Greenholt",
                        "self": "https://api.pagerduty.com/users/PXPGF42",
                        "html_url": "https://subdomain.pagerduty.com/users/PXPGF42",
                    },
                    "channel": {"summary": "The PagerDuty website or APIs"},
                    "content": note["content"],
                    "created_at": "2013-03-06T15:28:51-05:00",
                }
            },
            201,
        )


def oncall_entry(
    user_id: str,
    name: str,
    *,
    policy: str = "P9OFD2O",
    schedule: str | None = "PI7DH85",
    level: int = 1,
) -> dict[str, Any]:
    """An on-call as PagerDuty stores it (full user; `_shape` makes references)."""
    return {
        "escalation_policy": {
            "id": policy,
            "type": "escalation_policy_reference",
            "summary": "Engineering Escalation Policy",
            "self": f"https://api.pagerduty.com/escalation_policies/{policy}",
            "html_url": f"https://subdomain.pagerduty.com/escalation_policies/{policy}",
        },
        "escalation_level": level,
        "schedule": (
            {
                "id": schedule,
                "type": "schedule_reference",
                "summary": "Daily Engineering Rotation",
                "self": f"https://api.pagerduty.com/schedules/{schedule}",
                "html_url": f"https://subdomain.pagerduty.com/schedules/{schedule}",
            }
            if schedule
            else None
        ),
        "user": {
            "id": user_id,
            "type": "user",
            "summary": name,
            "name": name,
            "email": f"{name.split()[0].lower()}@example.com",
            "time_zone": "America/Los_Angeles",
            "role": "admin",
            "self": f"https://api.pagerduty.com/users/{user_id}",
            "html_url": f"https://subdomain.pagerduty.com/users/{user_id}",
        },
        "start": "2015-03-06T15:28:51-05:00",
        "end": "2015-03-07T15:28:51-05:00",
    }


def _shape(entry: dict[str, Any], full_users: bool) -> dict[str, Any]:
    if full_users:
        return entry
    user = entry["user"]
    ref = {k: user[k] for k in ("id", "summary", "self", "html_url")}
    return {**entry, "user": {**ref, "type": "user_reference"}}


def _trigger_case(server: HTTPServer) -> Live:
    fake = PagerDutyFake(server)
    params = {"summary": "API down", "severity": "critical", "dedup_key": f"api/{SECRET}"}
    return Live(params, fake.connection())


def _acknowledge_case(server: HTTPServer) -> Live:
    fake = PagerDutyFake(server)
    return Live({"dedup_key": f"api/{SECRET}"}, fake.connection())


def _get_oncall_case(server: HTTPServer) -> Live:
    fake = PagerDutyFake(
        server, oncalls=[oncall_entry("PXPGF42", "Earline Greenholt", schedule=SECRET)]
    )
    return Live({"schedule_ids": [SECRET]}, fake.connection())


def _add_note_case(server: HTTPServer) -> Live:
    fake = PagerDutyFake(server)
    return Live({"incident_id": "PT4KHLK", "content": f"note {SECRET}"}, fake.connection())


CASES: dict[str, LiveCase] = {
    "pagerduty.trigger_incident": _trigger_case,
    "pagerduty.acknowledge": _acknowledge_case,
    "pagerduty.resolve": _acknowledge_case,
    "pagerduty.get_oncall": _get_oncall_case,
    "pagerduty.add_note": _add_note_case,
}
