"""Live cases of the Slack actions, and the fake Slack Web API they (and test_slack) use.

The fake checks requests the way Slack does (bearer token, JSON body with a
charset, required arguments and their types, known channels and messages)
and answers with the documented shapes, including `{"ok": false, "error":
code}` with HTTP 200 for every Slack-level error.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from switchyard.connections import Connection

from . import SECRET, Live, LiveCase

CHANNEL = "C0123456789"
BOT_USER = "U0BOT00001"
BOT_ID = "B0BOT00001"


def slack_connection(server: HTTPServer, token: str = SECRET) -> Connection:
    return Connection(
        "slack", "slack", fields={"base_url": server.url_for("/api")}, secrets={"token": token}
    )


def _is_str(value: Any) -> bool:
    return isinstance(value, str) and value != ""


class SlackFake:
    """A Slack Web API double on a pytest-httpserver, under `/api/<method>`.

    Attributes:
        calls: `(method, http_method, args, headers)` of every request received.
        channels: name -> id of the channels the bot is in.
        messages: `(channel id, ts)` -> the stored message.
        users: email -> user object (for users.lookupByEmail).
        scopes: the token's scopes; a method needing another one answers missing_scope.
        fail: method -> `(error code, extra body, HTTP headers)` answered instead.
    """

    SCOPES = {
        "chat.postMessage": "chat:write",
        "chat.update": "chat:write",
        "reactions.add": "reactions:write",
        "users.lookupByEmail": "users:read.email",
    }

    def __init__(self, server: HTTPServer, token: str = SECRET) -> None:
        self.token = token
        self.calls: list[tuple[str, str, dict[str, Any], dict[str, str]]] = []
        self.channels = {"general": CHANNEL, "incidents": "C0INCIDENT1"}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.reactions: dict[tuple[str, str], set[str]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.scopes = set(self.SCOPES.values())
        self.fail: dict[str, tuple[str, dict[str, Any], dict[str, str]]] = {}
        self._next = 0
        server.expect_request(re.compile(r"^/api/[A-Za-z.]+$")).respond_with_handler(self.handle)

    # -- helpers -------------------------------------------------------------

    def add_user(self, email: str, **fields: Any) -> dict[str, Any]:
        user = {
            "id": fields.pop("id", "W012A3CDE"),
            "team_id": "T012AB3C4",
            "name": "spengler",
            "deleted": False,
            "color": "9f69e7",
            "real_name": "Egon Spengler",
            "tz": "America/Los_Angeles",
            "tz_label": "Pacific Daylight Time",
            "tz_offset": -25200,
            "profile": {
                "real_name": fields.pop("profile_real_name", "Egon Spengler"),
                "display_name": "spengler",
                "email": email,
                "image_24": "https://avatars.example/24.jpg",
            },
            "is_admin": False,
            "is_owner": False,
            "is_bot": False,
            "is_restricted": False,
            "updated": 1502138686,
        }
        user.update(fields)
        self.users[email.lower()] = user
        return user

    def seed_message(self, text: str, channel: str = CHANNEL) -> str:
        ts = self._ts()
        self.messages[(channel, ts)] = self._message(text, ts, None, None)
        return ts

    def _ts(self) -> str:
        self._next += 1
        return f"{1700000000 + self._next}.{self._next:06d}"

    def _message(self, text: Any, ts: str, blocks: Any, thread_ts: str | None) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "subtype": "bot_message",
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "text": text or "",
            "ts": ts,
        }
        if blocks:
            message["blocks"] = blocks
        if thread_ts:
            message["thread_ts"] = thread_ts
            message["parent_user_id"] = BOT_USER
        return message

    def _channel(self, value: str) -> str | None:
        if value in self.channels.values():
            return value
        return self.channels.get(value.lstrip("#"))

    # -- the HTTP side ---------------------------------------------------------

    def handle(self, request: Request) -> Response:
        method = request.path.rsplit("/", 1)[1]
        headers = {k.lower(): v for k, v in request.headers.items()}
        extra_warning: list[str] = []
        if request.method == "POST":
            ctype = headers.get("content-type", "")
            if ctype.split(";")[0].strip() != "application/json":
                return _answer({"ok": False, "error": "invalid_form_data"})
            if "charset=utf-8" not in ctype.lower().replace(" ", ""):
                extra_warning.append("missing_charset")
            try:
                args = json.loads(request.get_data(as_text=True))
            except ValueError:
                return _answer({"ok": False, "error": "invalid_json"})
            if not isinstance(args, dict):
                return _answer({"ok": False, "error": "json_not_object"})
        elif request.method == "GET":
            args = dict(request.args.items())
        else:
            return _answer({"ok": False, "error": "method_not_supported_for_channel_type"})
        self.calls.append((method, request.method, args, headers))
        auth = headers.get("authorization", "")
        if not auth:
            return _answer({"ok": False, "error": "not_authed"})
        if auth != f"Bearer {self.token}":
            return _answer({"ok": False, "error": "invalid_auth"})
        handler = {
            "chat.postMessage": self._post,
            "chat.update": self._update,
            "reactions.add": self._react,
            "users.lookupByEmail": self._lookup,
        }.get(method)
        if handler is None:
            return _answer({"ok": False, "error": "unknown_method"}, status=404)
        needed = self.SCOPES[method]
        if needed not in self.scopes:
            return _answer(
                {
                    "ok": False,
                    "error": "missing_scope",
                    "needed": needed,
                    "provided": ",".join(sorted(self.scopes)),
                }
            )
        if method in self.fail:
            code, extra, http_headers = self.fail[method]
            return _answer({"ok": False, "error": code, **extra}, headers=http_headers)
        problems = self._check_types(method, args)
        if problems:
            return _answer(
                {
                    "ok": False,
                    "error": "invalid_arguments",
                    "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]},
                }
            )
        body = handler(args)
        if body.get("ok") and extra_warning:
            body["warning"] = ",".join(extra_warning)
            body["response_metadata"] = {"warnings": extra_warning}
        return _answer(body)

    _TYPES: dict[str, dict[str, tuple[type, ...]]] = {
        "chat.postMessage": {
            "channel": (str,),
            "text": (str,),
            "blocks": (list,),
            "attachments": (list,),
            "thread_ts": (str,),
            "reply_broadcast": (bool,),
            "unfurl_links": (bool,),
            "unfurl_media": (bool,),
            "mrkdwn": (bool,),
            "username": (str,),
            "icon_emoji": (str,),
            "icon_url": (str,),
        },
        "chat.update": {
            "channel": (str,),
            "ts": (str,),
            "text": (str,),
            "blocks": (list,),
            "attachments": (list,),
        },
        "reactions.add": {"channel": (str,), "timestamp": (str,), "name": (str,)},
        "users.lookupByEmail": {"email": (str,)},
    }
    _REQUIRED = {
        "chat.postMessage": ("channel",),
        "chat.update": ("channel", "ts"),
        "reactions.add": ("channel", "timestamp", "name"),
        "users.lookupByEmail": ("email",),
    }

    def _check_types(self, method: str, args: dict[str, Any]) -> list[str]:
        problems = []
        types = self._TYPES[method]
        for name in self._REQUIRED[method]:
            if not _is_str(args.get(name)):
                problems.append(f"missing required field: {name}")
        for name, value in args.items():
            if name not in types:
                problems.append(f"unknown argument: {name}")
            elif value is None or not isinstance(value, types[name]):
                problems.append(f"invalid type for field {name}")
        return problems

    def _check_blocks(self, blocks: Any) -> dict[str, Any] | None:
        if blocks is None:
            return None
        if len(blocks) > 50 or not all(
            isinstance(b, dict) and isinstance(b.get("type"), str) for b in blocks
        ):
            return {
                "ok": False,
                "error": "invalid_blocks",
                "response_metadata": {
                    "messages": ["[ERROR] each block needs a type [json-pointer:/blocks/0]"]
                },
            }
        return None

    def _post(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args["channel"])
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not args.get("blocks") and not args.get("attachments"):
            return {"ok": False, "error": "no_text"}
        if len(args.get("text") or "") > 40000:
            return {"ok": False, "error": "msg_too_long"}
        bad = self._check_blocks(args.get("blocks"))
        if bad:
            return bad
        thread_ts = args.get("thread_ts")
        if thread_ts is not None and (channel, thread_ts) not in self.messages:
            return {"ok": False, "error": "thread_not_found"}
        ts = self._ts()
        message = self._message(args.get("text"), ts, args.get("blocks"), thread_ts)
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args["channel"])
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        stored = self.messages.get((channel, args["ts"]))
        if stored is None:
            return {"ok": False, "error": "message_not_found"}
        if not args.get("text") and not args.get("blocks") and not args.get("attachments"):
            return {"ok": False, "error": "no_text"}
        bad = self._check_blocks(args.get("blocks"))
        if bad:
            return bad
        stored["text"] = args.get("text") or ""
        if args.get("blocks"):
            stored["blocks"] = args["blocks"]
        stored["edited"] = {"user": BOT_USER, "ts": self._ts()}
        return {
            "ok": True,
            "channel": channel,
            "ts": args["ts"],
            "text": stored["text"],
            "message": {
                k: v
                for k, v in stored.items()
                if k in ("text", "user", "bot_id", "blocks", "edited")
            },
        }

    def _react(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args["channel"])
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        key = (channel, args["timestamp"])
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        if not re.fullmatch(r"[a-z0-9_+\-']+(::skin-tone-[2-6])?", args["name"]):
            return {"ok": False, "error": "invalid_name"}
        have = self.reactions.setdefault(key, set())
        if args["name"] in have:
            return {"ok": False, "error": "already_reacted"}
        have.add(args["name"])
        return {"ok": True}

    def _lookup(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(args["email"].lower())
        if user is None or user.get("deleted"):
            return {"ok": False, "error": "users_not_found"}
        return {"ok": True, "user": user}


def _answer(
    body: dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        json.dumps(body), status, headers or {}, content_type="application/json; charset=utf-8"
    )


# -- live cases: each output echoes a value holding SECRET (masking check) --------------


def _post_case(server: HTTPServer) -> Live:
    SlackFake(server)
    return Live({"channel": CHANNEL, "text": f"leaked {SECRET} here"}, slack_connection(server))


def _reply_case(server: HTTPServer) -> Live:
    fake = SlackFake(server)
    parent = fake.seed_message("parent")
    return Live(
        {"channel": CHANNEL, "thread_ts": parent, "text": f"reply {SECRET}"},
        slack_connection(server),
    )


def _update_case(server: HTTPServer) -> Live:
    fake = SlackFake(server)
    ts = fake.seed_message("before")
    return Live({"channel": CHANNEL, "ts": ts, "text": f"after {SECRET}"}, slack_connection(server))


def _reaction_case(server: HTTPServer) -> Live:
    fake = SlackFake(server)
    fake.channels[SECRET] = "C" + SECRET
    ts = fake.seed_message("react to me", channel="C" + SECRET)
    return Live(
        {"channel": "C" + SECRET, "timestamp": ts, "name": "eyes"}, slack_connection(server)
    )


def _lookup_case(server: HTTPServer) -> Live:
    fake = SlackFake(server)
    fake.add_user("oncall@example.com", real_name=f"Oncall {SECRET}")
    return Live({"email": "oncall@example.com"}, slack_connection(server))


CASES: dict[str, LiveCase] = {
    "slack.post_message": _post_case,
    "slack.reply_in_thread": _reply_case,
    "slack.update_message": _update_case,
    "slack.add_reaction": _reaction_case,
    "slack.lookup_user_by_email": _lookup_case,
}
