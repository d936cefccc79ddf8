"""Local fakes of every SaaS API the blueprints call, all on ONE pytest-httpserver.

Each service lives under its own path prefix, which its connection's base URL
points at:

| prefix | service |
|---|---|
| `/slack/api` | Slack Web API |
| `/pagerduty/events`, `/pagerduty/api` | PagerDuty Events API v2, REST API |
| `/jira` | Jira Cloud REST v3 |
| `/github/api` | GitHub REST |
| `/openai/v1` | OpenAI Chat Completions |
| `/datadog` | Datadog API (v2 downtimes) |
| `/gitlab/api/v4` | GitLab REST |
| `/azure/login`, `/azure/arm` | Microsoft Entra ID token endpoint, Azure Resource Manager |
| `/teams` | a Teams incoming webhook |
| `/opsgenie` | Opsgenie Alert API |
| `/internal` | the team's own services (health endpoints) |

Every handler checks a request the way the real API does (method, raw path,
authentication header, content type, required and known body fields; the
integrations' own tests in tests/actions/ document what each action sends)
and answers with the real response shapes. Each request is recorded in
`SaaS.calls`; one that no handler knows is recorded in `SaaS.unexpected` and
answered 404, and the fixture fails the test when there is any.

`SmtpFake` is a real SMTP server (aiosmtpd) with STARTTLS and AUTH, for `email.send`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import ssl
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jsonschema
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from actions.live.email import make_certificate

# Credentials the connections hold; each fake accepts only its own.
SLACK_TOKEN = "xoxb-blueprint-slack-token"
PD_ROUTING_KEY = "R0UTINGKEYBLUEPRINT00000000000000"
PD_API_TOKEN = "u+pd-blueprint-api-token"
JIRA_EMAIL = "automation@example.com"
JIRA_API_TOKEN = "ATATT-blueprint-jira-token"
GITHUB_TOKEN = "ghp_blueprintGitHubToken000000000000"
OPENAI_KEY = "sk-blueprint-openai-key"
DD_API_KEY = "dd-blueprint-api-key-0000000000000"
DD_APP_KEY = "dd-blueprint-app-key-000000000000000000000"
GITLAB_TOKEN = "glpat-blueprint-gitlab-token"
AZURE_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
AZURE_CLIENT_ID = "5a1f7c2e-0b7d-4c7e-9a35-3f3e2a1b9c10"
AZURE_CLIENT_SECRET = "azure-blueprint-client-secret"
AZURE_SUBSCRIPTION = "3f2b8c1a-5d4e-4f6a-8b7c-9d0e1f2a3b4c"
TEAMS_WEBHOOK_TOKEN = "0f8e7d6c-team-webhook@72f988bf/IncomingWebhook/abc123/def456"
OPSGENIE_KEY = "eb243592-faa2-4ba2-a551q-1afdf565c889"


@dataclass
class Call:
    """One request a fake received."""

    service: str
    method: str
    path: str  # below the service's prefix, percent-encoding kept as sent
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON, a form as a dict of lists, or the raw text
    raw: bytes
    content_type: str

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Route:
    service: str
    method: str
    pattern: re.Pattern[str]
    handler: Callable[[Call, re.Match[str]], Response]


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response."""
    return Response(
        json.dumps(body), status, headers or {}, content_type="application/json; charset=utf-8"
    )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SaaS:
    """Every fake service, dispatched by path prefix from one catch-all handler.

    Attributes:
        calls: Every request handled, in order.
        unexpected: `METHOD raw-path` of the requests no route knew.
    """

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.base = server.url_for("/").rstrip("/")
        self.calls: list[Call] = []
        self.unexpected: list[str] = []
        self.routes: list[Route] = []
        self.lock = threading.RLock()
        server.expect_request(re.compile(r"^/.*")).respond_with_handler(self._dispatch)
        self.slack = SlackFake(self)
        self.pagerduty = PagerDutyFake(self)
        self.jira = JiraFake(self)
        self.github = GitHubFake(self)
        self.openai = OpenAIFake(self)
        self.datadog = DatadogFake(self)
        self.gitlab = GitLabFake(self)
        self.azure = AzureFake(self)
        self.teams = TeamsFake(self)
        self.opsgenie = OpsgenieFake(self)
        self.internal = InternalServices(self)

    def url(self, path: str) -> str:
        return self.base + path

    def route(
        self,
        service: str,
        method: str,
        pattern: str,
        handler: Callable[[Call, re.Match[str]], Response],
    ) -> None:
        self.routes.append(Route(service, method, re.compile(pattern), handler))

    def of(self, service: str, method: str | None = None, path: str | None = None) -> list[Call]:
        """The calls to one service (optionally one method and a path regex)."""
        return [
            c
            for c in self.calls
            if c.service == service
            and (method is None or c.method == method)
            and (path is None or re.fullmatch(path, c.path))
        ]

    def _dispatch(self, request: Request) -> Response:
        raw_uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
        parts = urlsplit(raw_uri)
        # The path as sent (percent-encoding kept: GitLab ids, Opsgenie aliases).
        raw_path = parts.path or request.path
        raw_query = parts.query if raw_uri else request.query_string.decode()
        with self.lock:
            for route in self.routes:
                if request.method != route.method:
                    continue
                match = route.pattern.fullmatch(raw_path)
                if match is None:
                    continue
                call = self._call(route.service, request, raw_path, raw_query, match)
                self.calls.append(call)
                return route.handler(call, match)
            self.unexpected.append(f"{request.method} {raw_uri}")
        return answer({"message": "Not Found (no fake for this request)"}, 404)

    @staticmethod
    def _call(
        service: str, request: Request, raw_path: str, raw_query: str, match: re.Match[str]
    ) -> Call:
        data = request.get_data()
        ctype = request.headers.get("Content-Type", "")
        mimetype = ctype.split(";")[0].strip().lower()
        body: Any = None
        if data:
            if mimetype == "application/json" or mimetype.endswith("+json"):
                try:
                    body = json.loads(data)
                except ValueError:
                    body = data.decode(errors="replace")
            elif mimetype == "application/x-www-form-urlencoded":
                body = parse_qs(data.decode(), keep_blank_values=True)
            else:
                body = data.decode(errors="replace")
        return Call(
            service=service,
            method=request.method,
            path=match.group(1) if match.re.groups else raw_path,
            query=parse_qs(raw_query, keep_blank_values=True),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            raw=data,
            content_type=mimetype,
        )


def _is_json(call: Call) -> bool:
    return call.content_type == "application/json" and call.body is not None


# ================================================================== Slack


class SlackFake:
    """Slack Web API: `chat.postMessage`, `users.lookupByEmail` (bearer bot token).

    Slack answers HTTP 200 with `{"ok": false, "error": code}` for its errors.
    """

    PREFIX = "/slack/api"
    CHANNELS = {
        "sre-alerts": "C01SREALRT",
        "incidents": "C02INCIDNT",
        "finops": "C03FINOPS1",
        "security": "C04SECURTY",
        "eng-triage": "C05TRIAGE1",
        "deploys": "C06DEPLOYS",
    }
    POST_ARGS = {
        "channel": str,
        "text": str,
        "blocks": list,
        "attachments": list,
        "thread_ts": str,
        "reply_broadcast": bool,
        "unfurl_links": bool,
        "unfurl_media": bool,
        "mrkdwn": bool,
        "username": str,
        "icon_emoji": str,
        "icon_url": str,
    }

    def __init__(self, saas: SaaS) -> None:
        self.saas = saas
        self.messages: list[dict[str, Any]] = []
        self.users: dict[str, dict[str, Any]] = {}
        self._n = 0
        saas.route("slack", "POST", rf"{self.PREFIX}(/chat\.postMessage)", self._post)
        saas.route("slack", "GET", rf"{self.PREFIX}(/users\.lookupByEmail)", self._lookup)

    @property
    def base_url(self) -> str:
        return self.saas.url(self.PREFIX)

    def add_user(self, email: str, user_id: str, real_name: str) -> None:
        self.users[email.lower()] = {
            "id": user_id,
            "team_id": "T0BLUEPRNT",
            "name": email.split("@")[0],
            "real_name": real_name,
            "deleted": False,
            "is_bot": False,
            "tz": "Europe/Paris",
            "profile": {"real_name": real_name, "display_name": real_name, "email": email},
        }

    def _auth(self, call: Call) -> Response | None:
        header = call.headers.get("authorization", "")
        if not header:
            return answer({"ok": False, "error": "not_authed"})
        if header != f"Bearer {SLACK_TOKEN}":
            return answer({"ok": False, "error": "invalid_auth"})
        return None

    def _post(self, call: Call, _m: re.Match[str]) -> Response:
        if refused := self._auth(call):
            return refused
        if not _is_json(call) or not isinstance(call.body, dict):
            return answer({"ok": False, "error": "invalid_form_data"})
        args = call.body
        problems = [f"unknown argument: {k}" for k in args if k not in self.POST_ARGS]
        problems += [
            f"invalid type for field {k}"
            for k, v in args.items()
            if k in self.POST_ARGS and not isinstance(v, self.POST_ARGS[k])
        ]
        if problems:
            return answer({"ok": False, "error": "invalid_arguments", "problems": problems})
        channel = self._channel(str(args.get("channel", "")))
        if channel is None:
            return answer({"ok": False, "error": "channel_not_found"})
        if not args.get("text") and not args.get("blocks") and not args.get("attachments"):
            return answer({"ok": False, "error": "no_text"})
        if problem := _blocks_problem(args.get("blocks")):
            return answer(
                {
                    "ok": False,
                    "error": "invalid_blocks",
                    "response_metadata": {"messages": [f"[ERROR] {problem}"]},
                }
            )
        thread = args.get("thread_ts")
        if thread is not None and not any(
            m["channel"] == channel and m["ts"] == thread for m in self.messages
        ):
            return answer({"ok": False, "error": "thread_not_found"})
        self._n += 1
        ts = f"{1718000000 + self._n}.{self._n:06d}"
        message = {
            "type": "message",
            "subtype": "bot_message",
            "text": args.get("text", ""),
            "ts": ts,
            "bot_id": "B0BLUEPRNT",
        }
        if args.get("blocks"):
            message["blocks"] = args["blocks"]
        if thread:
            message["thread_ts"] = thread
        self.messages.append({"channel": channel, **message})
        warning = {}
        if "charset=utf-8" not in call.headers.get("content-type", "").replace(" ", "").lower():
            warning = {"warning": "missing_charset"}
        return answer({"ok": True, "channel": channel, "ts": ts, "message": message, **warning})

    def _lookup(self, call: Call, _m: re.Match[str]) -> Response:
        if refused := self._auth(call):
            return refused
        email = (call.arg("email") or "").lower()
        user = self.users.get(email)
        if user is None:
            return answer({"ok": False, "error": "users_not_found"})
        return answer({"ok": True, "user": user})

    def _channel(self, value: str) -> str | None:
        if value in self.CHANNELS.values():
            return value
        return self.CHANNELS.get(value.lstrip("#"))

    def in_channel(self, name: str) -> list[dict[str, Any]]:
        """Messages posted to a channel (by name), with their full text (`all_text`)."""
        cid = self.CHANNELS[name.lstrip("#")]
        return [{**m, "all_text": message_text(m)} for m in self.messages if m["channel"] == cid]


