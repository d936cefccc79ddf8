"""Jira actions against a local fake of the Jira Cloud REST API, through the real activity."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from temporalio.exceptions import ApplicationError
from werkzeug import Request, Response

from switchyard import errors
from switchyard.actions.jira._adf import adf_to_text, text_to_adf
from switchyard.connections import Connection

from .conftest import RunAction, error_detail
from .live import SECRET
from .live.jira import EMAIL, FakeJira, adf_problem, adf_text


async def run(
    run_action: RunAction, conn: Connection, action: str, params: dict[str, Any]
) -> dict[str, Any]:
    result = await run_action(action, params, connection=conn.name, connections=[conn])
    return result.output


async def fails(
    run_action: RunAction, conn: Connection, action: str, params: dict[str, Any]
) -> ApplicationError:
    with pytest.raises(ApplicationError) as info:
        await run_action(action, params, connection=conn.name, connections=[conn])
    return info.value


def _fake(httpserver: HTTPServer, **kwargs: Any) -> FakeJira:
    fake = FakeJira(httpserver, **kwargs)
    fake.add_project("OPS")
    return fake


# ------------------------------------------------------------------------- ADF


def test_text_to_adf_paragraphs_and_line_breaks() -> None:
    doc = text_to_adf("Alert fired.\nSee below.\r\n\r\n  \n\nRunbook: x\n")
    assert doc == {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "paragraph",
                "content": [
                    {"type": "text", "text": "Alert fired."},
                    {"type": "hardBreak"},
                    {"type": "text", "text": "See below."},
                ],
            },
            {"type": "paragraph", "content": [{"type": "text", "text": "Runbook: x"}]},
        ],
    }
    assert adf_problem(doc) is None
    assert adf_to_text(doc) == "Alert fired.\nSee below.\n\nRunbook: x"
    # Empty lines inside a block never give empty text nodes (Jira rejects them).
    assert adf_problem(text_to_adf("a\n\n\n\nb")) is None
    assert text_to_adf("  \n ")["content"] == []


def test_adf_to_text_reads_nested_blocks() -> None:
    doc = {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "H"}]},
            {
                "type": "bulletList",
                "content": [
                    {
                        "type": "listItem",
                        "content": [
                            {"type": "paragraph", "content": [{"type": "text", "text": "one"}]}
                        ],
                    },
                    {
                        "type": "listItem",
                        "content": [
                            {
                                "type": "paragraph",
                                "content": [
                                    {"type": "mention", "attrs": {"id": "1", "text": "@ana"}},
                                    {"type": "text", "text": " two"},
                                ],
                            }
                        ],
                    },
                ],
            },
        ],
    }
    assert adf_to_text(doc) == "H\n\none\n\n@ana two"


# ---------------------------------------------------------------- create_issue


async def test_create_issue_builds_fields(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = _fake(httpserver)
    out = await run(
        run_action,
        fake.connection(),
        "jira.create_issue",
        {
            "project": "OPS",
            "issue_type": "Bug",
            "summary": "API down",
            "description": "Alert fired.\n\nRunbook: https://runbooks.example.com/api",
            "priority": "High",
            "labels": ["incident", "api"],
            "assignee": "5b10ac8d82e05b22cc7d4ef5",
            "fields": {"customfield_10020": 42, "labels": ["incident", "api", "sev2"]},
        },
    )
    issue = fake.issues["OPS-1"]
    assert out == {
        "id": issue.id,
        "key": "OPS-1",
        "self": f"{fake.base_url}/rest/api/3/issue/{issue.id}",
        "url": f"{fake.base_url}/browse/OPS-1",
        "summary": "API down",
    }
    assert issue.fields["project"] == {"key": "OPS"}
    assert issue.fields["issuetype"] == {"name": "Bug"}
    assert issue.fields["priority"] == {"name": "High"}
    assert issue.fields["assignee"] == {"accountId": "5b10ac8d82e05b22cc7d4ef5"}
    assert issue.fields["customfield_10020"] == 42
    assert issue.fields["labels"] == ["incident", "api", "sev2"]  # `fields` wins
    assert adf_text(issue.fields["description"]) == (
        "Alert fired.\n\nRunbook: https://runbooks.example.com/api"
    )
    (req,) = fake.requests
    assert req["method"] == "POST" and req["path"] == "/rest/api/3/issue"
    expected = base64.b64encode(f"{EMAIL}:{SECRET}".encode()).decode()
    assert req["headers"]["authorization"] == f"Basic {expected}"
    assert req["headers"]["accept"] == "application/json"


async def test_create_issue_by_ids_and_adf_description(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = _fake(httpserver)
    project_id = fake.projects["OPS"]["id"]
    doc = {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "as is"}]}],
    }
    await run(
        run_action,
        fake.connection(),
        "jira.create_issue",
        {"project": project_id, "issue_type": "10001", "summary": "s", "description": doc},
    )
    sent = fake.requests[0]["json"]["fields"]
    assert sent["project"] == {"id": project_id}
    assert sent["issuetype"] == {"id": "10001"}
    assert sent["description"] == doc


async def test_create_issue_with_empty_description_sends_none(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = _fake(httpserver)
    await run(
        run_action,
        fake.connection(),
        "jira.create_issue",
        {"project": "OPS", "summary": "s", "description": ""},
    )
    assert "description" not in fake.requests[0]["json"]["fields"]
    assert fake.requests[0]["json"]["fields"]["issuetype"] == {"name": "Task"}


async def test_create_issue_field_errors_are_in_the_message(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = _fake(httpserver)
    err = await fails(
        run_action,
        fake.connection(),
        "jira.create_issue",
        {"project": "OPS", "issue_type": "Epic", "summary": "s", "fields": {"duedate": "x"}},
    )
    assert err.type == errors.HTTP_CLIENT_ERROR
    assert err.non_retryable
    assert "issuetype: Specify a valid issue type" in str(err)
    assert "duedate: Field 'duedate' cannot be set" in str(err)
    assert error_detail(err)["details"]["status"] == 400


@pytest.mark.parametrize(
    "params",
    [
        {"project": "OPS", "summary": "s", "labels": ["has space"]},
        {"project": "OPS", "summary": "s", "description": {"type": "paragraph"}},
        {"project": "OPS", "summary": "x" * 256},
        {"project": "OPS"},
    ],
)
async def test_create_issue_bad_params(params: dict[str, Any], run_action: RunAction) -> None:
    with pytest.raises(ApplicationError) as info:
        await run_action("jira.create_issue", params)
    assert info.value.type == errors.VALIDATION_ERROR


# ------------------------------------------------------------------------ auth


async def test_data_center_bearer_token(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = _fake(httpserver, api_token=None, token=SECRET)
    out = await run(
        run_action, fake.connection(), "jira.create_issue", {"project": "OPS", "summary": "s"}
    )
    assert out["key"] == "OPS-1"
    assert fake.requests[0]["headers"]["authorization"] == f"Bearer {SECRET}"


@pytest.mark.parametrize(
    ("fields", "secrets", "needle"),
    [
        ({}, {}, "'api_token'"),
        ({}, {"api_token": "t"}, "no field 'email'"),
        ({"email": EMAIL}, {}, "'token'"),
    ],
)
async def test_bad_connection_is_validation_error(
    httpserver: HTTPServer,
    run_action: RunAction,
    fields: dict[str, Any],
    secrets: dict[str, Any],
    needle: str,
) -> None:
    fake = _fake(httpserver)
    conn = Connection("jira", "jira", fields={"base_url": fake.base_url, **fields}, secrets=secrets)
    err = await fails(run_action, conn, "jira.create_issue", {"project": "OPS", "summary": "s"})
    assert err.type == errors.VALIDATION_ERROR
    assert needle in str(err)
    assert fake.requests == []


async def test_missing_base_url_is_validation_error(run_action: RunAction) -> None:
    conn = Connection("jira", "jira", fields={"email": EMAIL}, secrets={"api_token": "t"})
    err = await fails(run_action, conn, "jira.search", {"jql": "project = OPS"})
    assert err.type == errors.VALIDATION_ERROR
    assert "base_url" in str(err)


async def test_wrong_api_token_is_permission_denied(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = _fake(httpserver, api_token="right")
    conn = Connection(
        "jira",
        "jira",
        fields={"base_url": fake.base_url, "email": EMAIL},
        secrets={"api_token": "wrong-token"},
    )
    err = await fails(run_action, conn, "jira.search", {"jql": "project = OPS"})
    assert err.type == errors.PERMISSION_DENIED
    assert err.non_retryable


async def test_encoded_basic_credentials_are_masked(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    """The base64 of email:api_token is a derived secret: masked if it comes back."""

    def echo(request: Request) -> Response:
        header = request.headers["Authorization"]
        doc = text_to_adf(f"seen {header}")
        comment = {"id": "1", "self": "s", "body": doc, "created": "2024-05-01T10:05:00.000+0000"}
        return Response(json.dumps(comment), 201, content_type="application/json")

    httpserver.expect_request("/rest/api/3/issue/OPS-1/comment").respond_with_handler(echo)
    conn = Connection(
        "jira",
        "jira",
        fields={"base_url": httpserver.url_for("/"), "email": EMAIL},
        secrets={"api_token": SECRET},
    )
    out = await run(run_action, conn, "jira.add_comment", {"issue": "OPS-1", "body": "x"})
    encoded = base64.b64encode(f"{EMAIL}:{SECRET}".encode()).decode()
    assert encoded not in json.dumps(out)
    assert out["body"] == "seen Basic ***"


# ------------------------------------------------------------ transition_issue


@pytest.mark.parametrize("transition", ["close issue", "31", 31, "DONE"])
async def test_transition_by_name_id_or_status(
    httpserver: HTTPServer, run_action: RunAction, transition: Any
) -> None:
    fake = _fake(httpserver)
    issue = fake.add_issue("OPS", "x")
    out = await run(
        run_action,
        fake.connection(),
        "jira.transition_issue",
        {"issue": issue.key, "transition": transition},
    )
    assert out == {
        "issue": issue.key,
        "transitioned": True,
        "already_in_status": False,
        "transition": {"id": "31", "name": "Close Issue"},
        "status": "Done",
    }
    assert issue.status == "Done"
    get, post = fake.requests
    assert get["method"] == "GET" and get["path"] == f"/rest/api/3/issue/{issue.key}/transitions"
    assert post["json"] == {"transition": {"id": "31"}}


async def test_transition_with_comment_and_fields(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = _fake(httpserver)
    issue = fake.add_issue("OPS", "x", status="In Progress")
    await run(
        run_action,
        fake.connection(),
        "jira.transition_issue",
        {
            "issue": issue.key,
            "transition": "Close Issue",
            "comment": "Fixed by deploy 1.4.\n\nVerified.",
            "fields": {"resolution": {"name": "Fixed"}},
        },
    )
    assert issue.status == "Done"
    assert issue.fields["resolution"] == {"name": "Fixed"}
    (comment,) = issue.comments
    assert adf_text(comment["body"]) == "Fixed by deploy 1.4.\n\nVerified."


async def test_transition_already_in_status_is_success(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = _fake(httpserver)
    issue = fake.add_issue("OPS", "x", status="Done")  # only "Reopen" is available
    out = await run(
        run_action,
        fake.connection(),
        "jira.transition_issue",
        {"issue": issue.key, "transition": "done", "comment": "closing"},
    )
    assert out == {
        "issue": issue.key,
        "transitioned": False,
        "already_in_status": True,
        "transition": None,
        "status": "Done",
    }
    assert [r["method"] for r in fake.requests] == ["GET", "GET"]
    assert fake.requests[1]["path"] == f"/rest/api/3/issue/{issue.key}"
    assert fake.requests[1]["query"] == {"fields": "status"}
    assert issue.comments == [] and issue.transitions == []


async def test_unknown_transition_lists_the_available_ones(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = _fake(httpserver)
    issue = fake.add_issue("OPS", "x")
    err = await fails(
        run_action,
        fake.connection(),
        "jira.transition_issue",
        {"issue": issue.key, "transition": "Deploy"},
    )
    assert err.type == errors.HTTP_CLIENT_ERROR
    assert err.non_retryable
    message = str(err)
    assert "no transition 'Deploy'" in message
    assert "Start Progress (id 11, to In Progress)" in message
    assert "Close Issue (id 31, to Done)" in message
    details = error_detail(err)["details"]
    assert details["status"] == "To Do"
    assert {"id": "11", "name": "Start Progress", "to": "In Progress"} in details["available"]
    assert issue.status == "To Do"


async def test_transition_of_missing_issue_is_client_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = _fake(httpserver)
    err = await fails(
        run_action,
        fake.connection(),
        "jira.transition_issue",
        {"issue": "OPS-99", "transition": "Done"},
    )
    assert err.type == errors.HTTP_CLIENT_ERROR
    assert "Issue does not exist" in str(err)


# ----------------------------------------------------------------- add_comment


async def test_add_comment(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = _fake(httpserver)
    issue = fake.add_issue("OPS", "x")
    out = await run(
        run_action,
        fake.connection(),
        "jira.add_comment",
        {"issue": issue.key, "body": "Deployed 1.4.\nAll green.\n\nClosing soon."},
    )
    (comment,) = issue.comments
    assert out == {
        "id": comment["id"],
        "self": comment["self"],
        "url": f"{fake.base_url}/browse/{issue.key}?focusedCommentId={comment['id']}",
        "created": "2024-05-01T10:05:00.000+0000",
        "body": "Deployed 1.4.\nAll green.\n\nClosing soon.",
    }
    assert fake.requests[0]["path"] == f"/rest/api/3/issue/{issue.key}/comment"
    assert comment["body"]["content"][0]["content"][1] == {"type": "hardBreak"}


# ---------------------------------------------------------------------- search


async def test_search_follows_next_page_token(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = _fake(httpserver, page_limit=2)
    keys = [fake.add_issue("OPS", f"issue {i}").key for i in range(5)]
    fake.add_project("WEB")
    fake.add_issue("WEB", "other project")
    conn = fake.connection()
    out = await run(
        run_action, conn, "jira.search", {"jql": "project = OPS", "fields": ["summary", "status"]}
    )
    assert [i["key"] for i in out["issues"]] == keys
    assert out["total"] == 5 and out["is_last"] is True and out["next_page_token"] is None
    first = out["issues"][0]
    assert first["fields"]["summary"] == "issue 0"
    assert first["fields"]["status"]["name"] == "To Do"
    assert set(first["fields"]) == {"summary", "status"}
    bodies = [r["json"] for r in fake.requests]
    assert len(bodies) == 3
    assert "nextPageToken" not in bodies[0]
    assert bodies[0] == {"jql": "project = OPS", "fields": ["summary", "status"], "maxResults": 50}
    assert all(b["nextPageToken"] for b in bodies[1:])


async def test_search_stops_at_max_results_and_can_continue(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = _fake(httpserver, page_limit=2)
    keys = [fake.add_issue("OPS", f"issue {i}").key for i in range(5)]
    conn = fake.connection()
    out = await run(run_action, conn, "jira.search", {"jql": "project = OPS", "max_results": 3})
    assert [i["key"] for i in out["issues"]] == keys[:3]
    assert out["total"] == 3 and out["is_last"] is False
    assert out["next_page_token"]
    assert [r["json"]["maxResults"] for r in fake.requests] == [3, 1]
    # The default fields.
    assert fake.requests[0]["json"]["fields"][:3] == ["summary", "status", "assignee"]
    rest = await run(
        run_action,
        conn,
        "jira.search",
        {"jql": "project = OPS", "next_page_token": out["next_page_token"]},
    )
    assert [i["key"] for i in rest["issues"]] == keys[3:]
    assert rest["is_last"] is True


async def test_search_no_results(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = _fake(httpserver)
    out = await run(run_action, fake.connection(), "jira.search", {"jql": "project = OPS"})
    assert out == {"issues": [], "total": 0, "next_page_token": None, "is_last": True}


async def test_search_jql_error_is_client_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = _fake(httpserver)
    err = await fails(run_action, fake.connection(), "jira.search", {"jql": "order by created"})
    assert err.type == errors.HTTP_CLIENT_ERROR
    assert "Unbounded JQL" in str(err)


async def test_search_rate_limit_is_retryable(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    httpserver.expect_request(re.compile(".*")).respond_with_json(
        {"errorMessages": ["Rate limit exceeded."]}, status=429, headers={"Retry-After": "12"}
    )
    conn = Connection(
        "jira",
        "jira",
        fields={"base_url": httpserver.url_for("/"), "email": EMAIL},
        secrets={"api_token": SECRET},
    )
    err = await fails(run_action, conn, "jira.search", {"jql": "project = OPS"})
    assert err.type == errors.HTTP_SERVER_ERROR
    assert not err.non_retryable
    assert err.next_retry_delay is not None and err.next_retry_delay.total_seconds() == 12
