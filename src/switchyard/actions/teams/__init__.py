"""The Microsoft Teams integration: post to a channel through a webhook.

Works with a Teams incoming webhook (`https://<tenant>.webhook.office.com/webhookb2/...`)
and with a Workflows (Power Automate) "post to a channel when a webhook
request is received" URL. The URL itself is the credential, so it is the
connection's secret `url`, masked (`***`) in outputs and errors.

This module only declares the connection type and the actions; the request
lives in `_impl.py`, imported on first use (it imports httpx).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from switchyard.actions.sdk import REST_ERRORS, ActionContext, action
from switchyard.connections.types import ConnectionType, FieldSpec, register_connection_type
from switchyard.engine.options import WRITE_ONCE

__all__ = [
    "ADAPTIVE_CARD_VERSION",
    "TEAMS_WEBHOOK",
    "Fact",
    "LinkButton",
    "PostAdaptiveCardInput",
    "PostMessageInput",
    "TeamsPostOutput",
]

ADAPTIVE_CARD_VERSION = "1.4"
GROUP = "Microsoft Teams"

TEAMS_WEBHOOK = register_connection_type(
    ConnectionType(
        name="teams_webhook",
        description=(
            "A Microsoft Teams channel webhook (incoming webhook or Workflows). "
            "The URL is the credential: anyone holding it can post."
        ),
        fields=(
            FieldSpec(
                "allow_private_metadata",
                "allow link-local and cloud metadata addresses",
                type="boolean",
                default=False,
            ),
            FieldSpec("ca_cert", "PEM CA bundle trusted for the webhook host (private PKI)"),
            FieldSpec("url", "the webhook URL Teams or Workflows gave", secret=True, required=True),
        ),
    )
)

_ERRORS_DOC = (
    "\n\n**Errors.** HTTP 401/403 `PermissionDenied`; 408/429/5xx "
    "`HttpServerError` (retried when the step allows, `Retry-After` honoured); "
    "other 4xx (e.g. `400 Bad payload received by generic incoming webhook.`, "
    "whose text is in the message) `HttpClientError`. Teams connectors sometimes "
    "answer HTTP 200 with a body like `Microsoft Teams endpoint returned HTTP "
    "error 429`: the embedded status is mapped the same way. The webhook URL is "
    "masked (`***`) wherever it would appear, however it is written; error "
    "details name only its host (`webhook_host`)."
)


class Fact(BaseModel):
    """One line of a fact set: a label and its value."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(description="label, e.g. `Service`")
    value: str = Field(description="value, e.g. `api`")