def _blocks_problem(blocks: Any) -> str | None:
    """What Slack's Block Kit validation would reject (a few of its real limits)."""
    if blocks is None:
        return None
    if not isinstance(blocks, list) or len(blocks) > 50:
        return "no more than 50 items allowed [json-pointer:/blocks]"
    for i, block in enumerate(blocks):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            return f"missing required field: type [json-pointer:/blocks/{i}]"
        kind = block["type"]
        text = block.get("text")
        if kind == "header":
            if not isinstance(text, dict) or text.get("type") != "plain_text":
                return f"must be a plain_text object [json-pointer:/blocks/{i}/text]"
            if len(text.get("text") or "") > 150:
                return f"must be less than 151 characters [json-pointer:/blocks/{i}/text]"
        elif kind == "section":
            fields = block.get("fields")
            if text is None and not fields:
                return f"must provide text or fields [json-pointer:/blocks/{i}]"
            for obj in [text] if text is not None else []:
                if not isinstance(obj, dict) or obj.get("type") not in ("mrkdwn", "plain_text"):
                    return f"must be a text object [json-pointer:/blocks/{i}/text]"
                if not obj.get("text") or len(obj["text"]) > 3000:
                    return f"must be 1 to 3000 characters [json-pointer:/blocks/{i}/text]"
            if fields is not None and (not isinstance(fields, list) or len(fields) > 10):
                return f"no more than 10 items allowed [json-pointer:/blocks/{i}/fields]"
            for j, obj in enumerate(fields or []):
                if not isinstance(obj, dict) or not obj.get("text") or len(obj["text"]) > 2000:
                    return f"invalid text object [json-pointer:/blocks/{i}/fields/{j}]"
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                return f"must have 1 to 10 elements [json-pointer:/blocks/{i}/elements]"
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
                return f"must have 1 to 25 elements [json-pointer:/blocks/{i}/elements]"
        elif kind not in ("divider", "image", "rich_text", "input", "file", "video"):
            return f"unsupported block type {kind} [json-pointer:/blocks/{i}]"
    return None


def message_text(message: dict[str, Any]) -> str:
    """The text of a Slack message, its blocks' texts included."""
    parts = [str(message.get("text") or "")]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                parts.append(node["text"])
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks") or [])
    return "\n".join(parts)


# ================================================================== PagerDuty

_PD_EVENT_KEYS = {
    "routing_key",
    "event_action",
    "dedup_key",
    "payload",
    "links",
    "images",
    "client",
    "client_url",
}
_PD_PAYLOAD_KEYS = {
    "summary",
    "source",
    "severity",
    "timestamp",
    "component",
    "group",
    "class",
    "custom_details",
}


