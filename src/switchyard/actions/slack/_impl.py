"""Slack Web API calls (imported by the actions on first use; imports httpx)."""

from __future__ import annotations

import json
from typing import Any

from switchyard import errors
from switchyard.actions import rest
from switchyard.actions.http._request import parse_retry_after
from switchyard.actions.sdk import ActionContext
from switchyard.actions.slack import (
    DEFAULT_BASE_URL,
    AddReactionInput,
    LookupUserInput,
    PostMessageInput,
    ReactionOutput,
    ReplyInThreadInput,
    SlackMessageOutput,
    SlackUserOutput,
    UpdateMessageInput,
    UpdateMessageOutput,
)
from switchyard.errors import StepFailure

#: `ok: false` codes meaning the token cannot do this (like HTTP 401/403).
AUTH_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "no_permission",
        "not_allowed_token_type",
        "ekm_access_denied",
        "access_denied",
        "team_access_not_granted",
        "org_login_required",
        "two_factor_setup_required",
    }
)
#: Codes for a throttled request (like HTTP 429).
RATE_LIMIT_ERRORS = frozenset({"ratelimited", "rate_limited"})
#: Codes for a failure on Slack's side (like HTTP 5xx).
SERVER_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def slack_failure(method: str, body: dict[str, Any], headers: dict[str, str]) -> StepFailure:
    """The typed failure for an `{"ok": false, "error": code}` answer."""
    code = str(body.get("error") or "unknown_error")
    details: dict[str, Any] = {"status": 200, "method": method, "error": code}
    message = f"Slack {method} failed: {code}"
    needed, provided = body.get("needed"), body.get("provided")
    if needed:
        details["needed"] = needed
        details["provided"] = provided
        message += f" (needs scope {needed}"
        message += f"; token has {provided})" if provided else ")"
    meta = body.get("response_metadata")
    notes = meta.get("messages") if isinstance(meta, dict) else None
    if isinstance(notes, list) and notes:
        details["messages"] = [str(n) for n in notes[:10]]
        message += ": " + "; ".join(details["messages"][:3])
    if code in AUTH_ERRORS:
        return StepFailure(errors.PERMISSION_DENIED, message, details, retryable=False)
    if code in RATE_LIMIT_ERRORS or code in SERVER_ERRORS:
        return StepFailure(
            errors.HTTP_SERVER_ERROR,
            message,
            details,
            retryable=True,
            retry_after=parse_retry_after(headers.get("retry-after")),
        )
    return StepFailure(errors.HTTP_CLIENT_ERROR, message, details, retryable=False)


