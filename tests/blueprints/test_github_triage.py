"""github-issue-triage: a signed GitHub `issues` webhook, an LLM verdict, labels, comment, page."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from switchyard.connections.store import LocalConnectionStore
from switchyard.triggers.signatures import SignatureError

from .conftest import Blueprints, load, summary
from .fakes import SaaS

BLUEPRINT = "github-issue-triage.yaml"
REPO = "acme/checkout"


def issues_event(number: int, title: str, body: str, action: str = "opened") -> dict[str, Any]:
    """An `issues` webhook payload as GitHub sends it (the fields that matter, real shape)."""
    return {
        "action": action,
        "issue": {
            "url": f"https://api.github.com/repos/{REPO}/issues/{number}",
            "html_url": f"https://github.com/{REPO}/issues/{number}",
            "id": 2345000000 + number,
            "number": number,
            "title": title,
            "user": {"login": "jdoe", "id": 583231, "type": "User"},
            "labels": [],
            "state": "open",
            "comments": 0,
            "created_at": "2024-06-10T14:05:11Z",
            "author_association": "NONE",
            "body": body,
        },
        "repository": {"id": 70102, "name": "checkout", "full_name": REPO, "private": False},
        "sender": {"login": "jdoe", "id": 583231, "type": "User"},
    }


def signed(payload: dict[str, Any], secret: str) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(payload).encode()
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/a1b2c3d",
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "X-Hub-Signature-256": f"sha256={digest}",
    }


def verdict(body: dict[str, Any]) -> dict[str, Any]:
    """The fake model: reads the issue out of the user message."""
    prompt = next(m["content"] for m in body["messages"] if m["role"] == "user")
    if "HTTP 500" in prompt:
        return {
            "severity": "critical",
            "category": "bug",
            "component": "payments",
            "summary": "Every EU checkout fails with HTTP 500 since 14:02. Revenue is affected.",
        }
    return {
        "severity": "low",
        "category": "question",
        "component": "Docs Site!",  # not a label-safe name: left out of the labels
        "summary": "The reporter asks how to export invoices as CSV.",
    }


async def test_critical_issue_is_labelled_commented_and_pages(
    blueprints: Blueprints, saas: SaaS, store: LocalConnectionStore
) -> None:
    saas.openai.respond = verdict
    secret = store.get("github-webhook").secrets["secret"]
    wf = load(BLUEPRINT)
    raw, headers = signed(
        issues_event(
            812,
            "Checkout returns HTTP 500 for EU customers",
            "Since 14:02 UTC every EU checkout fails with HTTP 500.\nRequest id: 9f8e.",
        ),
        secret,
    )
    # A request signed with another secret is refused before anything starts.
    with pytest.raises(SignatureError):
        await blueprints.on_webhook(wf, "not-the-secret", raw, headers)

    run = await blueprints.result(await blueprints.on_webhook(wf, secret, raw, headers))

    assert run["status"] == "succeeded", summary(run)
    labels = ["triaged-by-bot", "severity:critical", "type:bug", "component:payments"]
    assert run["outputs"] == {
        "triaged": True,
        "severity": "critical",
        "labels": labels,
        "paged": True,
    }
    # The model was asked with a strict JSON schema, the issue in the user message.
    [request] = saas.openai.requests
    assert request["model"] == "gpt-4o-mini"
    assert request["temperature"] == 0
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["strict"] is True
    system, user = request["messages"]
    assert system["role"] == "system" and REPO in system["content"]
    assert user["content"].startswith("Title: Checkout returns HTTP 500 for EU customers")
    assert "Request id: 9f8e." in user["content"]

    assert saas.github.labels[(REPO, 812)] == labels
    [comment] = saas.github.comments
    assert comment["issue"] == 812
    assert "| Severity | **critical** |" in comment["body"]
    assert "> Every EU checkout fails with HTTP 500 since 14:02." in comment["body"]
    assert "The on-call engineer has been paged." in comment["body"]

    [page] = saas.pagerduty.events
    assert page["dedup_key"] == f"github/{REPO}#812"
    assert page["payload"]["severity"] == "critical"
    assert page["links"] == [
        {"href": f"https://github.com/{REPO}/issues/812", "text": "GitHub issue"}
    ]
    [message] = saas.slack.in_channel("eng-triage")
    assert f"<https://github.com/{REPO}/issues/812|{REPO}#812>" in message["all_text"]
    assert "on-call paged" in message["all_text"]


async def test_low_issue_is_labelled_without_paging_and_other_actions_are_ignored(
    blueprints: Blueprints, saas: SaaS, store: LocalConnectionStore
) -> None:
    saas.openai.respond = verdict
    secret = store.get("github-webhook").secrets["secret"]
    wf = load(BLUEPRINT)

    question = issues_event(813, "How do I export invoices?", "Is there a CSV export?")
    run = await blueprints.result(
        await blueprints.on_webhook(wf, secret, *signed(question, secret))
    )
    assert run["status"] == "succeeded", summary(run)
    assert run["outputs"]["labels"] == ["triaged-by-bot", "severity:low", "type:question"]
    assert run["outputs"]["paged"] is False
    assert run["steps"]["route"]["output"] == {"value": "low", "case": "default"}
    assert saas.github.labels[(REPO, 813)] == run["outputs"]["labels"]
    assert "A maintainer will confirm this triage." in saas.github.comments[0]["body"]
    assert saas.pagerduty.events == [] and saas.slack.messages == []

    closed = issues_event(813, "How do I export invoices?", "", action="closed")
    run = await blueprints.result(await blueprints.on_webhook(wf, secret, *signed(closed, secret)))
    assert run["status"] == "succeeded", summary(run)
    assert run["steps"]["ignored"]["output"] == "not a new issue: closed"
    assert len(saas.openai.requests) == 1  # the closed issue was not sent to the model


async def test_model_outage_leaves_the_issue_to_a_human(
    blueprints: Blueprints, saas: SaaS, store: LocalConnectionStore
) -> None:
    saas.openai.outage = 503
    secret = store.get("github-webhook").secrets["secret"]
    wf = load(BLUEPRINT)
    event = issues_event(814, "Search is slow", "p99 is 4s on /search")
    run = await blueprints.result(await blueprints.on_webhook(wf, secret, *signed(event, secret)))

    assert run["status"] == "succeeded", summary(run)
    assert run["steps"]["classify"]["status"] == "failed"
    assert run["steps"]["classify"]["attempts"] == 3
    assert run["steps"]["classify"]["error"]["type"] == "HttpServerError"
    assert run["outputs"] == {
        "triaged": False,
        "severity": None,
        "labels": ["needs-triage"],
        "paged": False,
    }
    assert saas.github.labels[(REPO, 814)] == ["needs-triage"]
    assert saas.github.comments == []