class PagerDutyFake:
    """PagerDuty Events API v2 (`/v2/enqueue`) and the REST API (on-calls, incidents, notes).

    A trigger event opens an incident (one per open dedup key, as PagerDuty
    de-duplicates) that the REST API then lists under `incident_key`.
    """

    EVENTS = "/pagerduty/events"
    API = "/pagerduty/api"

    def __init__(self, saas: SaaS) -> None:
        self.saas = saas
        self.events: list[dict[str, Any]] = []
        self.incidents: list[dict[str, Any]] = []
        self.notes: list[dict[str, Any]] = []
        self.oncalls: list[dict[str, Any]] = []
        saas.route("pagerduty", "POST", rf"{self.EVENTS}(/v2/enqueue)", self._enqueue)
        saas.route("pagerduty", "GET", rf"{self.API}(/oncalls)", self._oncalls)
        saas.route("pagerduty", "GET", rf"{self.API}(/incidents)", self._list_incidents)
        saas.route("pagerduty", "POST", rf"{self.API}(/incidents/([A-Z0-9]+)/notes)", self._note)

    def add_oncall(
        self, user_id: str, name: str, email: str, *, policy: str, level: int = 1
    ) -> None:
        self.oncalls.append(
            {
                "escalation_policy": {
                    "id": policy,
                    "type": "escalation_policy_reference",
                    "summary": "Checkout escalation",
                    "self": f"https://api.pagerduty.com/escalation_policies/{policy}",
                    "html_url": f"https://acme.pagerduty.com/escalation_policies/{policy}",
                },
                "escalation_level": level,
                "schedule": {
                    "id": "PSCHED1",
                    "type": "schedule_reference",
                    "summary": "Checkout primary",
                    "self": "https://api.pagerduty.com/schedules/PSCHED1",
                    "html_url": "https://acme.pagerduty.com/schedules/PSCHED1",
                },
                "user": {
                    "id": user_id,
                    "type": "user",
                    "summary": name,
                    "name": name,
                    "email": email,
                    "time_zone": "Europe/Paris",
                    "self": f"https://api.pagerduty.com/users/{user_id}",
                    "html_url": f"https://acme.pagerduty.com/users/{user_id}",
                },
                "start": "2024-06-10T07:00:00Z",
                "end": "2024-06-17T07:00:00Z",
            }
        )

    # Events API v2 -----------------------------------------------------------

    def _enqueue(self, call: Call, _m: re.Match[str]) -> Response:
        event = call.body
        if not _is_json(call) or not isinstance(event, dict):
            return answer(
                {
                    "status": "Unrecognized object",
                    "message": "Event object format is unrecognized",
                    "errors": ["JSON parse error"],
                },
                400,
            )
        problems = self._event_problems(event)
        if problems:
            return answer(
                {
                    "status": "invalid event",
                    "message": "Event object is invalid",
                    "errors": problems,
                },
                400,
            )
        self.events.append(event)
        key = event.get("dedup_key") or uuid.uuid4().hex
        open_ = [
            i for i in self.incidents if i["incident_key"] == key and i["status"] != "resolved"
        ]
        if event["event_action"] == "trigger" and not open_:
            number = len(self.incidents) + 1001
            incident_id = f"Q{number:05d}BLPRNT"
            self.incidents.append(
                {
                    "id": incident_id,
                    "type": "incident",
                    "incident_number": number,
                    "title": event["payload"]["summary"],
                    "status": "triggered",
                    "urgency": "high" if event["payload"]["severity"] == "critical" else "low",
                    "incident_key": key,
                    "created_at": _now(),
                    "html_url": f"https://acme.pagerduty.com/incidents/{incident_id}",
                    "self": f"https://api.pagerduty.com/incidents/{incident_id}",
                    "service": {"id": "PSVC001", "type": "service_reference"},
                }
            )
        for incident in open_:
            if event["event_action"] == "acknowledge":
                incident["status"] = "acknowledged"
            elif event["event_action"] == "resolve":
                incident["status"] = "resolved"
        return answer({"status": "success", "message": "Event processed", "dedup_key": key}, 202)

    @staticmethod
    def _event_problems(event: dict[str, Any]) -> list[str]:
        problems = [f"unknown field {k!r}" for k in event if k not in _PD_EVENT_KEYS]
        if event.get("routing_key") != PD_ROUTING_KEY:
            problems.append("Invalid routing key")
        action = event.get("event_action")
        if action not in ("trigger", "acknowledge", "resolve"):
            problems.append("'event_action' is invalid")
        dedup = event.get("dedup_key")
        if dedup is not None and (not isinstance(dedup, str) or not 0 < len(dedup) <= 255):
            problems.append("'dedup_key' must be a string of 1 to 255 characters")
        if action in ("acknowledge", "resolve") and not dedup:
            problems.append("'dedup_key' is missing or blank")
        if action == "trigger":
            payload = event.get("payload")
            if not isinstance(payload, dict):
                return [*problems, "'payload' is missing or not an object"]
            problems += [
                f"unknown payload field {k!r}" for k in payload if k not in _PD_PAYLOAD_KEYS
            ]
            summary = payload.get("summary")
            if not isinstance(summary, str) or not 0 < len(summary) <= 1024:
                problems.append("'payload.summary' must be a string of 1 to 1024 characters")
            if not isinstance(payload.get("source"), str) or not payload["source"]:
                problems.append("'payload.source' is missing or blank")
            if payload.get("severity") not in ("critical", "error", "warning", "info"):
                problems.append("'payload.severity' is invalid")
            if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
                problems.append("'payload.custom_details' must be an object")
            for key, required in (("links", "href"), ("images", "src")):
                items = event.get(key, [])
                if not isinstance(items, list) or not all(
                    isinstance(i, dict) and isinstance(i.get(required), str) for i in items
                ):
                    problems.append(f"'{key}' must be a list of objects with '{required}'")
        return problems

    # REST API ----------------------------------------------------------------

    @staticmethod
    def _refused(call: Call) -> Response | None:
        if call.headers.get("authorization") != f"Token token={PD_API_TOKEN}":
            return answer({"error": {"message": "Unauthorized", "code": 2006}}, 401)
        accept = call.headers.get("accept", "")
        if "application/json" not in accept and "application/vnd.pagerduty+json" not in accept:
            return answer({"error": {"message": "Not Acceptable", "code": 2001}}, 406)
        return None

    def _oncalls(self, call: Call, _m: re.Match[str]) -> Response:
        if refused := self._refused(call):
            return refused
        allowed = {
            "include[]",
            "escalation_policy_ids[]",
            "schedule_ids[]",
            "user_ids[]",
            "since",
            "until",
            "earliest",
            "time_zone",
            "offset",
            "limit",
            "total",
        }
        if unknown := set(call.query) - allowed:
            return answer({"error": {"message": f"Invalid Input Provided: {unknown}"}}, 400)
        entries = self.oncalls
        if policies := call.query.get("escalation_policy_ids[]"):
            entries = [e for e in entries if e["escalation_policy"]["id"] in policies]
        if call.arg("earliest") == "true":
            seen: set[tuple[str, int]] = set()
            kept = []
            for e in entries:
                key = (e["escalation_policy"]["id"], e["escalation_level"])
                if key not in seen:
                    seen.add(key)
                    kept.append(e)
            entries = kept
        full = "users" in call.query.get("include[]", [])
        page = [
            e
            if full
            else {**e, "user": {k: e["user"][k] for k in ("id", "type", "summary", "self")}}
            for e in entries
        ]
        limit = int(call.arg("limit") or 25)
        offset = int(call.arg("offset") or 0)
        return answer(
            {
                "oncalls": page[offset : offset + limit],
                "limit": limit,
                "offset": offset,
                "more": False,
                "total": None,
            }
        )

    def _list_incidents(self, call: Call, _m: re.Match[str]) -> Response:
        if refused := self._refused(call):
            return refused
        found = self.incidents
        if key := call.arg("incident_key"):
            found = [i for i in found if i["incident_key"] == key]
        return answer({"incidents": found, "limit": 25, "offset": 0, "more": False, "total": None})

    def _note(self, call: Call, match: re.Match[str]) -> Response:
        if refused := self._refused(call):
            return refused
        if "@" not in call.headers.get("from", ""):
            return answer({"error": {"message": "A valid From header is required"}}, 400)
        incident_id = match.group(2)
        if not any(i["id"] == incident_id for i in self.incidents):
            return answer({"error": {"message": "Incident Not Found", "code": 2100}}, 404)
        body = call.body
        note = body.get("note") if isinstance(body, dict) else None
        if not isinstance(note, dict) or not isinstance(note.get("content"), str):
            return answer({"error": {"message": "note.content is required"}}, 400)
        self.notes.append(
            {"incident": incident_id, "from": call.headers["from"], "content": note["content"]}
        )
        return answer(
            {
                "note": {
                    "id": f"PNOTE{len(self.notes):03d}",
                    "user": {"id": "PBOT001", "type": "user_reference", "summary": "Switchyard"},
                    "content": note["content"],
                    "created_at": _now(),
                }
            },
            201,
        )


# ================================================================== Jira


def adf_problem(doc: Any) -> str | None:
    """Why Jira Cloud (REST v3) would refuse `doc` as rich text; None when it takes it."""
    if not isinstance(doc, dict) or doc.get("type") != "doc" or doc.get("version") != 1:
        return "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
    if not isinstance(doc.get("content"), list):
        return "INVALID_INPUT"
    inline = {"text", "hardBreak", "mention", "emoji", "inlineCard", "status", "date"}
    for block in doc["content"]:
        if not isinstance(block, dict) or block.get("type") in inline:
            return "INVALID_INPUT: inline node at the top level"
        stack = [block]
        while stack:
            node = stack.pop()
            if node.get("type") == "text":
                if not isinstance(node.get("text"), str) or not node["text"]:
                    return "INVALID_INPUT: text nodes need non-empty text"
                for mark in node.get("marks", []):
                    if mark.get("type") == "link" and not str(
                        (mark.get("attrs") or {}).get("href", "")
                    ).startswith(("http://", "https://", "mailto:")):
                        return "INVALID_INPUT: a link mark needs an href"
            stack.extend(c for c in node.get("content", []) if isinstance(c, dict))
    return None


def adf_text(node: Any) -> str:
    """The text of an ADF document, with link targets shown as `text <href>`."""
    if not isinstance(node, dict):
        return ""
    if node.get("type") == "text":
        text = str(node.get("text", ""))
        for mark in node.get("marks", []):
            if mark.get("type") == "link":
                text += f" <{mark['attrs']['href']}>"
        return text
    if node.get("type") == "hardBreak":
        return "\n"
    sep = "\n" if node.get("type") in ("doc", "bulletList", "orderedList") else ""
    return sep.join(adf_text(c) for c in node.get("content", []))


@dataclass
class JiraIssue:
    id: str
    key: str
    fields: dict[str, Any]
    status: str = "To Do"
    updated: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    comments: list[dict[str, Any]] = field(default_factory=list)
    transitions: list[str] = field(default_factory=list)


