"""Live cases of the Teams actions, and the fake Teams webhook they (and test_teams) use.

The fake checks the body the way the Teams webhook does (a `message` with
one Adaptive Card attachment whose content is an AdaptiveCard with a
version and a body of typed elements; `400 Bad payload received by generic
incoming webhook.` otherwise) and answers like an incoming webhook (`200`,
body `1`) or a Workflows URL (`202`, empty body, `x-ms-workflow-run-id`).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from switchyard.connections import Connection

from . import SECRET, Live, LiveCase

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
RUN_ID = "08584612345678901234567890123CU01"

Mode = Literal["incoming", "workflows", "reflect", "throttled"]


def teams_connection(url: str) -> Connection:
    return Connection("teams", "teams_webhook", secrets={"url": url})


class TeamsFake:
    """A Teams webhook at `/webhookb2/<token>` on a pytest-httpserver.

    Attributes:
        url: The webhook URL (the connection's secret).
        posts: Every JSON body received.
        mode: `incoming` (200 "1"), `workflows` (202 + run id), `reflect`
            (200, the body is the URL it was called at: for the masking
            check), `throttled` (200 with Teams' embedded HTTP 429 text).
    """

    def __init__(self, server: HTTPServer, token: str = SECRET, mode: Mode = "incoming") -> None:
        self.path = f"/webhookb2/{token}"
        self.url = server.url_for(self.path)
        self.mode = mode
        self.posts: list[dict[str, Any]] = []
        server.expect_request(self.path, method="POST").respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        ctype = request.headers.get("Content-Type", "").split(";")[0].strip()
        try:
            body = json.loads(request.get_data(as_text=True))
        except ValueError:
            body = None
        if ctype != "application/json" or not isinstance(body, dict) or _problem(body):
            return Response(
                "Bad payload received by generic incoming webhook.", 400, mimetype="text/plain"
            )
        self.posts.append(body)
        if self.mode == "workflows":
            return Response("", 202, {"x-ms-workflow-run-id": RUN_ID})
        if self.mode == "reflect":
            return Response(request.url, 200, mimetype="text/plain")
        if self.mode == "throttled":
            return Response(
                "Webhook message delivery failed with error: Microsoft Teams endpoint "
                "returned HTTP error 429 with ContextId tcid=0,server=msgapi-eus-1,cv=abc.0..",
                200,
                mimetype="text/plain",
            )
        return Response("1", 200, mimetype="text/plain")


def _problem(body: dict[str, Any]) -> str | None:
    """What the webhook would reject in `body` (None when it is a valid card message)."""
    if body.get("type") != "message":
        return "type must be message"
    attachments = body.get("attachments")
    if not isinstance(attachments, list) or len(attachments) != 1:
        return "exactly one attachment"
    attachment = attachments[0]
    if not isinstance(attachment, dict) or attachment.get("contentType") != CARD_TYPE:
        return "contentType must be the adaptive card type"
    card = attachment.get("content")
    if not isinstance(card, dict) or card.get("type") != "AdaptiveCard":
        return "content must be an AdaptiveCard"
    if not isinstance(card.get("version"), str):
        return "the card needs a version"
    elements = card.get("body", [])
    if not isinstance(elements, list) or not all(
        isinstance(e, dict) and isinstance(e.get("type"), str) for e in elements
    ):
        return "body elements need a type"
    for action in card.get("actions", []):
        if not isinstance(action, dict) or not isinstance(action.get("type"), str):
            return "actions need a type"
    return None


def _message_case(server: HTTPServer) -> Live:
    fake = TeamsFake(server, mode="reflect")
    return Live({"title": "Deploy", "text": "api v2 is out"}, teams_connection(fake.url))


def _card_case(server: HTTPServer) -> Live:
    fake = TeamsFake(server, mode="reflect")
    card = {"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": "hi"}]}
    return Live({"card": card}, teams_connection(fake.url))


CASES: dict[str, LiveCase] = {
    "teams.post_message": _message_case,
    "teams.post_adaptive_card": _card_case,
}
