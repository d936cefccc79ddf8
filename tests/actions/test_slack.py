"""Slack actions against the fake Slack Web API of live/slack.py, through the activity."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from temporalio.exceptions import ApplicationError
from werkzeug import Response

from switchyard import errors
from switchyard.actions import get_action
from switchyard.actions.slack import SLACK
from switchyard.connections import Connection
from switchyard.engine.options import READ, WRITE_IDEMPOTENT, WRITE_ONCE

from .conftest import RunAction, error_detail
from .live import SECRET
from .live.slack import CHANNEL, SlackFake, slack_connection


async def run(
    run_action: RunAction, server: HTTPServer, action: str, params: dict[str, Any], **kw: Any
) -> Any:
    conn = kw.pop("connection", None) or slack_connection(server)
    result = await run_action(action, params, connection=conn.name, connections=[conn], **kw)
    return result.output


async def fail(
    run_action: RunAction, server: HTTPServer, action: str, params: dict[str, Any], **kw: Any
) -> ApplicationError:
    with pytest.raises(ApplicationError) as info:
        await run(run_action, server, action, params, **kw)
    return info.value


def test_connection_type_defaults_to_the_real_api() -> None:
    ctype = SLACK
    fields = {f.name: f for f in ctype.fields}
    assert fields["base_url"].default == "https://slack.com/api"
    assert fields["token"].secret and fields["token"].required
    assert fields["allow_private_metadata"].default is False
    assert "ca_cert" in fields
    assert ctype.check({}, {"token": "xoxb-1"}) == []


def test_options_classes() -> None:
    assert get_action("slack.post_message").options_class({}) == WRITE_ONCE
    assert get_action("slack.reply_in_thread").options_class({}) == WRITE_ONCE
    assert get_action("slack.update_message").options_class({}) == WRITE_IDEMPOTENT
    assert get_action("slack.add_reaction").options_class({}) == WRITE_IDEMPOTENT
    assert get_action("slack.lookup_user_by_email").options_class({}) == READ


async def test_post_message_sends_json_with_charset_and_bearer(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = SlackFake(httpserver)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*deployed*"}}]
    out = await run(
        run_action,
        httpserver,
        "slack.post_message",
        {"channel": "#general", "text": "deployed", "blocks": blocks, "unfurl_links": False},
    )
    method, http_method, args, headers = fake.calls[-1]
    assert (method, http_method) == ("chat.postMessage", "POST")
    assert headers["authorization"] == f"Bearer {SECRET}"
    assert headers["content-type"] == "application/json; charset=utf-8"
    # Unset options are not sent (Slack would read a null as a wrong type).
    assert args == {
        "channel": "#general",
        "text": "deployed",
        "blocks": blocks,
        "unfurl_links": False,
    }
    assert out["channel"] == CHANNEL  # Slack answers with the id, not the name
    assert out["ts"] and (CHANNEL, out["ts"]) in fake.messages
    assert out["message"]["text"] == "deployed"
    assert out["message"]["blocks"] == blocks
    assert out["thread_ts"] is None
    assert out["warnings"] == []  # no `missing_charset` warning


async def test_post_message_as_a_thread_reply(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = SlackFake(httpserver)
    parent = fake.seed_message("parent")
    out = await run(
        run_action,
        httpserver,
        "slack.post_message",
        {"channel": CHANNEL, "text": "reply", "thread_ts": parent, "reply_broadcast": True},
    )
    args = fake.calls[-1][2]
    assert args["thread_ts"] == parent and args["reply_broadcast"] is True
    assert out["thread_ts"] == parent


async def test_reply_in_thread(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = SlackFake(httpserver)
    parent = fake.seed_message("parent")
    out = await run(
        run_action,
        httpserver,
        "slack.reply_in_thread",
        {"channel": CHANNEL, "thread_ts": parent, "text": "rolled back"},
    )
    method, _, args, _ = fake.calls[-1]
    assert method == "chat.postMessage"
    assert args == {
        "channel": CHANNEL,
        "thread_ts": parent,
        "text": "rolled back",
        "reply_broadcast": False,
    }
    assert out["thread_ts"] == parent
    assert fake.messages[(CHANNEL, out["ts"])]["thread_ts"] == parent


async def test_reply_in_thread_requires_thread_ts(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = SlackFake(httpserver)
    exc = await fail(
        run_action, httpserver, "slack.reply_in_thread", {"channel": CHANNEL, "text": "x"}
    )
    assert exc.type == errors.VALIDATION_ERROR and exc.non_retryable
    assert "thread_ts" in str(exc)
    assert fake.calls == []


async def test_reply_to_an_unknown_thread_is_a_client_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    SlackFake(httpserver)
    exc = await fail(
        run_action,
        httpserver,
        "slack.reply_in_thread",
        {"channel": CHANNEL, "thread_ts": "1.000001", "text": "x"},
    )
    assert exc.type == errors.HTTP_CLIENT_ERROR and exc.non_retryable
    assert error_detail(exc)["details"]["error"] == "thread_not_found"


@pytest.mark.parametrize(
    "params",
    [
        {"channel": CHANNEL},  # no text, blocks or attachments
        {"channel": CHANNEL, "text": ""},
        {"channel": CHANNEL, "blocks": [{"type": "divider"}] * 51},
        {"channel": "", "text": "x"},
        {"channel": CHANNEL, "text": "x", "unfurl_links": "maybe"},
    ],
)
async def test_post_message_bad_parameters(
    httpserver: HTTPServer, run_action: RunAction, params: dict[str, Any]
) -> None:
    fake = SlackFake(httpserver)
    exc = await fail(run_action, httpserver, "slack.post_message", params)
    assert exc.type == errors.VALIDATION_ERROR and exc.non_retryable
    assert fake.calls == []


async def test_update_message(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = SlackFake(httpserver)
    ts = fake.seed_message("deploying")
    out = await run(
        run_action,
        httpserver,
        "slack.update_message",
        {"channel": CHANNEL, "ts": ts, "text": "deployed"},
    )
    method, _, args, headers = fake.calls[-1]
    assert method == "chat.update"
    assert args == {"channel": CHANNEL, "ts": ts, "text": "deployed"}
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert fake.messages[(CHANNEL, ts)]["text"] == "deployed"
    assert out["channel"] == CHANNEL and out["ts"] == ts
    assert out["text"] == "deployed" and out["message"]["text"] == "deployed"


async def test_update_of_a_missing_message_is_a_client_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    SlackFake(httpserver)
    exc = await fail(
        run_action,
        httpserver,
        "slack.update_message",
        {"channel": CHANNEL, "ts": "1.000009", "text": "x"},
    )
    assert exc.type == errors.HTTP_CLIENT_ERROR and exc.non_retryable
    detail = error_detail(exc)
    assert "message_not_found" in detail["message"]
    assert detail["details"]["error"] == "message_not_found"
    assert detail["details"]["method"] == "chat.update"


async def test_add_reaction_is_idempotent(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = SlackFake(httpserver)
    ts = fake.seed_message("look")
    params = {"channel": CHANNEL, "timestamp": ts, "name": ":eyes:"}
    first = await run(run_action, httpserver, "slack.add_reaction", params)
    second = await run(run_action, httpserver, "slack.add_reaction", params)
    assert fake.calls[0][2] == {"channel": CHANNEL, "timestamp": ts, "name": "eyes"}
    assert first == {"channel": CHANNEL, "timestamp": ts, "name": "eyes", "already_reacted": False}
    assert second["already_reacted"] is True
    assert fake.reactions[(CHANNEL, ts)] == {"eyes"}


async def test_add_reaction_to_a_missing_message(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    SlackFake(httpserver)
    exc = await fail(
        run_action,
        httpserver,
        "slack.add_reaction",
        {"channel": CHANNEL, "timestamp": "1.000009", "name": "eyes"},
    )
    assert exc.type == errors.HTTP_CLIENT_ERROR and exc.non_retryable
    assert error_detail(exc)["details"]["error"] == "message_not_found"


async def test_lookup_user_by_email(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = SlackFake(httpserver)
    fake.add_user("Spengler@Ghostbusters.example.com")
    out = await run(
        run_action,
        httpserver,
        "slack.lookup_user_by_email",
        {"email": "spengler@ghostbusters.example.com"},
    )
    method, http_method, args, headers = fake.calls[-1]
    assert (method, http_method) == ("users.lookupByEmail", "GET")
    assert args == {"email": "spengler@ghostbusters.example.com"}
    assert headers["authorization"] == f"Bearer {SECRET}"
    assert out["found"] is True
    assert out["id"] == "W012A3CDE" and out["team_id"] == "T012AB3C4"
    assert out["name"] == "spengler" and out["real_name"] == "Egon Spengler"
    assert out["display_name"] == "spengler"
    assert out["email"] == "Spengler@Ghostbusters.example.com"
    assert (out["tz"], out["tz_label"], out["tz_offset"]) == (
        "America/Los_Angeles",
        "Pacific Daylight Time",
        -25200,
    )
    assert out["is_bot"] is False and out["deleted"] is False


async def test_lookup_unknown_email(httpserver: HTTPServer, run_action: RunAction) -> None:
    SlackFake(httpserver)
    exc = await fail(
        run_action, httpserver, "slack.lookup_user_by_email", {"email": "nobody@example.com"}
    )
    assert exc.type == errors.HTTP_CLIENT_ERROR and exc.non_retryable
    assert error_detail(exc)["details"]["error"] == "users_not_found"
    out = await run(
        run_action,
        httpserver,
        "slack.lookup_user_by_email",
        {"email": "nobody@example.com", "fail_if_not_found": False},
    )
    assert out["found"] is False and out["id"] is None


async def test_lookup_rejects_a_non_email(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = SlackFake(httpserver)
    exc = await fail(run_action, httpserver, "slack.lookup_user_by_email", {"email": "bob"})
    assert exc.type == errors.VALIDATION_ERROR
    assert fake.calls == []


# -- Slack's `{"ok": false}` errors (HTTP 200) ---------------------------------------


async def test_wrong_token_is_permission_denied_and_masked(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    SlackFake(httpserver, token="xoxb-the-right-one")
    exc = await fail(
        run_action, httpserver, "slack.post_message", {"channel": CHANNEL, "text": "x"}
    )
    assert exc.type == errors.PERMISSION_DENIED and exc.non_retryable
    detail = error_detail(exc)
    assert detail["details"]["error"] == "invalid_auth"
    assert "invalid_auth" in detail["message"]
    assert SECRET not in json.dumps(detail)


async def test_missing_scope_names_the_scope(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = SlackFake(httpserver)
    fake.scopes.discard("users:read.email")
    exc = await fail(
        run_action, httpserver, "slack.lookup_user_by_email", {"email": "a@example.com"}
    )
    assert exc.type == errors.PERMISSION_DENIED and exc.non_retryable
    detail = error_detail(exc)
    assert detail["details"]["needed"] == "users:read.email"
    assert "users:read.email" in detail["message"]


@pytest.mark.parametrize(
    "code",
    [
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
    ],
)
async def test_auth_codes_are_permission_denied(
    httpserver: HTTPServer, run_action: RunAction, code: str
) -> None:
    fake = SlackFake(httpserver)
    fake.fail["chat.postMessage"] = (code, {}, {})
    exc = await fail(
        run_action, httpserver, "slack.post_message", {"channel": CHANNEL, "text": "x"}
    )
    assert exc.type == errors.PERMISSION_DENIED and exc.non_retryable
    assert error_detail(exc)["details"]["error"] == code


async def test_ratelimited_body_is_retryable_with_retry_after(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = SlackFake(httpserver)
    fake.fail["reactions.add"] = ("ratelimited", {}, {"Retry-After": "12"})
    exc = await fail(
        run_action,
        httpserver,
        "slack.add_reaction",
        {"channel": CHANNEL, "timestamp": "1.1", "name": "eyes"},
    )
    assert exc.type == errors.HTTP_SERVER_ERROR and not exc.non_retryable
    assert exc.next_retry_delay is not None and exc.next_retry_delay.total_seconds() == 12


async def test_http_429_is_retryable_with_retry_after(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    httpserver.expect_request("/api/chat.update").respond_with_response(
        Response(
            json.dumps({"ok": False, "error": "ratelimited"}),
            429,
            {"Retry-After": "30"},
            content_type="application/json",
        )
    )
    exc = await fail(
        run_action,
        httpserver,
        "slack.update_message",
        {"channel": CHANNEL, "ts": "1.1", "text": "x"},
    )
    assert exc.type == errors.HTTP_SERVER_ERROR and not exc.non_retryable
    assert exc.next_retry_delay is not None and exc.next_retry_delay.total_seconds() == 30


async def test_internal_error_is_retryable(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = SlackFake(httpserver)
    fake.add_user("a@example.com")
    fake.fail["users.lookupByEmail"] = ("internal_error", {}, {})
    exc = await fail(
        run_action, httpserver, "slack.lookup_user_by_email", {"email": "a@example.com"}
    )
    assert exc.type == errors.HTTP_SERVER_ERROR and not exc.non_retryable


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"channel": "C0NOTTHERE", "text": "x"}, "channel_not_found"),
        ({"channel": CHANNEL, "text": "x" * 40001}, "msg_too_long"),
        ({"channel": CHANNEL, "blocks": [{"text": "no type"}]}, "invalid_blocks"),
    ],
)
async def test_other_codes_are_client_errors(
    httpserver: HTTPServer, run_action: RunAction, params: dict[str, Any], code: str
) -> None:
    SlackFake(httpserver)
    exc = await fail(run_action, httpserver, "slack.post_message", params)
    assert exc.type == errors.HTTP_CLIENT_ERROR and exc.non_retryable
    detail = error_detail(exc)
    assert code in detail["message"]
    assert detail["details"]["error"] == code
    assert detail["details"]["method"] == "chat.postMessage"
    if code == "invalid_blocks":
        # Slack's explanation travels with the error.
        assert detail["details"]["messages"][0].startswith("[ERROR]")
        assert "each block needs a type" in detail["message"]


async def test_an_answer_that_is_not_slack_is_not_retried(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    httpserver.expect_request("/api/chat.postMessage").respond_with_data(
        "<html>proxy login</html>", content_type="text/html"
    )
    exc = await fail(
        run_action, httpserver, "slack.post_message", {"channel": CHANNEL, "text": "x"}
    )
    assert exc.type == errors.ACTION_ERROR and exc.non_retryable
    assert "base_url" in str(exc)


async def test_missing_token_is_a_validation_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = SlackFake(httpserver)
    conn = Connection("slack", "slack", fields={"base_url": httpserver.url_for("/api")})
    exc = await fail(
        run_action,
        httpserver,
        "slack.post_message",
        {"channel": CHANNEL, "text": "x"},
        connection=conn,
    )
    assert exc.type == errors.VALIDATION_ERROR and exc.non_retryable
    assert "token" in str(exc)
    assert fake.calls == []