class JiraFake:
    """Jira Cloud REST v3: create issues, comment, transition, enhanced JQL search.

    Basic auth `email:api_token`; rich text only as ADF documents; Jira's 400
    `{"errorMessages": [...], "errors": {field: message}}`. The JQL search
    understands `project = X`, `status = "Y"`, `updated < -Nd` joined by AND,
    and refuses unbounded queries (no project), as Jira does for this API.
    """

    PREFIX = "/jira"
    PROJECTS = {
        "OPS": {"id": "10001", "types": {"Task": "10002", "Bug": "10004", "Incident": "10010"}}
    }
    PRIORITIES = {"1": "Highest", "2": "High", "3": "Medium", "4": "Low", "5": "Lowest"}
    WORKFLOW = {
        "To Do": [("11", "Start Progress", "In Progress"), ("31", "Done", "Done")],
        "In Progress": [("21", "Back to To Do", "To Do"), ("31", "Done", "Done")],
        "Done": [("41", "Reopen", "To Do")],
    }

    def __init__(self, saas: SaaS) -> None:
        self.saas = saas
        self.issues: dict[str, JiraIssue] = {}
        #: Issues the connection's user may see but not edit (403 on comment/transition).
        self.locked: set[str] = set()
        self._next = 10100
        api = rf"{self.PREFIX}(/rest/api/3"
        saas.route("jira", "POST", rf"{api}/issue)", self._create)
        saas.route("jira", "POST", rf"{api}/search/jql)", self._search)
        saas.route("jira", "POST", rf"{api}/issue/([A-Z]+-\d+)/comment)", self._comment)
        saas.route("jira", "GET", rf"{api}/issue/([A-Z]+-\d+)/transitions)", self._transitions)
        saas.route("jira", "POST", rf"{api}/issue/([A-Z]+-\d+)/transitions)", self._transition)

    @property
    def base_url(self) -> str:
        return self.saas.url(self.PREFIX)

    def add_issue(
        self, summary: str, *, status: str, updated_days_ago: int, assignee: str | None = None
    ) -> JiraIssue:
        self._next += 1
        key = f"OPS-{len(self.issues) + 1}"
        fields: dict[str, Any] = {
            "summary": summary,
            "issuetype": {"name": "Task"},
            "project": {"key": "OPS"},
            "assignee": (
                {"accountId": f"acc-{assignee}", "displayName": assignee.title()}
                if assignee
                else None
            ),
        }
        issue = JiraIssue(
            str(self._next),
            key,
            fields,
            status=status,
            updated=dt.datetime.now(dt.UTC) - dt.timedelta(days=updated_days_ago),
        )
        self.issues[key] = issue
        return issue

    def _refused(self, call: Call) -> Response | None:
        token = base64.b64encode(f"{JIRA_EMAIL}:{JIRA_API_TOKEN}".encode()).decode()
        if call.headers.get("authorization") != f"Basic {token}":
            return answer(
                {"errorMessages": ["You are not authenticated. Authentication required."]}, 401
            )
        if call.raw and call.content_type != "application/json":
            return answer({"errorMessages": ["Unsupported Media Type"]}, 415)
        return None

    @staticmethod
    def _bad(messages: list[str] | None = None, errors: dict[str, str] | None = None) -> Response:
        return answer({"errorMessages": messages or [], "errors": errors or {}}, 400)

    def _issue(self, key: str) -> JiraIssue | None:
        return self.issues.get(key)

    def _status(self, name: str) -> dict[str, Any]:
        return {"name": name, "id": {"To Do": "10000", "In Progress": "3", "Done": "10001"}[name]}

    def _create(self, call: Call, _m: re.Match[str]) -> Response:
        if refused := self._refused(call):
            return refused
        body = call.body
        if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
            return self._bad(["Issue must have 'fields'"])
        fields = body["fields"]
        errors: dict[str, str] = {}
        project = self.PROJECTS.get((fields.get("project") or {}).get("key", ""))
        if project is None:
            errors["project"] = "valid project is required"
        itype = fields.get("issuetype") or {}
        if project is not None and itype.get("name") not in project["types"]:
            errors["issuetype"] = "Specify a valid issue type"
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip() or len(summary) > 255:
            errors["summary"] = "You must specify a summary of the issue."
        if "description" in fields and (problem := adf_problem(fields["description"])):
            errors["description"] = problem
        for label in fields.get("labels", []):
            if not isinstance(label, str) or re.search(r"\s", label):
                errors["labels"] = f"The label '{label}' contains spaces which is invalid."
        if "priority" in fields and (fields["priority"] or {}).get("name") not in (
            self.PRIORITIES.values()
        ):
            errors["priority"] = "The priority selected is invalid."
        known = {"project", "issuetype", "summary", "description", "labels", "priority"}
        for name in fields:
            if name not in known | {"assignee", "components"} and not name.startswith(
                "customfield_"
            ):
                errors[name] = f"Field '{name}' cannot be set. It is not on the appropriate screen."
        if errors:
            return self._bad(errors=errors)
        self._next += 1
        key = f"OPS-{len(self.issues) + 1}"
        self.issues[key] = JiraIssue(str(self._next), key, dict(fields))
        return answer(
            {
                "id": str(self._next),
                "key": key,
                "self": f"{self.base_url}/rest/api/3/issue/{self._next}",
            },
            201,
        )

    def _comment(self, call: Call, match: re.Match[str]) -> Response:
        if refused := self._refused(call):
            return refused
        issue = self._issue(match.group(2))
        if issue is None:
            return answer({"errorMessages": ["Issue does not exist"], "errors": {}}, 404)
        if issue.key in self.locked:
            return answer(
                {"errorMessages": ["You do not have permission to comment on this issue."]}, 403
            )
        body = call.body
        if not isinstance(body, dict) or adf_problem(body.get("body")):
            return self._bad(errors={"comment": "Comment body can not be empty!"})
        self._next += 1
        comment = {
            "self": f"{self.base_url}/rest/api/3/issue/{issue.id}/comment/{self._next}",
            "id": str(self._next),
            "author": {"accountId": "acc-switchyard", "displayName": "Switchyard"},
            "body": body["body"],
            "created": "2024-06-10T09:00:00.000+0000",
            "updated": "2024-06-10T09:00:00.000+0000",
        }
        issue.comments.append(comment)
        issue.updated = dt.datetime.now(dt.UTC)
        return answer(comment, 201)

    def _transitions(self, call: Call, match: re.Match[str]) -> Response:
        if refused := self._refused(call):
            return refused
        issue = self._issue(match.group(2))
        if issue is None:
            return answer({"errorMessages": ["Issue does not exist"], "errors": {}}, 404)
        return answer(
            {
                "expand": "transitions",
                "transitions": [
                    {"id": tid, "name": name, "to": self._status(target), "isAvailable": True}
                    for tid, name, target in self.WORKFLOW[issue.status]
                ],
            }
        )

    def _transition(self, call: Call, match: re.Match[str]) -> Response:
        if refused := self._refused(call):
            return refused
        issue = self._issue(match.group(2))
        if issue is None:
            return answer({"errorMessages": ["Issue does not exist"], "errors": {}}, 404)
        body = call.body if isinstance(call.body, dict) else {}
        tid = (body.get("transition") or {}).get("id")
        chosen = [t for t in self.WORKFLOW[issue.status] if t[0] == tid]
        if not chosen:
            return self._bad([f"Transition id '{tid}' is not valid for this issue."])
        for op in (body.get("update") or {}).get("comment", []):
            if problem := adf_problem(op.get("add", {}).get("body")):
                return self._bad(errors={"comment": problem})
            issue.comments.append({"body": op["add"]["body"]})
        issue.status = chosen[0][2]
        issue.transitions.append(chosen[0][1])
        issue.updated = dt.datetime.now(dt.UTC)
        return Response(b"", 204)

    def _search(self, call: Call, _m: re.Match[str]) -> Response:
        if refused := self._refused(call):
            return refused
        body = call.body
        allowed = {"jql", "nextPageToken", "maxResults", "fields", "expand", "properties"}
        if (
            not isinstance(body, dict)
            or set(body) - allowed
            or not isinstance(body.get("jql"), str)
        ):
            return self._bad(["Invalid request payload. Refer to the REST API documentation."])
        try:
            matches = _jql(body["jql"])
        except ValueError as exc:
            return self._bad([str(exc)])
        found = [i for i in self.issues.values() if matches(i)]
        found.sort(key=lambda i: i.updated)
        size = min(int(body.get("maxResults", 50)), 100)
        wanted = body.get("fields") or ["id"]
        items = []
        for issue in found[:size]:
            all_fields = {
                **issue.fields,
                "status": self._status(issue.status),
                "updated": issue.updated.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            }
            items.append(
                {
                    "id": issue.id,
                    "key": issue.key,
                    "self": f"{self.base_url}/rest/api/3/issue/{issue.id}",
                    "fields": {k: v for k, v in all_fields.items() if k in wanted},
                }
            )
        return answer({"issues": items, "isLast": len(found) <= size})


def _jql(query: str) -> Callable[[JiraIssue], bool]:
    """A matcher for the small JQL subset the blueprints use."""
    text = re.split(r"\s+ORDER\s+BY\s+", query.strip(), flags=re.IGNORECASE)[0]
    tests: list[Callable[[JiraIssue], bool]] = []
    project = None
    for clause in re.split(r"\s+AND\s+", text, flags=re.IGNORECASE):
        clause = clause.strip()
        if m := re.fullmatch(r"project\s*=\s*\"?(\w+)\"?", clause, re.IGNORECASE):
            project = m.group(1).upper()
            tests.append(lambda i, p=project: i.key.startswith(p + "-"))
        elif m := re.fullmatch(r"status\s*=\s*\"([^\"]+)\"", clause, re.IGNORECASE):
            status = m.group(1).lower()
            tests.append(lambda i, s=status: i.status.lower() == s)
        elif m := re.fullmatch(r"updated\s*<\s*-(\d+)d", clause, re.IGNORECASE):
            cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=int(m.group(1)))
            tests.append(lambda i, c=cutoff: i.updated < c)
        else:
            raise ValueError(f"Error in the JQL Query: unsupported clause '{clause}'")
    if project is None:
        raise ValueError("Unbounded JQL queries are not allowed here. Add a search restriction.")
    return lambda issue: all(t(issue) for t in tests)


# ================================================================== GitHub


