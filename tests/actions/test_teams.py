"""Teams actions against the fake Teams webhook of live/teams.py, through the activity."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from temporalio.exceptions import ApplicationError

from switchyard import errors
from switchyard.actions import get_action
from switchyard.actions.teams import TEAMS_WEBHOOK
from switchyard.connections import Connection
from switchyard.engine.options import WRITE_ONCE

from .conftest import RunAction, error_detail
from .live import SECRET
from .live.teams import CARD_TYPE, RUN_ID, TeamsFake, teams_connection


async def run(run_action: RunAction, conn: Connection, action: str, params: dict[str, Any]) -> Any:
    result = await run_action(action, params, connection=conn.name, connections=[conn])
    return result.output


async def fail(
    run_action: RunAction, conn: Connection, action: str, params: dict[str, Any]
) -> ApplicationError:
    with pytest.raises(ApplicationError) as info:
        await run(run_action, conn, action, params)
    return info.value


def _card(body: dict[str, Any]) -> dict[str, Any]:
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == CARD_TYPE
    return attachment["content"]


def test_connection_type_and_options() -> None:
    fields = {f.name: f for f in TEAMS_WEBHOOK.fields}
    assert fields["url"].secret and fields["url"].required
    assert fields["allow_private_metadata"].default is False and "ca_cert" in fields
    assert TEAMS_WEBHOOK.check({}, {}) == ["missing secret 'url'"]
    assert get_action("teams.post_message").options_class({}) == WRITE_ONCE
    assert get_action("teams.post_adaptive_card").options_class({}) == WRITE_ONCE


async def test_post_message_builds_an_adaptive_card(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = TeamsFake(httpserver)
    out = await run(
        run_action,
        teams_connection(fake.url),
        "teams.post_message",
        {
            "title": "API down",
            "text": "5xx rate above **5%**",
            "color": "attention",
            "facts": {"Service": "api", "Replicas": 3, "Paged": True},
            "buttons": [{"title": "Runbook", "url": "https://runbooks.example.com/api"}],
            "full_width": True,
        },
    )
    assert out == {"status": 200, "response": "1", "workflow_run_id": None}
    card = _card(fake.posts[-1])
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    header, text, facts = card["body"]
    assert header["type"] == "Container" and header["style"] == "attention"
    (title,) = header["items"]
    assert title == {
        "type": "TextBlock",
        "text": "API down",
        "size": "Large",
        "weight": "Bolder",
        "wrap": True,
        "color": "attention",
    }
    assert text == {"type": "TextBlock", "text": "5xx rate above **5%**", "wrap": True}
    assert facts == {
        "type": "FactSet",
        "facts": [
            {"title": "Service", "value": "api"},
            {"title": "Replicas", "value": "3"},
            {"title": "Paged", "value": "true"},
        ],
    }
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Runbook", "url": "https://runbooks.example.com/api"}
    ]
    assert card["msteams"] == {"width": "Full"}


async def test_post_message_minimal_card(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = TeamsFake(httpserver)
    await run(
        run_action,
        teams_connection(fake.url),
        "teams.post_message",
        {"text": "hello", "facts": [{"title": "a", "value": "b"}]},
    )
    card = _card(fake.posts[-1])
    assert card["body"] == [
        {"type": "TextBlock", "text": "hello", "wrap": True},
        {"type": "FactSet", "facts": [{"title": "a", "value": "b"}]},
    ]
    assert "actions" not in card and "msteams" not in card


async def test_title_without_colour_and_default_colour(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = TeamsFake(httpserver)
    conn = teams_connection(fake.url)
    await run(run_action, conn, "teams.post_message", {"title": "T", "text": "x"})
    assert _card(fake.posts[-1])["body"][0]["type"] == "TextBlock"
    await run(
        run_action, conn, "teams.post_message", {"title": "T", "text": "x", "color": "default"}
    )
    assert _card(fake.posts[-1])["body"][0]["style"] == "emphasis"


async def test_workflows_webhook_answer(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = TeamsFake(httpserver, mode="workflows")
    out = await run(run_action, teams_connection(fake.url), "teams.post_message", {"text": "hi"})
    assert out == {"status": 202, "response": "", "workflow_run_id": RUN_ID}


@pytest.mark.parametrize(
    "params",
    [
        {"title": "no text"},
        {"text": "x", "color": "#FF0000"},
        {"text": "x", "buttons": [{"title": "b", "url": "javascript:alert(1)"}]},
        {"text": "x", "facts": [{"title": "a"}]},
    ],
)
async def test_post_message_bad_parameters(
    httpserver: HTTPServer, run_action: RunAction, params: dict[str, Any]
) -> None:
    fake = TeamsFake(httpserver)
    exc = await fail(run_action, teams_connection(fake.url), "teams.post_message", params)
    assert exc.type == errors.VALIDATION_ERROR and exc.non_retryable
    assert fake.posts == []


async def test_post_adaptive_card(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = TeamsFake(httpserver, mode="workflows")
    card = {
        "type": "AdaptiveCard",
        "body": [{"type": "TextBlock", "text": "hi"}],
        "actions": [{"type": "Action.OpenUrl", "title": "x", "url": "https://example.com"}],
    }
    out = await run(
        run_action, teams_connection(fake.url), "teams.post_adaptive_card", {"card": card}
    )
    assert out["status"] == 202 and out["workflow_run_id"] == RUN_ID
    sent = _card(fake.posts[-1])
    assert sent == {
        **card,
        "version": "1.4",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
    }
    # A version given by the user is kept.
    await run(
        run_action,
        teams_connection(fake.url),
        "teams.post_adaptive_card",
        {"card": {**card, "version": "1.2"}},
    )
    assert _card(fake.posts[-1])["version"] == "1.2"


@pytest.mark.parametrize(
    "card",
    [
        {"type": "MessageCard", "text": "x"},
        {"body": []},
        {"type": "AdaptiveCard", "body": {"type": "TextBlock"}},
        "not a card",
    ],
)
async def test_post_adaptive_card_checks_the_card(
    httpserver: HTTPServer, run_action: RunAction, card: Any
) -> None:
    fake = TeamsFake(httpserver)
    exc = await fail(
        run_action, teams_connection(fake.url), "teams.post_adaptive_card", {"card": card}
    )
    assert exc.type == errors.VALIDATION_ERROR and exc.non_retryable
    assert fake.posts == []


async def test_bad_payload_is_a_client_error_without_the_url(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = TeamsFake(httpserver)
    card = {"type": "AdaptiveCard", "body": [{"text": "element without a type"}]}
    exc = await fail(
        run_action, teams_connection(fake.url), "teams.post_adaptive_card", {"card": card}
    )
    assert exc.type == errors.HTTP_CLIENT_ERROR and exc.non_retryable
    detail = error_detail(exc)
    assert "Bad payload" in detail["message"]
    assert detail["details"]["status"] == 400
    assert detail["details"]["webhook_host"] == "localhost"
    assert SECRET not in json.dumps(detail)
    assert fake.path not in json.dumps(detail)


async def test_throttled_answer_inside_a_200_is_retryable(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = TeamsFake(httpserver, mode="throttled")
    exc = await fail(run_action, teams_connection(fake.url), "teams.post_message", {"text": "x"})
    assert exc.type == errors.HTTP_SERVER_ERROR and not exc.non_retryable
    detail = error_detail(exc)
    assert detail["details"]["status"] == 429 and detail["details"]["answer_status"] == 200
    assert SECRET not in json.dumps(detail)


async def test_removed_webhook_url_is_masked_however_written(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    httpserver.expect_request(re.compile("^/webhookb2/gone-")).respond_with_data(
        "Not found", 404, content_type="text/plain"
    )
    # httpx writes the host in lower case: the error's URL is not the secret
    # verbatim, and must be masked all the same.
    url = httpserver.url_for(f"/webhookb2/gone-{SECRET}").replace("localhost", "LOCALHOST")
    exc = await fail(run_action, teams_connection(url), "teams.post_message", {"text": "x"})
    assert exc.type == errors.HTTP_CLIENT_ERROR
    detail = error_detail(exc)
    assert detail["details"]["status"] == 404
    assert detail["details"]["url"] == "***"
    assert SECRET not in json.dumps(detail)


async def test_connection_failure_does_not_show_the_url(run_action: RunAction) -> None:
    conn = teams_connection(f"http://127.0.0.1:1/webhookb2/{SECRET}")
    exc = await fail(run_action, conn, "teams.post_message", {"text": "x"})
    assert exc.type == errors.ACTION_ERROR and not exc.non_retryable
    detail = error_detail(exc)
    assert SECRET not in json.dumps(detail)
    assert detail["details"]["webhook_host"] == "127.0.0.1"


async def test_an_answer_echoing_the_url_is_masked(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = TeamsFake(httpserver, mode="reflect")
    out = await run(run_action, teams_connection(fake.url), "teams.post_message", {"text": "x"})
    assert out["response"] == "***"


async def test_missing_url_is_a_validation_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    conn = Connection("teams", "teams_webhook")
    exc = await fail(run_action, conn, "teams.post_message", {"text": "x"})
    assert exc.type == errors.VALIDATION_ERROR and exc.non_retryable
    assert "url" in str(exc)
