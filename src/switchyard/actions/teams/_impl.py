"""Teams webhook posts (imported by the actions on first use; imports httpx)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx

from switchyard import errors
from switchyard.actions import rest
from switchyard.actions.sdk import ActionContext
from switchyard.actions.teams import (
    ADAPTIVE_CARD_VERSION,
    PostAdaptiveCardInput,
    PostMessageInput,
    TeamsPostOutput,
)
from switchyard.errors import StepFailure

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
#: How Teams connectors report a failure inside an HTTP 200 answer.
_EMBEDDED_STATUS = re.compile(r"returned HTTP error (\d{3})", re.IGNORECASE)
_DELIVERY_FAILED = re.compile(r"delivery failed|failed with error", re.IGNORECASE)


def build_message_card(params: PostMessageInput) -> dict[str, Any]:
    """The Adaptive Card for `teams.post_message`."""
    body: list[dict[str, Any]] = []
    if params.title:
        heading: dict[str, Any] = {
            "type": "TextBlock",
            "text": params.title,
            "size": "Large",
            "weight": "Bolder",
            "wrap": True,
        }
        if params.color:
            heading["color"] = params.color
            body.append(
                {
                    "type": "Container",
                    "style": _container_style(params.color),
                    "bleed": True,
                    "items": [heading],
                }
            )
        else:
            body.append(heading)
    body.append({"type": "TextBlock", "text": params.text, "wrap": True})
    if params.facts:
        if isinstance(params.facts, dict):
            facts = [{"title": k, "value": _fact_text(v)} for k, v in params.facts.items()]
        else:
            facts = [{"title": f.title, "value": f.value} for f in params.facts]
        body.append({"type": "FactSet", "facts": facts})
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": ADAPTIVE_CARD_VERSION,
        "body": body,
    }
    if params.buttons:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": b.title, "url": b.url} for b in params.buttons
        ]
    if params.full_width:
        card["msteams"] = {"width": "Full"}
    return card


def _container_style(color: str) -> str:
    # Container styles and TextBlock colours share these names, except that
    # the neutral container style is `emphasis` rather than `default`.
    return "emphasis" if color == "default" else color


def _fact_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def message_payload(card: dict[str, Any]) -> dict[str, Any]:
    """The webhook body carrying one Adaptive Card."""
    return {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card}],
    }


async def post_message(ctx: ActionContext, params: PostMessageInput) -> TeamsPostOutput:
    return await send(ctx, message_payload(build_message_card(params)))


async def post_adaptive_card(ctx: ActionContext, params: PostAdaptiveCardInput) -> TeamsPostOutput:
    card = dict(params.card)
    card.setdefault("version", ADAPTIVE_CARD_VERSION)
    card.setdefault("$schema", CARD_SCHEMA)
    return await send(ctx, message_payload(card))


async def send(ctx: ActionContext, payload: dict[str, Any]) -> TeamsPostOutput:
    """POST `payload` to the connection's webhook URL.

    The URL is the credential. The activity masks the connection's secret
    wherever it appears verbatim; any other rendering of it (httpx's
    normalised URL in an error message, the bare path in a server's answer)
    is first turned back into the verbatim secret so that it is masked too.
    Errors name only the webhook's host (`details.webhook_host`).
    """
    url = rest.conn_secret(ctx, "url")
    unify = _unifier(url)
    host = _host(url)
    try:
        response = await rest.request(ctx, "POST", url, json=payload, service="Teams webhook")
    except StepFailure as failure:
        details = unify(failure.details)
        message = unify(failure.message)
        if isinstance(details, dict):
            # Teams explains a refusal in a text body (`Summary or Text is
            # required.`), which the REST client leaves out of its message.
            said = details.get("body")
            if isinstance(said, str) and said.strip() and said.strip()[:300] not in message:
                message += f": {said.strip()[:300]}"
            details = {**details, "webhook_host": host}
        raise StepFailure(
            failure.type,
            message,
            details,
            retryable=failure.retryable,
            retry_after=failure.retry_after,
        ) from None
    text = unify(response.body if isinstance(response.body, str) else str(response.body))
    embedded = _EMBEDDED_STATUS.search(text)
    if embedded is not None and int(embedded.group(1)) >= 400:
        status = int(embedded.group(1))
        raise rest.status_failure(
            status,
            f"Teams webhook answered HTTP {response.status} but reported HTTP error "
            f"{status}: {text[:300]}",
            details={"answer_status": response.status, "body": text[:2000], "webhook_host": host},
        )
    if _DELIVERY_FAILED.search(text):
        raise StepFailure(
            errors.ACTION_ERROR,
            f"Teams webhook reported a failure: {text[:300]}",
            {"status": response.status, "body": text[:2000], "webhook_host": host},
        )
    return TeamsPostOutput(
        status=response.status,
        response=text[:1000],
        workflow_run_id=response.headers.get("x-ms-workflow-run-id"),
    )


def _unifier(url: str) -> Callable[[Any], Any]:
    """A function turning every rendering of `url` inside a value into `url` itself."""
    forms = {url}
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        parsed = None
    if parsed is not None:
        forms.add(str(parsed))
        path = parsed.raw_path.decode("ascii", "replace")
        if len(path.strip("/")) >= 8:  # a path short enough to be common carries no secret
            forms.add(path)
    # One pass with the longest forms first: a form inside another (the path
    # inside the URL) is never replaced twice.
    pattern = re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))

    def unify(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(lambda _: url, value)
        if isinstance(value, dict):
            return {k: unify(v) for k, v in value.items()}
        if isinstance(value, list):
            return [unify(v) for v in value]
        return value

    return unify


def _host(url: str) -> str | None:
    try:
        return httpx.URL(url).host or None
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