class GitHubFake:
    """GitHub REST: labels, comments, workflow dispatch and workflow runs.

    Checks the headers GitHub documents (bearer token, `application/vnd.github+json`,
    `X-GitHub-Api-Version`, a User-Agent, which GitHub requires); dispatch inputs
    must be declared by the workflow (422 otherwise), as on GitHub.
    """

    PREFIX = "/github/api"

    def __init__(self, saas: SaaS) -> None:
        self.saas = saas
        self.labels: dict[tuple[str, int], list[str]] = {}
        self.comments: list[dict[str, Any]] = []
        self.dispatches: list[dict[str, Any]] = []
        #: (repo, workflow file) -> declared inputs
        self.workflows: dict[tuple[str, str], set[str]] = {}
        #: run id -> the statuses its successive GETs return (the last one repeats)
        self.runs: dict[int, dict[str, Any]] = {}
        self.run_script: list[tuple[str, str | None]] = [
            ("queued", None),
            ("in_progress", None),
            ("completed", "success"),
        ]
        repo = r"/repos/([\w.-]+/[\w.-]+)"
        saas.route("github", "POST", rf"{self.PREFIX}({repo}/issues/(\d+)/labels)", self._labels)
        saas.route("github", "POST", rf"{self.PREFIX}({repo}/issues/(\d+)/comments)", self._comment)
        saas.route(
            "github",
            "POST",
            rf"{self.PREFIX}({repo}/actions/workflows/([\w.-]+)/dispatches)",
            self._dispatch,
        )
        saas.route("github", "GET", rf"{self.PREFIX}({repo}/actions/runs/(\d+))", self._run)

    @property
    def base_url(self) -> str:
        return self.saas.url(self.PREFIX)

    def _refused(self, call: Call) -> Response | None:
        if not call.headers.get("user-agent"):
            return answer({"message": "Request forbidden by administrative rules."}, 403)
        if call.headers.get("authorization") != f"Bearer {GITHUB_TOKEN}":
            return answer(
                {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"},
                401,
            )
        if call.headers.get("accept") != "application/vnd.github+json":
            return answer({"message": "Unsupported 'Accept' header"}, 415)
        if call.headers.get("x-github-api-version") not in ("2022-11-28", "2026-03-10"):
            return answer({"message": "Invalid API version"}, 400)
        return None

    def _labels(self, call: Call, match: re.Match[str]) -> Response:
        if refused := self._refused(call):
            return refused
        repo, number = match.group(2), int(match.group(3))
        body = call.body
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("labels"), list)
            or not all(isinstance(x, str) and x for x in body["labels"])
        ):
            return answer({"message": "Invalid request.", "status": "422"}, 422)
        have = self.labels.setdefault((repo, number), [])
        have += [label for label in body["labels"] if label not in have]
        return answer(
            [
                {
                    "id": 208045946 + i,
                    "node_id": f"MDU6TGFiZWwy{i}",
                    "url": f"https://api.github.com/repos/{repo}/labels/{name}",
                    "name": name,
                    "color": "f29513",
                    "default": False,
                    "description": None,
                }
                for i, name in enumerate(have)
            ]
        )

    def _comment(self, call: Call, match: re.Match[str]) -> Response:
        if refused := self._refused(call):
            return refused
        repo, number = match.group(2), int(match.group(3))
        body = call.body
        if not isinstance(body, dict) or not isinstance(body.get("body"), str) or not body["body"]:
            return answer({"message": 'Invalid request.\n\n"body" wasn\'t supplied.'}, 422)
        comment_id = 1_000_000 + len(self.comments)
        comment = {
            "id": comment_id,
            "node_id": "MDEyOklzc3VlQ29tbWVudDE=",
            "url": f"https://api.github.com/repos/{repo}/issues/comments/{comment_id}",
            "html_url": f"https://github.com/{repo}/issues/{number}#issuecomment-{comment_id}",
            "body": body["body"],
            "user": {"login": "switchyard[bot]", "type": "Bot"},
            "created_at": _now(),
            "updated_at": _now(),
        }
        self.comments.append({"repo": repo, "issue": number, **comment})
        return answer(comment, 201)

    def _dispatch(self, call: Call, match: re.Match[str]) -> Response:
        if refused := self._refused(call):
            return refused
        repo, workflow = match.group(2), match.group(3)
        declared = self.workflows.get((repo, workflow))
        if declared is None:
            return answer({"message": "Not Found"}, 404)
        body = call.body
        if not isinstance(body, dict) or not isinstance(body.get("ref"), str):
            return answer({"message": 'Invalid request.\n\n"ref" wasn\'t supplied.'}, 422)
        inputs = body.get("inputs", {})
        if not isinstance(inputs, dict) or not all(isinstance(v, str) for v in inputs.values()):
            return answer({"message": "Invalid request. inputs must be strings"}, 422)
        if unexpected := set(inputs) - declared:
            return answer({"message": f"Unexpected inputs provided: {sorted(unexpected)}"}, 422)
        run_id = 9_000_000_000 + len(self.dispatches)
        self.dispatches.append({"repo": repo, "workflow": workflow, **body, "run_id": run_id})
        self.runs[run_id] = {"repo": repo, "workflow": workflow, "polls": 0, "ref": body["ref"]}
        if body.get("return_run_details"):
            return answer(
                {
                    "workflow_run_id": run_id,
                    "run_url": f"https://api.github.com/repos/{repo}/actions/runs/{run_id}",
                    "html_url": f"https://github.com/{repo}/actions/runs/{run_id}",
                },
                200,
            )
        return Response(b"", 204)

    def _run(self, call: Call, match: re.Match[str]) -> Response:
        if refused := self._refused(call):
            return refused
        repo, run_id = match.group(2), int(match.group(3))
        run = self.runs.get(run_id)
        if run is None or run["repo"] != repo:
            return answer({"message": "Not Found"}, 404)
        status, conclusion = self.run_script[min(run["polls"], len(self.run_script) - 1)]
        run["polls"] += 1
        return answer(
            {
                "id": run_id,
                "name": "Rollback",
                "head_branch": run["ref"],
                "path": f".github/workflows/{run['workflow']}",
                "event": "workflow_dispatch",
                "status": status,
                "conclusion": conclusion,
                "html_url": f"https://github.com/{repo}/actions/runs/{run_id}",
                "run_attempt": 1,
                "created_at": _now(),
                "updated_at": _now(),
            }
        )


# ================================================================== OpenAI

_OPENAI_FIELDS = {
    "model",
    "messages",
    "temperature",
    "max_tokens",
    "max_completion_tokens",
    "top_p",
    "stop",
    "seed",
    "response_format",
    "tools",
    "tool_choice",
    "n",
    "user",
    "store",
    "metadata",
}


class OpenAIFake:
    """OpenAI Chat Completions (`POST /v1/chat/completions`).

    Checks the bearer key and the body like OpenAI (unknown parameters, roles,
    ranges, and for `json_schema` response formats a valid strict schema:
    every property required, `additionalProperties: false`). The answer's
    content is `respond(body)` as JSON, checked against the requested schema.
    """

    PREFIX = "/openai/v1"

    def __init__(self, saas: SaaS) -> None:
        self.saas = saas
        self.requests: list[dict[str, Any]] = []
        self.respond: Callable[[dict[str, Any]], Any] = lambda body: {}
        #: When set, every completion fails with this HTTP status (an outage).
        self.outage: int | None = None
        saas.route("openai", "POST", rf"{self.PREFIX}(/chat/completions)", self._complete)

    @property
    def base_url(self) -> str:
        return self.saas.url(self.PREFIX)

    @staticmethod
    def _error(
        message: str, param: str | None, status: int = 400, code: str | None = None
    ) -> Response:
        return answer(
            {
                "error": {
                    "message": message,
                    "type": "invalid_request_error",
                    "param": param,
                    "code": code,
                }
            },
            status,
        )

    def _complete(self, call: Call, _m: re.Match[str]) -> Response:
        if call.headers.get("authorization") != f"Bearer {OPENAI_KEY}":
            return self._error("Incorrect API key provided", None, 401, "invalid_api_key")
        body = call.body
        if not _is_json(call) or not isinstance(body, dict):
            return self._error("We could not parse the JSON body of your request.", None)
        if unknown := set(body) - _OPENAI_FIELDS:
            return self._error(f"Unrecognized request argument supplied: {unknown}", None)
        if not isinstance(body.get("model"), str):
            return self._error("you must provide a model parameter", "model")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return self._error("'messages' must contain at least one message", "messages")
        for i, msg in enumerate(messages):
            if msg.get("role") not in ("system", "developer", "user", "assistant", "tool"):
                return self._error(f"Invalid value for 'role' at messages[{i}]", "messages")
        temperature = body.get("temperature", 1)
        if not isinstance(temperature, int | float) or not 0 <= temperature <= 2:
            return self._error("temperature must be between 0 and 2", "temperature")
        schema = None
        fmt = body.get("response_format")
        if fmt is not None:
            if fmt.get("type") == "json_schema":
                spec = fmt.get("json_schema") or {}
                schema = spec.get("schema")
                if not isinstance(spec.get("name"), str) or not isinstance(schema, dict):
                    return self._error("json_schema needs a name and a schema", "response_format")
                if spec.get("strict") and (problem := _strict_problem(schema)):
                    return self._error(
                        f"Invalid schema for response_format '{spec['name']}': {problem}",
                        "response_format",
                    )
            elif fmt.get("type") not in ("text", "json_object"):
                return self._error("Invalid response_format type", "response_format")
        self.requests.append(body)
        if self.outage is not None:
            return answer(
                {
                    "error": {
                        "message": "The server had an error while processing your request.",
                        "type": "server_error",
                        "param": None,
                        "code": None,
                    }
                },
                self.outage,
            )
        content = self.respond(body)
        if schema is not None:
            jsonschema.validate(content, schema)  # the fake's own answer obeys the schema
        return answer(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": 1718000000,
                "model": f"{body['model']}-2024-08-06",
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": json.dumps(content),
                            "refusal": None,
                        },
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 412, "completion_tokens": 64, "total_tokens": 476},
                "system_fingerprint": "fp_blueprint",
            }
        )


