"""GitLab actions against a local fake of the GitLab REST API, through the real activity."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from temporalio.exceptions import ApplicationError

from switchyard import errors
from switchyard.connections import Connection

from .conftest import RunAction, error_detail
from .live import SECRET
from .live.gitlab import HOST, FakeGitLab


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


# ---------------------------------------------------------------- create_issue


async def test_create_issue_by_path_is_url_encoded(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitLab(httpserver)
    project = fake.add_project(278964, "platform/backend/api")
    out = await run(
        run_action,
        fake.connection(),
        "gitlab.create_issue",
        {
            "project": "platform/backend/api",
            "title": "API down",
            "description": "5xx above 10%",
            "labels": ["incident", "sev::2"],
            "assignee_ids": [42, 7],
            "confidential": True,
        },
    )
    (issue,) = project.issues
    assert out == {
        "id": issue["id"],
        "iid": 1,
        "project_id": 278964,
        "web_url": f"{HOST}/platform/backend/api/-/issues/1",
        "title": "API down",
        "state": "opened",
        "labels": ["incident", "sev::2"],
    }
    (req,) = fake.requests
    assert req["raw_path"] == "/api/v4/projects/platform%2Fbackend%2Fapi/issues"
    assert req["headers"]["private-token"] == SECRET
    assert req["body"] == {
        "title": "API down",
        "description": "5xx above 10%",
        "labels": "incident,sev::2",
        "assignee_ids": [42, 7],
        "confidential": True,
    }
    assert issue["confidential"] is True


async def test_create_issue_by_numeric_id_and_comma_labels(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitLab(httpserver)
    fake.add_project(278964, "platform/api")
    out = await run(
        run_action,
        fake.connection(),
        "gitlab.create_issue",
        {"project": 278964, "title": "t", "labels": "a, b,,c"},
    )
    assert out["labels"] == ["a", "b", "c"]
    assert fake.requests[0]["raw_path"] == "/api/v4/projects/278964/issues"
    assert fake.requests[0]["body"] == {"title": "t", "labels": "a,b,c"}


async def test_unknown_project_is_client_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitLab(httpserver)
    fake.add_project(1, "platform/api")
    err = await fails(
        run_action, fake.connection(), "gitlab.create_issue", {"project": "other/x", "title": "t"}
    )
    assert err.type == errors.HTTP_CLIENT_ERROR
    assert "404 Project Not Found" in str(err)


async def test_bad_token_is_permission_denied(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitLab(httpserver, token="right")
    fake.add_project(1, "platform/api")
    conn = fake.connection(token="wrong-token")
    err = await fails(run_action, conn, "gitlab.create_issue", {"project": 1, "title": "t"})
    assert err.type == errors.PERMISSION_DENIED
    assert "401 Unauthorized" in str(err)
    assert "wrong-token" not in json.dumps(error_detail(err))


async def test_missing_token_is_validation_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitLab(httpserver, trigger_token="trig")
    fake.add_project(1, "platform/api")
    conn = fake.connection(trigger_token="trig")  # a trigger token only
    err = await fails(run_action, conn, "gitlab.create_issue", {"project": 1, "title": "t"})
    assert err.type == errors.VALIDATION_ERROR
    assert "'token'" in str(err)
    assert fake.requests == []


async def test_field_errors_are_in_the_message(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitLab(httpserver)
    fake.add_project(1, "platform/api")
    err = await fails(
        run_action, fake.connection(), "gitlab.trigger_pipeline", {"project": 1, "ref": "nope"}
    )
    assert err.type == errors.HTTP_CLIENT_ERROR
    assert "Reference not found" in str(err)


# ------------------------------------------------------------ trigger_pipeline


async def test_trigger_pipeline_with_trigger_token_uses_form_fields(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitLab(httpserver, trigger_token="glptt-trigger")
    project = fake.add_project(278964, "platform/api", refs={"main": "c" * 40})
    conn = fake.connection(token=SECRET, trigger_token="glptt-trigger")
    out = await run(
        run_action,
        conn,
        "gitlab.trigger_pipeline",
        {
            "project": "platform/api",
            "ref": "main",
            "variables": {"DEPLOY_ENV": "production", "DRY_RUN": False, "REPLICAS": 3},
        },
    )
    (pipeline,) = project.pipelines
    assert pipeline["source"] == "trigger"
    assert pipeline["variables"] == {
        "DEPLOY_ENV": "production",
        "DRY_RUN": "false",
        "REPLICAS": "3",
    }
    assert out == {
        "id": pipeline["id"],
        "iid": 1,
        "status": "created",
        "ref": "main",
        "sha": "c" * 40,
        "web_url": f"{HOST}/platform/api/-/pipelines/{pipeline['id']}",
        "via": "trigger_token",
    }
    (req,) = fake.requests
    assert req["raw_path"] == "/api/v4/projects/platform%2Fapi/trigger/pipeline"
    assert req["content_type"] == "application/x-www-form-urlencoded"
    assert req["body"]["token"] == "glptt-trigger"
    # The personal token does not travel to the trigger endpoint.
    assert "private-token" not in req["headers"]


async def test_trigger_pipeline_without_trigger_token_uses_the_pipeline_api(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitLab(httpserver)
    project = fake.add_project(278964, "platform/api", refs={"v1.2": "d" * 40})
    out = await run(
        run_action,
        fake.connection(),
        "gitlab.trigger_pipeline",
        {"project": 278964, "ref": "v1.2", "variables": {"DEPLOY_ENV": "staging"}},
    )
    (pipeline,) = project.pipelines
    assert pipeline["source"] == "api"
    assert pipeline["variables"] == {"DEPLOY_ENV": "staging"}
    assert out["via"] == "token" and out["ref"] == "v1.2" and out["sha"] == "d" * 40
    (req,) = fake.requests
    assert req["raw_path"] == "/api/v4/projects/278964/pipeline"
    assert req["headers"]["private-token"] == SECRET
    assert req["body"] == {
        "ref": "v1.2",
        "variables": [{"key": "DEPLOY_ENV", "value": "staging", "variable_type": "env_var"}],
    }


async def test_wrong_trigger_token_is_client_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitLab(httpserver, trigger_token="right")
    fake.add_project(1, "platform/api")
    conn = fake.connection(trigger_token="wrong")
    err = await fails(run_action, conn, "gitlab.trigger_pipeline", {"project": 1, "ref": "main"})
    assert err.type == errors.HTTP_CLIENT_ERROR
    assert error_detail(err)["details"]["status"] == 404


async def test_self_managed_base_url(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = FakeGitLab(httpserver, prefix="/gitlab/api/v4")
    fake.add_project(5, "ops/infra", merge_requests={3})
    out = await run(
        run_action,
        fake.connection(),
        "gitlab.merge_request_note",
        {"project": "ops/infra", "merge_request_iid": 3, "body": "ok"},
    )
    assert out["noteable_iid"] == 3
    assert (
        fake.requests[0]["raw_path"] == "/gitlab/api/v4/projects/ops%2Finfra/merge_requests/3/notes"
    )


# ---------------------------------------------------------- merge_request_note


async def test_merge_request_note(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = FakeGitLab(httpserver)
    project = fake.add_project(278964, "platform/api", merge_requests={12})
    out = await run(
        run_action,
        fake.connection(),
        "gitlab.merge_request_note",
        {
            "project": "platform/api",
            "merge_request_iid": 12,
            "body": "Canary healthy.",
            "internal": True,
        },
    )
    (note,) = project.notes
    assert note["internal"] is True
    assert out == {
        "id": note["id"],
        "body": "Canary healthy.",
        "noteable_iid": 12,
        "created_at": "2024-05-01T10:05:00.000Z",
    }
    assert fake.requests[0]["body"] == {"body": "Canary healthy.", "internal": True}


async def test_note_on_missing_merge_request_is_client_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = FakeGitLab(httpserver)
    fake.add_project(1, "platform/api")
    err = await fails(
        run_action,
        fake.connection(),
        "gitlab.merge_request_note",
        {"project": 1, "merge_request_iid": 99, "body": "x"},
    )
    assert err.type == errors.HTTP_CLIENT_ERROR
    assert "404 Not found" in str(err)


@pytest.mark.parametrize("project", ["", None, [1]])
async def test_project_must_be_an_id_or_path(project: Any, run_action: RunAction) -> None:
    with pytest.raises(ApplicationError) as info:
        await run_action("gitlab.create_issue", {"project": project, "title": "t"})
    assert info.value.type == errors.VALIDATION_ERROR