class LinkButton(BaseModel):
    """A button opening a URL."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, description="button text")
    url: str = Field(
        min_length=1, pattern=r"^https?://", description="the http(s) URL the button opens"
    )


Color = Literal["default", "accent", "good", "warning", "attention"]


class PostMessageInput(BaseModel):
    """Parameters of `teams.post_message`."""

    model_config = ConfigDict(extra="forbid", title="teams.post_message input")

    title: str | None = Field(default=None, description="heading, shown large and bold")
    text: str = Field(min_length=1, description="message body (Adaptive Card Markdown subset)")
    color: Color | None = Field(
        default=None,
        description=(
            "theme colour of the heading band: `good` (green), `warning` (amber), "
            "`attention` (red), `accent` (blue) or `default` (Adaptive Cards use "
            "these semantic colours, not hex codes)"
        ),
    )
    facts: dict[str, str | int | float | bool] | list[Fact] | None = Field(
        default=None,
        description="label/value pairs shown as a fact set: a mapping or a list of {title, value}",
    )
    buttons: list[LinkButton] | None = Field(
        default=None, max_length=6, description="link buttons: [{title, url}] (at most 6)"
    )
    full_width: bool = Field(default=False, description="render the card at full width")


class PostAdaptiveCardInput(BaseModel):
    """Parameters of `teams.post_adaptive_card`."""

    model_config = ConfigDict(extra="forbid", title="teams.post_adaptive_card input")

    card: dict[str, Any] = Field(
        description=(
            "the Adaptive Card object (`{type: AdaptiveCard, version, body, actions}`); "
            f"`version` defaults to {ADAPTIVE_CARD_VERSION} and `$schema` is added when absent"
        )
    )

    @field_validator("card")
    @classmethod
    def _is_card(cls, card: dict[str, Any]) -> dict[str, Any]:
        if card.get("type") != "AdaptiveCard":
            raise ValueError('the card must be an object with "type": "AdaptiveCard"')
        for key in ("body", "actions"):
            if key in card and not isinstance(card[key], list):
                raise ValueError(f"the card's {key!r} must be a list")
        return card


class TeamsPostOutput(BaseModel):
    """What the Teams actions return."""

    model_config = ConfigDict(title="teams post output")

    status: int = Field(description="HTTP status: 200 (incoming webhook) or 202 (Workflows)")
    response: str = Field(description="the answer's body (`1` from an incoming webhook)")
    workflow_run_id: str | None = Field(
        default=None, description="Workflows (Power Automate) run id, when the answer names one"
    )


@action(
    "teams.post_message",
    input=PostMessageInput,
    output=TeamsPostOutput,
    # A webhook post has no idempotency key: a retry after a timed-out
    # attempt that did post would post the message twice.
    options=WRITE_ONCE,
    connection_type="teams_webhook",
    errors=REST_ERRORS,
    group=GROUP,
    title="Post a message",
    description=(
        "Posts a message to the channel of a Teams webhook as an Adaptive Card "
        f"{ADAPTIVE_CARD_VERSION} message (`{{type: message, attachments: [{{contentType: "
        "application/vnd.microsoft.card.adaptive, content: <card>}]}`): an optional "
        "`title` with a theme `color`, the `text`, optional `facts` and link "
        "`buttons`.\n\nOutput: `{status, response, workflow_run_id}`.\n\nOptions "
        "class `write_once`: webhooks have no idempotency key, so a retry could "
        "post twice." + _ERRORS_DOC
    ),
    examples=(
        {"text": "Deploy of **api** finished"},
        {
            "title": "{{ Trigger.event.title }}",
            "text": "{{ Trigger.event.description }}",
            "color": "attention",
            "facts": {"Service": "api", "Severity": "critical"},
            "buttons": [{"title": "Open runbook", "url": "https://runbooks.example.com/api"}],
        },
    ),
)
async def post_message(ctx: ActionContext, params: PostMessageInput) -> TeamsPostOutput:
    from switchyard.actions.teams._impl import post_message as impl

    return await impl(ctx, params)


@action(
    "teams.post_adaptive_card",
    input=PostAdaptiveCardInput,
    output=TeamsPostOutput,
    # Same as post_message: no idempotency key, a retry could post twice.
    options=WRITE_ONCE,
    connection_type="teams_webhook",
    errors=REST_ERRORS,
    group=GROUP,
    title="Post an Adaptive Card",
    description=(
        "Posts a full Adaptive Card (designed e.g. with the Adaptive Cards "
        "Designer) to the channel of a Teams webhook, wrapped in a `message` "
        "with one `application/vnd.microsoft.card.adaptive` attachment. The card "
        'must have `"type": "AdaptiveCard"`.\n\nOutput: `{status, response, '
        "workflow_run_id}`.\n\nOptions class `write_once`: a retry could post "
        "twice." + _ERRORS_DOC
    ),
    examples=(
        {
            "card": {
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [{"type": "TextBlock", "text": "{{ Trigger.event.title }}", "wrap": True}],
            }
        },
    ),
)
async def post_adaptive_card(ctx: ActionContext, params: PostAdaptiveCardInput) -> TeamsPostOutput:
    from switchyard.actions.teams._impl import post_adaptive_card as impl

    return await impl(ctx, params)