def _strict_problem(schema: dict[str, Any], where: str = "") -> str | None:
    """What OpenAI's structured outputs refuse in a strict schema (the main rules)."""
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        if schema.get("additionalProperties") is not False:
            return f"'additionalProperties' is required to be supplied and to be false{where}"
        if sorted(schema.get("required") or []) != sorted(props):
            return f"'required' is required to include every key in properties{where}"
        for name, sub in props.items():
            if problem := _strict_problem(sub, f" (in {where or 'root'}.{name})"):
                return problem
    if kind == "array" and isinstance(schema.get("items"), dict):
        return _strict_problem(schema["items"], where)
    return None


# ================================================================== Datadog


class DatadogFake:
    """Datadog API v2 downtimes (mute = create a downtime, unmute = cancel it).

    DD-API-KEY and DD-APPLICATION-KEY are required (403 `{"errors": ["Forbidden"]}`);
    the JSON:API body is checked; the monitor must exist (400 otherwise).
    """

    PREFIX = "/datadog"

    def __init__(self, saas: SaaS) -> None:
        self.saas = saas
        self.monitors: set[int] = set()
        self.downtimes: dict[str, dict[str, Any]] = {}
        saas.route("datadog", "POST", rf"{self.PREFIX}(/api/v2/downtime)", self._create)
        saas.route(
            "datadog", "DELETE", rf"{self.PREFIX}(/api/v2/downtime/([0-9a-f-]{{36}}))", self._cancel
        )

    @property
    def base_url(self) -> str:
        return self.saas.url(self.PREFIX)

    @staticmethod
    def _refused(call: Call) -> Response | None:
        if call.headers.get("dd-api-key") != DD_API_KEY:
            return answer({"errors": ["Forbidden"]}, 403)
        if call.headers.get("dd-application-key") != DD_APP_KEY:
            return answer({"errors": ["Forbidden"]}, 403)
        return None

    def _create(self, call: Call, _m: re.Match[str]) -> Response:
        if refused := self._refused(call):
            return refused
        data = call.body.get("data") if isinstance(call.body, dict) else None
        if not isinstance(data, dict) or data.get("type") != "downtime":
            return answer(
                {"errors": ["invalid JSON:API document: data.type must be downtime"]}, 400
            )
        attrs = data.get("attributes") or {}
        ident = attrs.get("monitor_identifier") or {}
        if not isinstance(attrs.get("scope"), str) or not attrs["scope"]:
            return answer({"errors": ["attributes.scope is required"]}, 400)
        monitor = ident.get("monitor_id")
        if not isinstance(monitor, int):
            return answer({"errors": ["monitor_identifier.monitor_id must be an integer"]}, 400)
        if monitor not in self.monitors:
            return answer({"errors": [f"Monitor {monitor} not found"]}, 400)
        schedule = attrs.get("schedule") or {}
        for key in ("start", "end"):
            value = schedule.get(key)
            if value is not None:
                parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
                if parsed.utcoffset() != dt.timedelta(0):
                    return answer({"errors": [f"schedule.{key} must be in UTC"]}, 400)
        downtime_id = str(uuid.uuid4())
        resource = {
            "type": "downtime",
            "id": downtime_id,
            "attributes": {
                "scope": attrs["scope"],
                "monitor_identifier": {"monitor_id": monitor},
                "message": attrs.get("message"),
                "schedule": {"start": schedule.get("start") or _now(), "end": schedule.get("end")},
                "status": "active",
                "canceled": None,
                "created": _now(),
            },
        }
        self.downtimes[downtime_id] = resource
        return answer({"data": resource})

    def _cancel(self, call: Call, match: re.Match[str]) -> Response:
        if refused := self._refused(call):
            return refused
        resource = self.downtimes.get(match.group(2))
        if resource is None or resource["attributes"]["canceled"]:
            return answer({"errors": [f"Downtime {match.group(2)} not found"]}, 404)
        resource["attributes"]["canceled"] = _now()
        resource["attributes"]["status"] = "canceled"
        return Response(b"", 204)

    def active(self) -> list[dict[str, Any]]:
        return [d for d in self.downtimes.values() if d["attributes"]["status"] == "active"]


# ================================================================== GitLab


class GitLabFake:
    """GitLab REST v4: create a pipeline (`POST /projects/:id/pipeline`) and read it.

    `PRIVATE-TOKEN` is required; the project id must be a number or a
    URL-encoded path (`group%2Fproject`), as GitLab requires; the ref must exist.
    Successive reads of a pipeline follow `pipeline_script` (the last status repeats).
    """

    PREFIX = "/gitlab/api/v4"

    def __init__(self, saas: SaaS) -> None:
        self.saas = saas
        self.projects = {"platform%2Fcheckout": 4821, "4821": 4821}
        self.refs = {"main", "v2.14.0", "v2.15.0"}
        self.pipelines: dict[int, dict[str, Any]] = {}
        self.pipeline_script = ["running", "success"]
        project = r"/projects/([\w.%-]+)"
        saas.route("gitlab", "POST", rf"{self.PREFIX}({project}/pipeline)", self._create)
        saas.route("gitlab", "GET", rf"{self.PREFIX}({project}/pipelines/(\d+))", self._get)

    @property
    def base_url(self) -> str:
        return self.saas.url(self.PREFIX)

    def _project(self, call: Call, ref: str) -> int | Response:
        if call.headers.get("private-token") != GITLAB_TOKEN:
            return answer({"message": "401 Unauthorized"}, 401)
        project = self.projects.get(ref)
        if project is None:
            return answer({"message": "404 Project Not Found"}, 404)
        return project

    def _create(self, call: Call, match: re.Match[str]) -> Response:
        project = self._project(call, match.group(2))
        if isinstance(project, Response):
            return project
        body = call.body if isinstance(call.body, dict) else {}
        if not isinstance(body.get("ref"), str):
            return answer({"error": "ref is missing"}, 400)
        if body["ref"] not in self.refs:
            return answer({"message": {"base": ["Reference not found"]}}, 400)
        variables = body.get("variables", [])
        if not isinstance(variables, list) or not all(
            isinstance(v, dict)
            and isinstance(v.get("key"), str)
            and isinstance(v.get("value"), str)
            for v in variables
        ):
            return answer({"error": "variables is invalid"}, 400)
        pid = 1_200_000 + len(self.pipelines)
        self.pipelines[pid] = {
            "id": pid,
            "iid": 300 + len(self.pipelines),
            "project_id": project,
            "sha": "a91957a858320c0e17f3a0eca7cfacbff50ea29a",
            "ref": body["ref"],
            "status": "created",
            "source": "api",
            "created_at": _now(),
            "updated_at": _now(),
            "web_url": f"https://gitlab.example.com/platform/checkout/-/pipelines/{pid}",
            "variables": {v["key"]: v["value"] for v in variables},
            "reads": 0,
        }
        return answer(self._shown(self.pipelines[pid]), 201)

    def _get(self, call: Call, match: re.Match[str]) -> Response:
        project = self._project(call, match.group(2))
        if isinstance(project, Response):
            return project
        pipeline = self.pipelines.get(int(match.group(3)))
        if pipeline is None or pipeline["project_id"] != project:
            return answer({"message": "404 Not found"}, 404)
        pipeline["status"] = self.pipeline_script[
            min(pipeline["reads"], len(self.pipeline_script) - 1)
        ]
        pipeline["reads"] += 1
        return answer(self._shown(pipeline))

    @staticmethod
    def _shown(pipeline: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in pipeline.items() if k not in ("variables", "reads")}


# ================================================================== Azure

ARM_VM = "Microsoft.Compute/virtualMachines"


