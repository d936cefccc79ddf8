"""The Slack integration: post, reply, update, react, look a user up (Slack Web API).

This module only declares the connection type and the actions (models,
options classes); the calls live in `_impl.py`, imported on first use, so
that looking an action up (inside the workflow sandbox, in `switchyard
validate`) never imports httpx.

Slack answers most errors with HTTP 200 and `{"ok": false, "error": "..."}`;
`_impl.py` maps those codes the way `REST_ERRORS` maps the equivalent HTTP
statuses (auth codes as 401/403, `ratelimited` as 429, the rest as another
4xx), so the declared mapping stays `REST_ERRORS`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from switchyard.actions.sdk import REST_ERRORS, ActionContext, action
from switchyard.connections.types import ConnectionType, FieldSpec, register_connection_type
from switchyard.engine.options import READ, WRITE_IDEMPOTENT, WRITE_ONCE

__all__ = [
    "DEFAULT_BASE_URL",
    "SLACK",
    "AddReactionInput",
    "LookupUserInput",
    "PostMessageInput",
    "ReactionOutput",
    "ReplyInThreadInput",
    "SlackMessageOutput",
    "SlackUserOutput",
    "UpdateMessageInput",
    "UpdateMessageOutput",
]

DEFAULT_BASE_URL = "https://slack.com/api"
GROUP = "Slack"

SLACK = register_connection_type(
    ConnectionType(
        name="slack",
        description="A Slack workspace, through the Web API with a bot token (xoxb-...).",
        fields=(
            FieldSpec(
                "base_url",
                "Web API base URL (a proxy or a test server)",
                default=DEFAULT_BASE_URL,
            ),
            FieldSpec(
                "allow_private_metadata",
                "allow link-local and cloud metadata addresses",
                type="boolean",
                default=False,
            ),
            FieldSpec("ca_cert", "PEM CA bundle trusted for this API (private PKI)"),
            FieldSpec(
                "token",
                "bot token, sent as `Authorization: Bearer`",
                secret=True,
                required=True,
            ),
        ),
    )
)

_ERRORS_DOC = (
    "\n\n**Errors.** HTTP statuses map as for every REST integration (401/403 "
    "`PermissionDenied`; 408/429/5xx `HttpServerError`, retried, `Retry-After` "
    "honoured; other 4xx `HttpClientError`). Slack's HTTP 200 answers with "
    '`{"ok": false, "error": code}` map too: `invalid_auth`, `not_authed`, '
    "`account_inactive`, `token_revoked`, `token_expired`, `missing_scope`, "
    "`no_permission` (and similar) are `PermissionDenied` (not retried); "
    "`ratelimited` is `HttpServerError` (retried after `Retry-After`); "
    "`internal_error`, `fatal_error`, `service_unavailable`, `request_timeout` "
    "are `HttpServerError`; any other code (`channel_not_found`, `msg_too_long`, "
    "`invalid_blocks`, ...) is `HttpClientError`, not retried. The Slack code is "
    "in the message and in `details.error` (with `needed`/`provided` scopes and "
    "Slack's explanation messages when it sends them)."
)


def _text(description: str, **kwargs: Any) -> Any:
    return Field(default=None, description=description, **kwargs)


class _Content(BaseModel):
    """What a message shows: text, Block Kit blocks and/or legacy attachments."""

    text: str | None = _text(
        "message text (mrkdwn); with `blocks`, it is the notification/fallback text"
    )
    blocks: list[dict[str, Any]] | None = _text(
        "Block Kit blocks (at most 50), e.g. `[{type: section, text: {type: mrkdwn, text: hi}}]`",
        max_length=50,
    )
    attachments: list[dict[str, Any]] | None = _text("legacy secondary attachments")

    @model_validator(mode="after")
    def _some_content(self) -> Any:
        if not self.text and not self.blocks and not self.attachments:
            raise ValueError("give `text`, `blocks` or `attachments`")
        return self


class _PostOptions(_Content):
    unfurl_links: bool | None = _text("unfurl links to primarily text-based content")
    unfurl_media: bool | None = _text("unfurl links to media content")
    mrkdwn: bool | None = _text("false: send `text` without mrkdwn formatting")
    username: str | None = _text("bot's display name for this message (chat:write.customize)")
    icon_emoji: str | None = _text("emoji used as the bot's icon, e.g. `:robot_face:`")
    icon_url: str | None = _text("image URL used as the bot's icon")


class PostMessageInput(_PostOptions):
    """Parameters of `slack.post_message` (chat.postMessage)."""

    model_config = ConfigDict(extra="forbid", title="slack.post_message input")

    channel: str = Field(
        min_length=1, description="channel, private group or DM id (`C0123...`) or `#name`"
    )
    thread_ts: str | None = _text("`ts` of a parent message: post as a reply in its thread")
    reply_broadcast: bool | None = _text("with `thread_ts`: also show the reply in the channel")


class ReplyInThreadInput(_PostOptions):
    """Parameters of `slack.reply_in_thread` (chat.postMessage with `thread_ts`)."""

    model_config = ConfigDict(extra="forbid", title="slack.reply_in_thread input")

    channel: str = Field(min_length=1, description="channel id of the parent message")
    thread_ts: str = Field(
        min_length=1,
        description="`ts` of the parent message (use the parent's ts, not a reply's)",
    )
    reply_broadcast: bool = Field(default=False, description="also show the reply in the channel")


class UpdateMessageInput(_Content):
    """Parameters of `slack.update_message` (chat.update)."""

    model_config = ConfigDict(extra="forbid", title="slack.update_message input")

    channel: str = Field(min_length=1, description="channel id holding the message")
    ts: str = Field(min_length=1, description="`ts` of the message to replace")


class AddReactionInput(BaseModel):
    """Parameters of `slack.add_reaction` (reactions.add)."""

    model_config = ConfigDict(extra="forbid", title="slack.add_reaction input")

    channel: str = Field(min_length=1, description="channel id holding the message")
    timestamp: str = Field(min_length=1, description="`ts` of the message to react to")
    name: str = Field(
        min_length=1, description="emoji name, with or without colons (`eyes`, `:eyes:`)"
    )

    @field_validator("name")
    @classmethod
    def _strip_colons(cls, value: str) -> str:
        stripped = value.strip().strip(":")
        if not stripped:
            raise ValueError("an emoji name is required")
        return stripped


class LookupUserInput(BaseModel):
    """Parameters of `slack.lookup_user_by_email` (users.lookupByEmail)."""

    model_config = ConfigDict(extra="forbid", title="slack.lookup_user_by_email input")

    email: str = Field(
        min_length=3,
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="the user's registered email address",
    )
    fail_if_not_found: bool = Field(
        default=True,
        description=(
            "true: no such (active) user fails the step with HttpClientError "
            "`users_not_found`; false: return `found: false`"
        ),
    )


class SlackMessageOutput(BaseModel):
    """What `slack.post_message` and `slack.reply_in_thread` return."""

    model_config = ConfigDict(title="slack message output")

    channel: str = Field(description="channel id the message went to")
    ts: str = Field(description="the message's timestamp (its id within the channel)")
    thread_ts: str | None = Field(
        default=None, description="the thread's parent ts when the message is a reply"
    )
    message: dict[str, Any] = Field(
        default_factory=dict, description="the message object as Slack stored it"
    )
    warnings: list[str] = Field(default_factory=list, description="Slack's warnings, if any")


class UpdateMessageOutput(BaseModel):
    """What `slack.update_message` returns."""

    model_config = ConfigDict(title="slack.update_message output")

    channel: str
    ts: str
    text: str | None = None
    message: dict[str, Any] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)


class ReactionOutput(BaseModel):
    """What `slack.add_reaction` returns."""

    model_config = ConfigDict(title="slack.add_reaction output")

    channel: str
    timestamp: str
    name: str
    already_reacted: bool = Field(
        description="true when the reaction was already there (nothing changed)"
    )


class SlackUserOutput(BaseModel):
    """What `slack.lookup_user_by_email` returns."""

    model_config = ConfigDict(title="slack.lookup_user_by_email output")

    found: bool
    id: str | None = Field(default=None, description="user id (`U0123...`/`W0123...`)")
    team_id: str | None = None
    name: str | None = Field(default=None, description="username")
    real_name: str | None = None
    display_name: str | None = None
    email: str | None = None
    tz: str | None = Field(default=None, description="IANA time zone, e.g. `Europe/Paris`")
    tz_label: str | None = None
    tz_offset: int | None = Field(default=None, description="offset from UTC in seconds")
    deleted: bool | None = None
    is_bot: bool | None = None
    is_admin: bool | None = None
    is_owner: bool | None = None
    is_restricted: bool | None = None


@action(
    "slack.post_message",
    input=PostMessageInput,
    output=SlackMessageOutput,
    # chat.postMessage has no idempotency key: a retry after a timed-out
    # attempt that did post would post the message twice.
    options=WRITE_ONCE,
    connection_type="slack",
    errors=REST_ERRORS,
    group=GROUP,
    title="Post a message",
    description=(
        "Posts a message to a channel with "
        "[chat.postMessage](https://docs.slack.dev/reference/methods/chat.postMessage) "
        "(scope `chat:write`): `text` and/or Block Kit `blocks` (and legacy "
        "`attachments`); `thread_ts` posts it as a thread reply (`reply_broadcast` "
        "also shows it in the channel); `unfurl_links`/`unfurl_media` control "
        "previews.\n\nOutput: `{channel, ts, thread_ts, message, warnings}`; "
        "`ts` identifies the message for `slack.update_message`, "
        "`slack.reply_in_thread` and `slack.add_reaction`.\n\nOptions class "
        "`write_once`: Slack has no idempotency key, so a retry could post twice." + _ERRORS_DOC
    ),
    examples=(
        {"channel": "C0123456789", "text": "Deploy of *api* finished :rocket:"},
        {
            "channel": "#incidents",
            "text": "{{ Trigger.event.title }}",
            "blocks": [
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": "*{{ Trigger.event.title }}*"},
                }
            ],
            "unfurl_links": False,
        },
    ),
)
async def post_message(ctx: ActionContext, params: PostMessageInput) -> SlackMessageOutput:
    from switchyard.actions.slack._impl import post_message as impl

    return await impl(ctx, params)


@action(
    "slack.reply_in_thread",
    input=ReplyInThreadInput,
    output=SlackMessageOutput,
    # Same call as post_message: each attempt adds a reply, no dedup key.
    options=WRITE_ONCE,
    connection_type="slack",
    errors=REST_ERRORS,
    group=GROUP,
    title="Reply in a thread",
    description=(
        "Posts a reply in the thread of a message (chat.postMessage with the "
        "required `thread_ts`, scope `chat:write`); `reply_broadcast: true` also "
        "shows it in the channel.\n\nOutput: `{channel, ts, thread_ts, message, "
        "warnings}`.\n\nOptions class `write_once`: a retry could reply twice." + _ERRORS_DOC
    ),
    examples=(
        {
            "channel": "C0123456789",
            "thread_ts": "{{ Steps.announce.output.ts }}",
            "text": "Rolled back to {{ Steps.rollback.output.version }}",
        },
    ),
)
async def reply_in_thread(ctx: ActionContext, params: ReplyInThreadInput) -> SlackMessageOutput:
    from switchyard.actions.slack._impl import reply_in_thread as impl

    return await impl(ctx, params)


@action(
    "slack.update_message",
    input=UpdateMessageInput,
    output=UpdateMessageOutput,
    # chat.update replaces the message's content: doing it twice leaves the
    # same message, so retries are safe.
    options=WRITE_IDEMPOTENT,
    connection_type="slack",
    errors=REST_ERRORS,
    group=GROUP,
    title="Update a message",
    description=(
        "Replaces the text/blocks/attachments of a message the app posted with "
        "[chat.update](https://docs.slack.dev/reference/methods/chat.update) "
        "(scope `chat:write`).\n\nOutput: `{channel, ts, text, message, warnings}`."
        "\n\nOptions class `write_idempotent`: setting the same content twice "
        "gives the same message." + _ERRORS_DOC
    ),
    examples=(
        {
            "channel": "C0123456789",
            "ts": "{{ Steps.announce.output.ts }}",
            "text": ":white_check_mark: Deploy finished",
        },
    ),
)
async def update_message(ctx: ActionContext, params: UpdateMessageInput) -> UpdateMessageOutput:
    from switchyard.actions.slack._impl import update_message as impl

    return await impl(ctx, params)


@action(
    "slack.add_reaction",
    input=AddReactionInput,
    output=ReactionOutput,
    # A reaction is a set member: Slack answers `already_reacted` to a
    # repeat, which counts as success, so retries are safe.
    options=WRITE_IDEMPOTENT,
    connection_type="slack",
    errors=REST_ERRORS,
    group=GROUP,
    title="Add a reaction",
    description=(
        "Adds an emoji reaction to a message with "
        "[reactions.add](https://docs.slack.dev/reference/methods/reactions.add) "
        "(scope `reactions:write`). A reaction that is already there "
        "(`already_reacted`) is a success: the action is idempotent.\n\nOutput: "
        "`{channel, timestamp, name, already_reacted}`.\n\nOptions class "
        "`write_idempotent`." + _ERRORS_DOC
    ),
    examples=({"channel": "C0123456789", "timestamp": "{{ Trigger.event.ts }}", "name": "eyes"},),
)
async def add_reaction(ctx: ActionContext, params: AddReactionInput) -> ReactionOutput:
    from switchyard.actions.slack._impl import add_reaction as impl

    return await impl(ctx, params)


@action(
    "slack.lookup_user_by_email",
    input=LookupUserInput,
    output=SlackUserOutput,
    options=READ,
    connection_type="slack",
    errors=REST_ERRORS,
    group=GROUP,
    title="Look up a user by email",
    description=(
        "Finds a workspace member by email with "
        "[users.lookupByEmail](https://docs.slack.dev/reference/methods/users.lookupByEmail) "
        "(scope `users:read.email`; deactivated users are not found).\n\nOutput: "
        "`{found, id, team_id, name, real_name, display_name, email, tz, tz_label, "
        "tz_offset, deleted, is_bot, is_admin, is_owner, is_restricted}`; use `id` "
        "to mention the user (`<@{{ Steps.who.output.id }}>`). With "
        "`fail_if_not_found: false`, an unknown email gives `{found: false}`.\n\n"
        "Options class `read`." + _ERRORS_DOC
    ),
    examples=(
        {"email": "oncall@example.com"},
        {"email": "{{ Trigger.event.author_email }}", "fail_if_not_found": False},
    ),
)
async def lookup_user_by_email(ctx: ActionContext, params: LookupUserInput) -> SlackUserOutput:
    from switchyard.actions.slack._impl import lookup_user_by_email as impl

    return await impl(ctx, params)