async def call(
    ctx: ActionContext,
    method: str,
    *,
    body: dict[str, Any] | None = None,
    query: dict[str, Any] | None = None,
    accept: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Call one Web API method; returns the answer when `ok` (or its error is in `accept`).

    `body` is sent as JSON with POST; otherwise `query` goes in a GET.
    """
    token = rest.conn_secret(ctx, "token")
    base_url = rest.conn_field(ctx, "base_url", DEFAULT_BASE_URL)
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        headers["Content-Type"] = JSON_CONTENT_TYPE
        payload = {k: v for k, v in body.items() if v is not None}
        response = await rest.request(
            ctx,
            "POST",
            method,
            base_url=base_url,
            headers=headers,
            content=json.dumps(payload).encode(),
            service="Slack",
        )
    else:
        response = await rest.request(
            ctx, "GET", method, base_url=base_url, headers=headers, params=query, service="Slack"
        )
    answer = response.body
    if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
        text = answer if isinstance(answer, str) else json.dumps(answer, default=str)
        raise StepFailure(
            errors.ACTION_ERROR,
            f"Slack {method}: the answer is not a Slack Web API response "
            "(is the connection's base_url right?)",
            {"status": response.status, "body": text[:2000]},
            retryable=False,
        )
    if answer["ok"] or answer.get("error") in accept:
        return answer
    raise slack_failure(method, answer, response.headers)


def _warnings(answer: dict[str, Any]) -> list[str]:
    found: list[str] = []
    if isinstance(answer.get("warning"), str):
        found.extend(w for w in answer["warning"].split(",") if w)
    meta = answer.get("response_metadata")
    if isinstance(meta, dict) and isinstance(meta.get("warnings"), list):
        found.extend(str(w) for w in meta["warnings"] if str(w) not in found)
    return found


def _obj(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _content(params: Any) -> dict[str, Any]:
    return {"text": params.text, "blocks": params.blocks, "attachments": params.attachments}


def _post_options(params: Any) -> dict[str, Any]:
    return {
        "unfurl_links": params.unfurl_links,
        "unfurl_media": params.unfurl_media,
        "mrkdwn": params.mrkdwn,
        "username": params.username,
        "icon_emoji": params.icon_emoji,
        "icon_url": params.icon_url,
    }


def _message_output(answer: dict[str, Any], channel: str) -> SlackMessageOutput:
    message = _obj(answer.get("message"))
    return SlackMessageOutput(
        channel=str(answer.get("channel") or channel),
        ts=str(answer.get("ts") or message.get("ts") or ""),
        thread_ts=message.get("thread_ts"),
        message=message,
        warnings=_warnings(answer),
    )


async def post_message(ctx: ActionContext, params: PostMessageInput) -> SlackMessageOutput:
    body = {
        "channel": params.channel,
        **_content(params),
        **_post_options(params),
        "thread_ts": params.thread_ts,
        "reply_broadcast": params.reply_broadcast,
    }
    answer = await call(ctx, "chat.postMessage", body=body)
    return _message_output(answer, params.channel)


async def reply_in_thread(ctx: ActionContext, params: ReplyInThreadInput) -> SlackMessageOutput:
    body = {
        "channel": params.channel,
        "thread_ts": params.thread_ts,
        **_content(params),
        **_post_options(params),
        "reply_broadcast": params.reply_broadcast,
    }
    answer = await call(ctx, "chat.postMessage", body=body)
    out = _message_output(answer, params.channel)
    if out.thread_ts is None:
        out.thread_ts = params.thread_ts
    return out


async def update_message(ctx: ActionContext, params: UpdateMessageInput) -> UpdateMessageOutput:
    body = {"channel": params.channel, "ts": params.ts, **_content(params)}
    answer = await call(ctx, "chat.update", body=body)
    message = _obj(answer.get("message"))
    return UpdateMessageOutput(
        channel=str(answer.get("channel") or params.channel),
        ts=str(answer.get("ts") or params.ts),
        text=answer.get("text", message.get("text")),
        message=message,
        warnings=_warnings(answer),
    )


async def add_reaction(ctx: ActionContext, params: AddReactionInput) -> ReactionOutput:
    body = {"channel": params.channel, "timestamp": params.timestamp, "name": params.name}
    answer = await call(ctx, "reactions.add", body=body, accept=frozenset({"already_reacted"}))
    return ReactionOutput(
        channel=params.channel,
        timestamp=params.timestamp,
        name=params.name,
        already_reacted=not answer["ok"],
    )


async def lookup_user_by_email(ctx: ActionContext, params: LookupUserInput) -> SlackUserOutput:
    accept = frozenset() if params.fail_if_not_found else frozenset({"users_not_found"})
    answer = await call(ctx, "users.lookupByEmail", query={"email": params.email}, accept=accept)
    user = answer.get("user")
    if not answer["ok"] or not isinstance(user, dict):
        return SlackUserOutput(found=False, email=params.email)
    profile = _obj(user.get("profile"))
    return SlackUserOutput(
        found=True,
        id=user.get("id"),
        team_id=user.get("team_id"),
        name=user.get("name"),
        real_name=user.get("real_name") or profile.get("real_name"),
        display_name=profile.get("display_name"),
        email=profile.get("email") or params.email,
        tz=user.get("tz"),
        tz_label=user.get("tz_label"),
        tz_offset=user.get("tz_offset"),
        deleted=user.get("deleted"),
        is_bot=user.get("is_bot"),
        is_admin=user.get("is_admin"),
        is_owner=user.get("is_owner"),
        is_restricted=user.get("is_restricted"),
    )