class AzureFake:
    """Entra ID client-credentials tokens and the ARM endpoints the VM blueprint uses.

    ARM needs a bearer token the token endpoint issued and an `api-version`
    (400 `MissingApiVersionParameter`); a VM restart answers 202 with an
    `Azure-AsyncOperation` URL whose status goes InProgress -> Succeeded (or
    Failed, for the VMs in `failing_restarts`).
    """

    LOGIN = "/azure/login"
    ARM = "/azure/arm"

    def __init__(self, saas: SaaS) -> None:
        self.saas = saas
        self.tokens: set[str] = set()
        #: name -> {resource_group, location, tags, power, health}
        self.vms: dict[str, dict[str, Any]] = {}
        self.failing_restarts: set[str] = set()
        self.restarts: list[str] = []
        self.operations: dict[str, dict[str, Any]] = {}
        sub = r"/subscriptions/([0-9a-f-]{36})"
        vm = rf"{sub}/resourceGroups/([\w.()-]+)/providers/{re.escape(ARM_VM)}/([\w.-]+)"
        saas.route("azure", "POST", rf"{self.LOGIN}(/([\w.-]+)/oauth2/v2\.0/token)", self._token)
        saas.route("azure", "GET", rf"{self.ARM}({sub}/resources)", self._resources)
        saas.route("azure", "GET", rf"{self.ARM}({vm}/instanceView)", self._instance_view)
        saas.route("azure", "POST", rf"{self.ARM}({vm}/restart)", self._restart)
        saas.route(
            "azure",
            "GET",
            rf"{self.ARM}({sub}/providers/Microsoft\.Compute/locations/(\w+)/operations/([\w-]+))",
            self._operation,
        )

    @property
    def arm_url(self) -> str:
        return self.saas.url(self.ARM)

    @property
    def authority_url(self) -> str:
        return self.saas.url(self.LOGIN)

    def add_vm(
        self,
        name: str,
        *,
        group: str = "prod-web-rg",
        tags: dict[str, str] | None = None,
        power: str = "running",
        health: str = "healthy",
    ) -> None:
        self.vms[name] = {
            "resource_group": group,
            "location": "westeurope",
            "tags": tags or {},
            "power": power,
            "health": health,
        }

    def vm_id(self, name: str) -> str:
        group = self.vms[name]["resource_group"]
        return (
            f"/subscriptions/{AZURE_SUBSCRIPTION}/resourceGroups/{group}/providers/{ARM_VM}/{name}"
        )

    def _token(self, call: Call, match: re.Match[str]) -> Response:
        form = call.body if isinstance(call.body, dict) else {}

        def one(name: str) -> str | None:
            values = form.get(name) or [None]
            return values[0]

        if call.content_type != "application/x-www-form-urlencoded":
            return answer({"error": "invalid_request", "error_description": "AADSTS900144"}, 400)
        if match.group(2) != AZURE_TENANT:
            return answer({"error": "invalid_tenant", "error_description": "AADSTS90002"}, 400)
        if one("grant_type") != "client_credentials":
            return answer({"error": "unsupported_grant_type"}, 400)
        if one("client_id") != AZURE_CLIENT_ID or one("client_secret") != AZURE_CLIENT_SECRET:
            return answer(
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret",
                },
                401,
            )
        if one("scope") != f"{self.arm_url}/.default":
            return answer({"error": "invalid_scope", "error_description": "AADSTS70011"}, 400)
        token = f"eyJ0eXAiOiJKV1Qi.{uuid.uuid4().hex}"
        self.tokens.add(token)
        return answer(
            {
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": token,
            }
        )

    def _refused(self, call: Call, api_version: str) -> Response | None:
        header = call.headers.get("authorization", "")
        if not header.startswith("Bearer ") or header[7:] not in self.tokens:
            return answer(
                {
                    "error": {
                        "code": "InvalidAuthenticationToken",
                        "message": "The access token is invalid.",
                    }
                },
                401,
            )
        if call.arg("api-version") is None:
            return answer(
                {
                    "error": {
                        "code": "MissingApiVersionParameter",
                        "message": "The api-version query parameter (?api-version=) is required.",
                    }
                },
                400,
            )
        if call.arg("api-version") != api_version:
            return answer(
                {"error": {"code": "NoRegisteredProviderFound", "message": "api-version"}}, 400
            )
        return None

    def _resources(self, call: Call, match: re.Match[str]) -> Response:
        if refused := self._refused(call, "2021-04-01"):
            return refused
        if match.group(2) != AZURE_SUBSCRIPTION:
            return answer({"error": {"code": "SubscriptionNotFound", "message": "not found"}}, 404)
        flt = call.arg("$filter") or ""
        tag = re.fullmatch(r"tagName eq '([^']*)'(?: and tagValue eq '([^']*)')?", flt)
        if flt and tag is None:
            return answer({"error": {"code": "InvalidFilter", "message": flt}}, 400)
        value = []
        for name, vm in self.vms.items():
            if tag and (
                tag.group(1) not in vm["tags"]
                or (tag.group(2) is not None and vm["tags"][tag.group(1)] != tag.group(2))
            ):
                continue
            item = {
                "id": self.vm_id(name),
                "name": name,
                "type": ARM_VM,
                "location": vm["location"],
            }
            if not tag:  # ARM leaves tags out of a tag-filtered list
                item["tags"] = vm["tags"]
            value.append(item)
            # Each VM has a disk: a tag-filtered list holds other resource types too.
            value.append(
                {
                    "id": self.vm_id(name).replace(ARM_VM, "Microsoft.Compute/disks") + "_OsDisk",
                    "name": f"{name}_OsDisk",
                    "type": "Microsoft.Compute/disks",
                    "location": vm["location"],
                }
            )
        return answer({"value": value})

    def _vm(self, match: re.Match[str]) -> tuple[str, dict[str, Any]] | Response:
        name = match.group(4)
        vm = self.vms.get(name)
        if (
            match.group(2) != AZURE_SUBSCRIPTION
            or vm is None
            or vm["resource_group"] != match.group(3)
        ):
            return answer(
                {
                    "error": {
                        "code": "ResourceNotFound",
                        "message": f"The Resource '{ARM_VM}/{name}' was not found.",
                    }
                },
                404,
            )
        return name, vm

    def _instance_view(self, call: Call, match: re.Match[str]) -> Response:
        if refused := self._refused(call, "2024-07-01"):
            return refused
        found = self._vm(match)
        if isinstance(found, Response):
            return found
        name, vm = found
        power = {"running": "VM running", "stopped": "VM stopped", "deallocated": "VM deallocated"}
        return answer(
            {
                "computerName": name,
                "osName": "ubuntu",
                "osVersion": "22.04",
                "vmAgent": {"vmAgentVersion": "2.10.0.8", "statuses": []},
                "statuses": [
                    {
                        "code": "ProvisioningState/succeeded",
                        "level": "Info",
                        "displayStatus": "Provisioning succeeded",
                    },
                    {
                        "code": f"PowerState/{vm['power']}",
                        "level": "Info",
                        "displayStatus": power[vm["power"]],
                    },
                ],
                "vmHealth": {
                    "status": {
                        "code": f"HealthState/{vm['health']}",
                        "level": "Info",
                        "displayStatus": vm["health"].title(),
                    }
                },
            }
        )

    def _restart(self, call: Call, match: re.Match[str]) -> Response:
        if refused := self._refused(call, "2024-07-01"):
            return refused
        found = self._vm(match)
        if isinstance(found, Response):
            return found
        name, vm = found
        self.restarts.append(name)
        op = str(uuid.uuid4())
        self.operations[op] = {"vm": name, "polls": 0}
        url = (
            f"{self.arm_url}/subscriptions/{AZURE_SUBSCRIPTION}/providers/Microsoft.Compute"
            f"/locations/{vm['location']}/operations/{op}?api-version=2024-07-01"
        )
        return Response(
            b"",
            202,
            {"Azure-AsyncOperation": url, "Location": url + "&monitor=true", "Retry-After": "1"},
        )

    def _operation(self, call: Call, match: re.Match[str]) -> Response:
        if refused := self._refused(call, "2024-07-01"):
            return refused
        op = self.operations.get(match.group(4))
        if op is None:
            return answer({"error": {"code": "NotFound", "message": "operation"}}, 404)
        op["polls"] += 1
        body: dict[str, Any] = {"name": match.group(4), "startTime": _now()}
        if op["polls"] == 1:
            return answer({**body, "status": "InProgress"}, 200, {"Retry-After": "1"})
        if op["vm"] in self.failing_restarts:
            return answer(
                {
                    **body,
                    "status": "Failed",
                    "error": {
                        "code": "OSProvisioningTimedOut",
                        "message": "OS Provisioning for VM did not finish in the allotted time.",
                    },
                }
            )
        vm = self.vms[op["vm"]]
        vm["power"], vm["health"] = "running", "healthy"
        return answer({**body, "status": "Succeeded", "endTime": _now()})


# ================================================================== Teams


class TeamsFake:
    """A Teams incoming webhook: one `message` with one Adaptive Card attachment.

    Anything else is `400 Bad payload received by generic incoming webhook.`;
    a good post answers `200` with the body `1`, as the real webhook does.
    """

    PREFIX = "/teams"

    def __init__(self, saas: SaaS) -> None:
        self.saas = saas
        self.cards: list[dict[str, Any]] = []
        saas.route(
            "teams",
            "POST",
            rf"{self.PREFIX}(/webhookb2/{re.escape(TEAMS_WEBHOOK_TOKEN)})",
            self._post,
        )

    @property
    def url(self) -> str:
        return self.saas.url(f"{self.PREFIX}/webhookb2/{TEAMS_WEBHOOK_TOKEN}")

    def _post(self, call: Call, _m: re.Match[str]) -> Response:
        body = call.body
        problem = None if _is_json(call) and isinstance(body, dict) else "not JSON"
        problem = problem or _card_problem(body)
        if problem:
            return Response(
                "Bad payload received by generic incoming webhook.", 400, mimetype="text/plain"
            )
        self.cards.append(body["attachments"][0]["content"])
        return Response("1", 200, mimetype="text/plain")


