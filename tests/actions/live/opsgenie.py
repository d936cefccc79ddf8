"""Live cases of the Opsgenie actions, and the Opsgenie fake they (and the unit tests) use.

The fake checks requests as Opsgenie's Alert API does (`GenieKey` auth, the
create-alert field rules, `identifierType` on close) and answers with its
documented shapes: 202 `{result, took, requestId}`; 401, 422 with `message`.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import unquote

from pytest_httpserver import HTTPServer, URIPattern
from werkzeug import Request, Response

from switchyard.connections import Connection

from . import SECRET, Live, LiveCase

CREATE_LIMITS = {
    "alias": 512,
    "description": 15000,
    "entity": 512,
    "source": 100,
    "user": 100,
    "note": 25000,
}
CLOSE_KEYS = {"user": 100, "source": 100, "note": 25000}
RESPONDER_TYPES = ("team", "user", "escalation", "schedule")


def _json(body: Any, status: int) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")


def _unprocessable(**problems: str) -> Response:
    return _json(
        {
            "message": "Request body is not processable. Please check the errors.",
            "errors": problems,
            "took": 0.002,
            "requestId": str(uuid.uuid4()),
        },
        422,
    )


def _accepted() -> Response:
    return _json(
        {"result": "Request will be processed", "took": 0.302, "requestId": str(uuid.uuid4())},
        202,
    )


def _responder_problems(items: Any, field: str, types: tuple[str, ...]) -> dict[str, str]:
    if not isinstance(items, list):
        return {field: "must be a list"}
    for item in items:
        if not isinstance(item, dict) or item.get("type") not in types:
            return {field: f"type must be one of {', '.join(types)}"}
        keys = set(item) - {"type"}
        allowed = {"id", "username"} if item["type"] == "user" else {"id", "name"}
        if not keys or not keys <= allowed:
            return {field: f"a {item['type']} is identified by {' or '.join(sorted(allowed))}"}
    return {}


def create_problems(body: Any) -> dict[str, str]:
    if not isinstance(body, dict):
        return {"body": "must be a JSON object"}
    problems: dict[str, str] = {}
    known = {
        *CREATE_LIMITS,
        "message",
        "responders",
        "visibleTo",
        "actions",
        "tags",
        "details",
        "priority",
    }
    for key in body:
        if key not in known:
            problems[key] = "unknown field"
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        problems["message"] = "Message can not be empty."
    elif len(message) > 130:
        problems["message"] = "Message can not be longer than 130 characters."
    for key, limit in CREATE_LIMITS.items():
        if key in body and (not isinstance(body[key], str) or len(body[key]) > limit):
            problems[key] = f"must be a string of at most {limit} characters"
    if "responders" in body:
        problems.update(_responder_problems(body["responders"], "responders", RESPONDER_TYPES))
    if "visibleTo" in body:
        problems.update(_responder_problems(body["visibleTo"], "visibleTo", ("team", "user")))
    for key, count in (("actions", 10), ("tags", 20)):
        items = body.get(key, [])
        if (
            not isinstance(items, list)
            or len(items) > count
            or not all(isinstance(i, str) and 0 < len(i) <= 50 for i in items)
        ):
            problems[key] = f"at most {count} strings of at most 50 characters"
    details = body.get("details", {})
    if not isinstance(details, dict) or not all(isinstance(v, str) for v in details.values()):
        problems["details"] = "must be a map of strings"
    if "priority" in body and body["priority"] not in ("P1", "P2", "P3", "P4", "P5"):
        problems["priority"] = "must be one of P1, P2, P3, P4, P5"
    return problems


class OpsgenieFake:
    """Opsgenie's create-alert and close-alert endpoints."""

    def __init__(self, server: HTTPServer, *, api_key: str = SECRET) -> None:
        self.server = server
        self.api_key = api_key
        self.created: list[dict[str, Any]] = []
        self.closed: list[tuple[str, str, dict[str, Any]]] = []
        server.expect_request("/v2/alerts", method="POST").respond_with_handler(self.create)
        server.expect_request(_CloseAlertPath(), method="POST").respond_with_handler(self.close)

    def connection(self) -> Connection:
        return Connection(
            "og",
            "opsgenie",
            fields={"base_url": self.server.url_for("/")},
            secrets={"api_key": self.api_key},
        )

    def _refused(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"GenieKey {self.api_key}":
            return _json(
                {"message": "Could not authenticate", "took": 0.0, "requestId": str(uuid.uuid4())},
                401,
            )
        if request.mimetype != "application/json":
            return _json(
                {"message": "Unsupported Media Type", "took": 0.0, "requestId": str(uuid.uuid4())},
                415,
            )
        return None

    def create(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        try:
            body = json.loads(request.get_data(as_text=True))
        except ValueError:
            return _unprocessable(body="invalid JSON")
        problems = create_problems(body)
        if problems:
            return _unprocessable(**problems)
        self.created.append(body)
        return _accepted()

    def close(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        raw_path = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
        raw_path = raw_path.split("?", 1)[0]
        identifier = unquote(raw_path[len("/v2/alerts/") : -len("/close")])
        kind = request.args.get("identifierType", "id")
        if kind not in ("id", "alias", "tiny"):
            return _unprocessable(identifierType="must be one of id, alias, tiny")
        try:
            body = json.loads(request.get_data(as_text=True) or "{}")
        except ValueError:
            return _unprocessable(body="invalid JSON")
        if not isinstance(body, dict):
            return _unprocessable(body="must be a JSON object")
        for key, value in body.items():
            if key not in CLOSE_KEYS:
                return _unprocessable(**{key: "unknown field"})
            if not isinstance(value, str) or len(value) > CLOSE_KEYS[key]:
                return _unprocessable(**{key: f"at most {CLOSE_KEYS[key]} characters"})
        self.closed.append((identifier, kind, body))
        return _accepted()


class _CloseAlertPath(URIPattern):
    """Matches `/v2/alerts/<identifier>/close` (the identifier may hold an encoded `/`)."""

    def match(self, uri: str) -> bool:
        return uri.startswith("/v2/alerts/") and uri.endswith("/close") and len(uri) > 17


def _create_case(server: HTTPServer) -> Live:
    fake = OpsgenieFake(server)
    return Live(
        {"message": "API down", "alias": f"api-{SECRET}", "priority": "P1"}, fake.connection()
    )


def _close_case(server: HTTPServer) -> Live:
    fake = OpsgenieFake(server)
    return Live({"identifier": f"api-{SECRET}", "identifier_type": "alias"}, fake.connection())


CASES: dict[str, LiveCase] = {
    "opsgenie.create_alert": _create_case,
    "opsgenie.close_alert": _close_case,
}
