"""GitHub actions against a local fake of the GitHub REST API, through the real activity."""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from temporalio.exceptions import ApplicationError
from werkzeug import Request, Response

from switchyard import errors
from switchyard.connections import Connection

from .conftest import RunAction, error_detail
from .live import SECRET
from .live.github import FakeGitHub


async def run(
    run_action: RunAction, fake: FakeGitHub, action: str, params: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    conn = fake.connection(**fields)
    result = await run_action(action, params, connection=conn.name, connections=[conn])
    return result.output


async def fails(
    run_action: RunAction, conn: Connection, action: str, params: dict[str, Any]
) -> ApplicationError:
    with pytest.raises(ApplicationError) as info:
        await run_action(action, params, connection=conn.name, connections=[conn])
    return info.value


# ---------------------------------------------------------------- create_issue


async def test_create_issue_sends_github_headers_and_fields(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitHub(httpserver)
    repo = fake.add_repo("octo-org/api", milestones={3}, collaborators={"octocat"})
    out = await run(
        run_action,
        fake,
        "github.create_issue",
        {
            "repo": "octo-org/api",
            "title": "API down",
            "body": "5xx rate above 10%",
            "labels": ["incident", "sev2"],
            "assignees": ["octocat"],
            "milestone": 3,
        },
    )
    assert out == {
        "number": 1,
        "id": repo.issues[1]["id"],
        "html_url": "https://github.com/octo-org/api/issues/1",
        "url": fake.base_url + "repos/octo-org/api/issues/1",
        "state": "open",
        "title": "API down",
    }
    issue = repo.issues[1]
    assert [label["name"] for label in issue["labels"]] == ["incident", "sev2"]
    assert [a["login"] for a in issue["assignees"]] == ["octocat"]
    assert issue["milestone"]["number"] == 3
    assert issue["body"] == "5xx rate above 10%"
    (req,) = fake.requests
    assert req["method"] == "POST"
    assert req["path"] == "/repos/octo-org/api/issues"
    headers = req["headers"]
    assert headers["authorization"] == f"Bearer {SECRET}"
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert headers["user-agent"].startswith("Switchyard")
    assert headers["content-type"] == "application/json"


async def test_create_issue_omits_unset_fields(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitHub(httpserver)
    fake.add_repo("octo-org/api")
    await run(run_action, fake, "github.create_issue", {"repo": "octo-org/api", "title": "t"})
    assert fake.requests[0]["json"] == {"title": "t"}


async def test_enterprise_server_base_url_with_path_prefix(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitHub(httpserver, prefix="/api/v3")
    fake.add_repo("octo-org/api")
    assert fake.base_url.endswith("/api/v3/")
    out = await run(run_action, fake, "github.create_issue", {"repo": "octo-org/api", "title": "t"})
    assert out["number"] == 1
    assert fake.requests[0]["path"] == "/api/v3/repos/octo-org/api/issues"
    # Without the trailing slash too.
    out = await run(
        run_action,
        fake,
        "github.create_issue",
        {"repo": "octo-org/api", "title": "u"},
        base_url=fake.base_url.rstrip("/"),
    )
    assert out["number"] == 2


async def test_create_issue_validation_failed_is_client_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitHub(httpserver)
    fake.add_repo("octo-org/api", milestones={1})
    err = await fails(
        run_action,
        fake.connection(),
        "github.create_issue",
        {"repo": "octo-org/api", "title": "t", "milestone": 9},
    )
    assert err.type == errors.HTTP_CLIENT_ERROR
    assert err.non_retryable
    assert "Validation Failed" in str(err)
    assert error_detail(err)["details"]["status"] == 422


async def test_unknown_repo_is_http_client_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitHub(httpserver)
    err = await fails(
        run_action,
        fake.connection(),
        "github.create_issue",
        {"repo": "octo-org/nope", "title": "t"},
    )
    assert err.type == errors.HTTP_CLIENT_ERROR
    assert "Not Found" in str(err)


async def test_bad_token_is_permission_denied(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitHub(httpserver, token="the-right-one")
    fake.add_repo("octo-org/api")
    conn = Connection(
        "gh", "github", fields={"base_url": fake.base_url}, secrets={"token": "wrong-token"}
    )
    err = await fails(
        run_action, conn, "github.create_issue", {"repo": "octo-org/api", "title": "t"}
    )
    assert err.type == errors.PERMISSION_DENIED
    assert err.non_retryable
    assert "Bad credentials" in str(err)
    assert "wrong-token" not in json.dumps(error_detail(err))


async def test_missing_token_is_validation_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitHub(httpserver)
    conn = Connection("gh", "github", fields={"base_url": fake.base_url})
    err = await fails(
        run_action, conn, "github.create_issue", {"repo": "octo-org/api", "title": "t"}
    )
    assert err.type == errors.VALIDATION_ERROR
    assert "token" in str(err)
    assert fake.requests == []


@pytest.mark.parametrize("repo", ["octo-org", "octo-org/api/extra", "octo org/api", ""])
async def test_repo_must_be_owner_slash_name(repo: str, run_action: RunAction) -> None:
    with pytest.raises(ApplicationError) as info:
        await run_action("github.create_issue", {"repo": repo, "title": "t"})
    assert info.value.type == errors.VALIDATION_ERROR


# --------------------------------------------------------------- comment_issue


async def test_comment_issue(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = FakeGitHub(httpserver)
    repo = fake.add_repo("octo-org/api")
    number = fake.add_issue(repo)
    out = await run(
        run_action,
        fake,
        "github.comment_issue",
        {"repo": "octo-org/api", "issue_number": number, "body": "Rolled back."},
    )
    (comment,) = repo.comments
    assert comment["issue"] == number and comment["body"] == "Rolled back."
    assert out == {
        "id": comment["id"],
        "html_url": comment["html_url"],
        "url": comment["url"],
        "body": "Rolled back.",
        "created_at": "2024-05-01T10:05:00Z",
    }
    assert fake.requests[0]["path"] == f"/repos/octo-org/api/issues/{number}/comments"


async def test_comment_on_missing_issue_is_client_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitHub(httpserver)
    fake.add_repo("octo-org/api")
    err = await fails(
        run_action,
        fake.connection(),
        "github.comment_issue",
        {"repo": "octo-org/api", "issue_number": 77, "body": "x"},
    )
    assert err.type == errors.HTTP_CLIENT_ERROR


# ---------------------------------------------------------------------- labels


async def test_add_labels_is_idempotent(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = FakeGitHub(httpserver)
    repo = fake.add_repo("octo-org/api")
    number = fake.add_issue(repo, labels=("bug",))
    params = {"repo": "octo-org/api", "issue_number": number, "labels": ["sev2", "bug"]}
    first = await run(run_action, fake, "github.add_labels", params)
    second = await run(run_action, fake, "github.add_labels", params)
    assert first == second == {"labels": ["bug", "sev2"]}
    assert fake.requests[0]["json"] == {"labels": ["sev2", "bug"]}
    assert [x["name"] for x in repo.issues[number]["labels"]] == ["bug", "sev2"]


async def test_remove_label(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = FakeGitHub(httpserver)
    repo = fake.add_repo("octo-org/api")
    number = fake.add_issue(repo, labels=("bug", "needs triage"))
    params = {"repo": "octo-org/api", "issue_number": number, "label": "needs triage"}
    out = await run(run_action, fake, "github.remove_label", params)
    assert out == {"removed": True, "labels": ["bug"]}
    assert fake.requests[0]["method"] == "DELETE"
    assert fake.requests[0]["path"] == f"/repos/octo-org/api/issues/{number}/labels/needs triage"
    # Again: GitHub answers 404 "Label does not exist", which is the wanted state.
    again = await run(run_action, fake, "github.remove_label", params)
    assert again == {"removed": False, "labels": None}
    assert [x["name"] for x in repo.issues[number]["labels"]] == ["bug"]


async def test_remove_label_from_missing_issue_is_client_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitHub(httpserver)
    fake.add_repo("octo-org/api")
    err = await fails(
        run_action,
        fake.connection(),
        "github.remove_label",
        {"repo": "octo-org/api", "issue_number": 5, "label": "bug"},
    )
    assert err.type == errors.HTTP_CLIENT_ERROR
    assert "Not Found" in str(err)


# ----------------------------------------------------------- dispatch_workflow


async def test_dispatch_workflow_sends_inputs_as_text(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitHub(httpserver)
    repo = fake.add_repo("octo-org/api", workflows={"deploy.yml": 161335})
    out = await run(
        run_action,
        fake,
        "github.dispatch_workflow",
        {
            "repo": "octo-org/api",
            "workflow": "deploy.yml",
            "ref": "main",
            "inputs": {"environment": "prod", "dry_run": True, "replicas": 3},
        },
    )
    assert out == {
        "dispatched": True,
        "workflow": "deploy.yml",
        "ref": "main",
        "workflow_run_id": None,
        "run_url": None,
        "html_url": None,
    }
    (dispatch,) = repo.dispatches
    assert dispatch["inputs"] == {"environment": "prod", "dry_run": "true", "replicas": "3"}
    assert fake.requests[0]["path"] == "/repos/octo-org/api/actions/workflows/deploy.yml/dispatches"


async def test_dispatch_workflow_by_id_with_run_details(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitHub(httpserver)
    repo = fake.add_repo("octo-org/api", refs={"main", "v1.2"}, workflows={"deploy.yml": 161335})
    out = await run(
        run_action,
        fake,
        "github.dispatch_workflow",
        {"repo": "octo-org/api", "workflow": 161335, "ref": "v1.2", "return_run_details": True},
    )
    run_id = repo.dispatches[0]["run_id"]
    assert out["workflow"] == "161335"
    assert out["workflow_run_id"] == run_id
    assert out["html_url"] == f"https://github.com/octo-org/api/actions/runs/{run_id}"
    assert out["run_url"].endswith(f"/repos/octo-org/api/actions/runs/{run_id}")
    assert fake.requests[0]["json"] == {"ref": "v1.2", "return_run_details": True}


async def test_dispatch_unknown_ref_is_client_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitHub(httpserver)
    fake.add_repo("octo-org/api", workflows={"deploy.yml": 1})
    err = await fails(
        run_action,
        fake.connection(),
        "github.dispatch_workflow",
        {"repo": "octo-org/api", "workflow": "deploy.yml", "ref": "nope"},
    )
    assert err.type == errors.HTTP_CLIENT_ERROR
    assert "No ref found for: nope" in str(err)


# -------------------------------------------------------------------- get_file


async def test_get_text_file_at_ref(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = FakeGitHub(httpserver)
    repo = fake.add_repo("octo-org/api", refs={"main", "v2"})
    text = "replicas: 3\nimage: api:2.0 — café\n" * 20  # > 60 base64 chars: wrapped lines
    repo.files[("v2", "deploy/my values.yaml")] = text.encode()
    repo.files[("main", "deploy/my values.yaml")] = b"old"
    out = await run(
        run_action,
        fake,
        "github.get_file",
        {"repo": "octo-org/api", "path": "deploy/my values.yaml", "ref": "v2"},
    )
    assert out["content"] == text
    assert out["encoding"] == "utf-8"
    assert out["path"] == "deploy/my values.yaml"
    assert out["name"] == "my values.yaml"
    assert out["size"] == len(text.encode())
    assert re.fullmatch(r"[0-9a-f]{40}", out["sha"])
    assert out["html_url"] == "https://github.com/octo-org/api/blob/v2/deploy/my%20values.yaml"
    assert fake.requests[0]["query"] == {"ref": "v2"}


async def test_get_binary_file_gives_base64(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = FakeGitHub(httpserver)
    repo = fake.add_repo("octo-org/api")
    data = bytes(range(256)) * 3
    repo.files[("main", "logo.png")] = data
    out = await run(
        run_action, fake, "github.get_file", {"repo": "octo-org/api", "path": "logo.png"}
    )
    assert out["encoding"] == "base64"
    assert base64.b64decode(out["content"]) == data
    assert "ref" not in fake.requests[0]["query"]


async def test_get_large_file_has_no_content(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = FakeGitHub(httpserver)
    repo = fake.add_repo("octo-org/api")
    repo.files[("main", "big.bin")] = b"x" * (1024 * 1024 + 1)
    out = await run(
        run_action, fake, "github.get_file", {"repo": "octo-org/api", "path": "big.bin"}
    )
    assert out["content"] is None and out["encoding"] == "none"
    assert out["download_url"].endswith("/octo-org/api/main/big.bin")


async def test_get_empty_file(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = FakeGitHub(httpserver)
    repo = fake.add_repo("octo-org/api")
    repo.files[("main", "EMPTY")] = b""
    out = await run(run_action, fake, "github.get_file", {"repo": "octo-org/api", "path": "EMPTY"})
    assert out["content"] == "" and out["encoding"] == "utf-8" and out["size"] == 0


async def test_get_missing_file_is_client_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitHub(httpserver)
    repo = fake.add_repo("octo-org/api")
    repo.files[("main", "a.txt")] = b"a"
    err = await fails(
        run_action, fake.connection(), "github.get_file", {"repo": "octo-org/api", "path": "b.txt"}
    )
    assert err.type == errors.HTTP_CLIENT_ERROR
    assert error_detail(err)["details"]["status"] == 404


async def test_get_directory_is_client_error(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = FakeGitHub(httpserver)
    repo = fake.add_repo("octo-org/api")
    repo.files[("main", "deploy/a.yaml")] = b"a"
    err = await fails(
        run_action, fake.connection(), "github.get_file", {"repo": "octo-org/api", "path": "deploy"}
    )
    assert err.type == errors.HTTP_CLIENT_ERROR
    assert "directory" in str(err)
    assert error_detail(err)["details"]["entries"] == ["a.yaml"]


# ----------------------------------------------------------------- rate limits


def _answer(status: int, headers: dict[str, str], message: str) -> Any:
    def handle(request: Request) -> Response:
        body = {"message": message, "documentation_url": "https://docs.github.com/rest"}
        return Response(json.dumps(body), status, headers, content_type="application/json")

    return handle


GET_FILE = {"repo": "octo-org/api", "path": "README.md"}


async def test_primary_rate_limit_403_waits_until_reset(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    reset = int(time.time()) + 120
    httpserver.expect_request(re.compile(".*")).respond_with_handler(
        _answer(
            403,
            {
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(reset),
                "x-ratelimit-resource": "core",
            },
            "API rate limit exceeded for user ID 1.",
        )
    )
    conn = Connection(
        "gh", "github", fields={"base_url": httpserver.url_for("/")}, secrets={"token": SECRET}
    )
    err = await fails(run_action, conn, "github.get_file", GET_FILE)
    assert err.type == errors.HTTP_SERVER_ERROR
    assert not err.non_retryable
    assert err.next_retry_delay is not None
    assert 100 <= err.next_retry_delay.total_seconds() <= 121
    details = error_detail(err)["details"]
    assert details["status"] == 403
    assert details["rate_limit"]["remaining"] == "0"
    assert details["rate_limit"]["resource"] == "core"


async def test_primary_rate_limit_429_prefers_retry_after(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    httpserver.expect_request(re.compile(".*")).respond_with_handler(
        _answer(
            429,
            {
                "retry-after": "30",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(int(time.time()) + 900),
            },
            "API rate limit exceeded",
        )
    )
    conn = Connection(
        "gh", "github", fields={"base_url": httpserver.url_for("/")}, secrets={"token": SECRET}
    )
    err = await fails(run_action, conn, "github.get_file", GET_FILE)
    assert err.type == errors.HTTP_SERVER_ERROR
    assert err.next_retry_delay is not None and err.next_retry_delay.total_seconds() == 30


async def test_secondary_rate_limit_403(httpserver: HTTPServer, run_action: RunAction) -> None:
    httpserver.expect_request(re.compile(".*")).respond_with_handler(
        _answer(
            403,
            {"x-ratelimit-remaining": "4000"},
            "You have exceeded a secondary rate limit. Please wait a few minutes.",
        )
    )
    conn = Connection(
        "gh", "github", fields={"base_url": httpserver.url_for("/")}, secrets={"token": SECRET}
    )
    err = await fails(run_action, conn, "github.get_file", GET_FILE)
    assert err.type == errors.HTTP_SERVER_ERROR
    assert not err.non_retryable
    assert err.next_retry_delay is not None and err.next_retry_delay.total_seconds() == 60


async def test_plain_403_is_permission_denied(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    httpserver.expect_request(re.compile(".*")).respond_with_handler(
        _answer(
            403,
            {"x-ratelimit-remaining": "4999", "x-ratelimit-reset": str(int(time.time()) + 60)},
            "Resource not accessible by integration",
        )
    )
    conn = Connection(
        "gh", "github", fields={"base_url": httpserver.url_for("/")}, secrets={"token": SECRET}
    )
    err = await fails(run_action, conn, "github.get_file", GET_FILE)
    assert err.type == errors.PERMISSION_DENIED
    assert err.non_retryable
    assert "Resource not accessible by integration" in str(err)
    assert error_detail(err)["details"]["status"] == 403