_CARD_ELEMENTS = {
    "TextBlock",
    "FactSet",
    "Container",
    "ColumnSet",
    "Column",
    "Image",
    "ActionSet",
    "RichTextBlock",
    "Table",
}
# (Column is a child of ColumnSet; TableRow/TableCell of Table.)


def _card_problem(body: dict[str, Any]) -> str | None:
    if body.get("type") != "message":
        return "type must be message"
    attachments = body.get("attachments")
    if not isinstance(attachments, list) or len(attachments) != 1:
        return "exactly one attachment"
    attachment = attachments[0]
    if attachment.get("contentType") != "application/vnd.microsoft.card.adaptive":
        return "not an adaptive card"
    card = attachment.get("content")
    if not isinstance(card, dict) or card.get("type") != "AdaptiveCard":
        return "content must be an AdaptiveCard"
    if not isinstance(card.get("version"), str):
        return "the card needs a version"
    stack = list(card.get("body", []))
    while stack:
        element = stack.pop()
        if not isinstance(element, dict) or element.get("type") not in _CARD_ELEMENTS:
            return f"unknown element {element!r}"
        kind = element["type"]
        if kind == "TextBlock" and not isinstance(element.get("text"), str):
            return "a TextBlock needs text"
        if kind == "FactSet" and not all(
            isinstance(f.get("title"), str) and isinstance(f.get("value"), str)
            for f in element.get("facts", [])
        ):
            return "facts need a text title and value"
        if kind == "Table":
            if card.get("version", "1.0") < "1.5":
                return "Table needs card version 1.5"
            for row in element.get("rows", []):
                if row.get("type") != "TableRow" or len(row.get("cells", [])) != len(
                    element.get("columns", [])
                ):
                    return "each TableRow has one TableCell per column"
                for cell in row["cells"]:
                    if cell.get("type") != "TableCell":
                        return "a table row holds TableCells"
                    stack += cell.get("items", [])
        stack += element.get("items", []) + element.get("columns", []) if kind != "Table" else []
    for action in card.get("actions", []):
        if action.get("type") not in ("Action.OpenUrl", "Action.Submit", "Action.ShowCard"):
            return "unknown action type"
    return None


def card_text(card: dict[str, Any]) -> str:
    """Every text of an Adaptive Card (TextBlocks, facts, column items), one per line."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("text", "title", "value"):
                if isinstance(node.get(key), str):
                    parts.append(node[key])
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card.get("body", []))
    return "\n".join(parts)


# ================================================================== Opsgenie


class OpsgenieFake:
    """Opsgenie Alert API v2: create and close alerts (`Authorization: GenieKey <key>`).

    Requests are accepted with 202 `{result, took, requestId}` and processed
    at once here; an alias with an open alert de-duplicates (count goes up).
    """

    PREFIX = "/opsgenie"
    CREATE_FIELDS = {
        "message",
        "alias",
        "description",
        "responders",
        "visibleTo",
        "actions",
        "tags",
        "details",
        "entity",
        "source",
        "priority",
        "user",
        "note",
    }

    def __init__(self, saas: SaaS) -> None:
        self.saas = saas
        self.alerts: list[dict[str, Any]] = []
        saas.route("opsgenie", "POST", rf"{self.PREFIX}(/v2/alerts)", self._create)
        saas.route("opsgenie", "POST", rf"{self.PREFIX}(/v2/alerts/([^/]+)/close)", self._close)

    @property
    def base_url(self) -> str:
        return self.saas.url(self.PREFIX)

    @staticmethod
    def _accepted() -> Response:
        return answer(
            {"result": "Request will be processed", "took": 0.107, "requestId": str(uuid.uuid4())},
            202,
        )

    @staticmethod
    def _refused(call: Call) -> Response | None:
        if call.headers.get("authorization") != f"GenieKey {OPSGENIE_KEY}":
            return answer(
                {"message": "Could not authenticate", "took": 0.0, "requestId": str(uuid.uuid4())},
                401,
            )
        return None

    def _create(self, call: Call, _m: re.Match[str]) -> Response:
        if refused := self._refused(call):
            return refused
        body = call.body if isinstance(call.body, dict) else {}
        errors: dict[str, str] = {}
        if unknown := set(body) - self.CREATE_FIELDS:
            errors["body"] = f"unknown fields {sorted(unknown)}"
        message = body.get("message")
        if not isinstance(message, str) or not 0 < len(message) <= 130:
            errors["message"] = "Message can not be empty and at most 130 characters."
        if body.get("priority", "P3") not in ("P1", "P2", "P3", "P4", "P5"):
            errors["priority"] = "Priority should be one of [P1, P2, P3, P4, P5]"
        for r in body.get("responders", []):
            if r.get("type") not in ("team", "user", "escalation", "schedule") or not (
                r.get("id") or r.get("name") or r.get("username")
            ):
                errors["responders"] = "Responder should have id, name or username"
        details = body.get("details", {})
        if not isinstance(details, dict) or not all(isinstance(v, str) for v in details.values()):
            errors["details"] = "Details must be a map of strings"
        if len(body.get("tags", [])) > 20:
            errors["tags"] = "Tags can have at most 20 items"
        if errors:
            return answer(
                {"message": "Request body is not valid", "errors": errors, "took": 0.0,
                 "requestId": str(uuid.uuid4())},
                422,
            )  # fmt: skip
        alias = body.get("alias") or str(uuid.uuid4())
        for alert in self.alerts:
            if alert["alias"] == alias and alert["status"] == "open":
                alert["count"] += 1
                return self._accepted()
        self.alerts.append(
            {**body, "alias": alias, "status": "open", "count": 1, "id": str(uuid.uuid4()),
             "tinyId": str(len(self.alerts) + 1)}
        )  # fmt: skip
        return self._accepted()

    def _close(self, call: Call, match: re.Match[str]) -> Response:
        if refused := self._refused(call):
            return refused
        kind = call.arg("identifierType") or "id"
        if kind not in ("id", "alias", "tiny"):
            return answer({"message": "identifierType is invalid"}, 422)
        ident = unquote(match.group(2))
        key = {"id": "id", "alias": "alias", "tiny": "tinyId"}[kind]
        for alert in self.alerts:
            if alert[key] == ident and alert["status"] == "open":
                alert["status"] = "closed"
                alert["close"] = call.body if isinstance(call.body, dict) else {}
        return self._accepted()

    def by_alias(self, alias: str) -> dict[str, Any]:
        return next(a for a in self.alerts if a["alias"] == alias)


# ================================================================== internal services


class InternalServices:
    """The team's own services behind `/internal/<service>/...` (health endpoints).

    `script(service, [(status, body), ...])` sets what successive GETs of
    `/internal/<service>/healthz` answer; the last answer repeats.
    """

    PREFIX = "/internal"

    def __init__(self, saas: SaaS) -> None:
        self.saas = saas
        self.scripts: dict[str, list[tuple[int, Any]]] = {}
        self.hits: dict[str, int] = {}
        saas.route("internal", "GET", rf"{self.PREFIX}(/([\w-]+)/healthz)", self._health)

    @property
    def base_url(self) -> str:
        return self.saas.url(self.PREFIX)

    def script(self, service: str, answers: list[tuple[int, Any]]) -> None:
        self.scripts[service] = answers
        self.hits[service] = 0

    def _health(self, call: Call, match: re.Match[str]) -> Response:
        service = match.group(2)
        answers = self.scripts.get(service)
        if not answers:
            return answer({"message": "no such service"}, 404)
        n = self.hits[service]
        self.hits[service] = n + 1
        status, body = answers[min(n, len(answers) - 1)]
        return answer(body, status)


# ================================================================== SMTP


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data.replace(b"\r\n", b"\n"), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class SmtpFake:
    """A real SMTP submission server (aiosmtpd) on 127.0.0.1.

    STARTTLS with a certificate made here (its PEM is the connection's
    `ca_cert`), AUTH only after TLS and only for `USER`/`PASSWORD`; every
    accepted message is kept in `received`.
    """

    USER = "switchyard@example.com"
    PASSWORD = "smtp-blueprint-password"

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        # The same self-signed certificate maker as the email action's own fake.
        self.ca_cert, key_pem = make_certificate()
        self.received: list[Mail] = []
        fake = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                fake.received.append(
                    Mail(
                        envelope.mail_from,
                        list(envelope.rcpt_tos),
                        bytes(envelope.original_content or envelope.content),
                        session.ssl is not None,
                    )
                )
                return "250 2.0.0 OK: queued as BLUEPRINT"

        def authenticate(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> Any:
            ok = (
                isinstance(data, LoginPassword)
                and data.login.decode() == self.USER
                and data.password.decode() == self.PASSWORD
            )
            return AuthResult(success=ok, handled=False)

        self.controller = Controller(
            Handler(),
            hostname="127.0.0.1",
            port=_free_port(),
            tls_context=_server_tls(self.ca_cert, key_pem),
            require_starttls=True,
            auth_required=True,
            auth_require_tls=True,
            authenticator=authenticate,
        )

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_tls(cert_pem: str, key_pem: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
        cert.write_text(cert_pem)
        key.write_text(key_pem)
        context.load_cert_chain(cert, key)
    return context
