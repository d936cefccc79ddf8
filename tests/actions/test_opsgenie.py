"""Opsgenie actions against a local Opsgenie fake, through the real activity."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from temporalio.exceptions import ApplicationError

from switchyard import errors
from switchyard.actions import get_action
from switchyard.connections import Connection
from switchyard.engine.options import WRITE_IDEMPOTENT, WRITE_ONCE

from .conftest import RunAction, error_detail
from .live import SECRET
from .live.opsgenie import OpsgenieFake


async def _run(run_action: RunAction, action: str, params: dict, conn: Connection) -> Any:
    result = await run_action(action, params, connection=conn.name, connections=[conn])
    return result.output


async def test_create_alert_sends_every_field(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = OpsgenieFake(httpserver)
    out = await _run(
        run_action,
        "opsgenie.create_alert",
        {
            "message": "Disk 99% full on db-1",
            "alias": "db-1/disk",
            "description": "Free space below 1%",
            "responders": [
                {"type": "team", "name": "DBA"},
                {"type": "user", "username": "oncall@example.com"},
                {"type": "escalation", "id": "4513b7ea-3b91-438f-b7e4-e3e54af9147c"},
                {"type": "schedule", "name": "Rig Schedule"},
            ],
            "visibleTo": [{"type": "team", "name": "SRE"}],
            "actions": ["Restart", "AnExampleAction"],
            "tags": ["db", "prod"],
            "details": {"host": "db-1", "free_pct": 1, "paged": True},
            "entity": "db-1",
            "source": "switchyard",
            "priority": "p1",
            "user": "Switchyard",
            "note": "opened by workflow",
        },
        fake.connection(),
    )
    assert out["result"] == "Request will be processed"
    assert out["took"] == 0.302
    assert len(out["request_id"]) == 36
    assert out["alias"] == "db-1/disk"
    [body] = fake.created
    assert body == {
        "message": "Disk 99% full on db-1",
        "alias": "db-1/disk",
        "description": "Free space below 1%",
        "responders": [
            {"type": "team", "name": "DBA"},
            {"type": "user", "username": "oncall@example.com"},
            {"type": "escalation", "id": "4513b7ea-3b91-438f-b7e4-e3e54af9147c"},
            {"type": "schedule", "name": "Rig Schedule"},
        ],
        "visibleTo": [{"type": "team", "name": "SRE"}],
        "actions": ["Restart", "AnExampleAction"],
        "tags": ["db", "prod"],
        "details": {"host": "db-1", "free_pct": "1", "paged": "true"},
        "entity": "db-1",
        "source": "switchyard",
        "priority": "P1",
        "user": "Switchyard",
        "note": "opened by workflow",
    }


async def test_create_alert_minimal(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = OpsgenieFake(httpserver)
    out = await _run(
        run_action, "opsgenie.create_alert", {"message": "API down"}, fake.connection()
    )
    assert fake.created == [{"message": "API down"}]
    assert out["alias"] is None


def test_create_alert_options_depend_on_the_alias() -> None:
    spec = get_action("opsgenie.create_alert")
    assert spec.options_class({"message": "x"}) == WRITE_ONCE
    assert spec.options_class({"message": "x", "alias": ""}) == WRITE_ONCE
    assert spec.options_class({"message": "x", "alias": "a"}) == WRITE_IDEMPOTENT
    assert get_action("opsgenie.close_alert").options_class({}) == WRITE_IDEMPOTENT


@pytest.mark.parametrize(
    "params",
    [
        {"message": ""},
        {"message": "x" * 131},
        {"message": "x", "priority": "P6"},
        {"message": "x", "responders": [{"type": "team"}]},
        {"message": "x", "responders": [{"type": "user", "name": "Ann"}]},
        {"message": "x", "responders": [{"type": "group", "id": "1"}]},
        {"message": "x", "visibleTo": [{"type": "schedule", "name": "S"}]},
        {"message": "x", "tags": [f"t{i}" for i in range(21)]},
        {"message": "x", "actions": ["a" * 51]},
        {"message": "x", "details": {"nested": {"a": 1}}},
        {"message": "x", "source": "s" * 101},
    ],
)
async def test_bad_create_parameters(
    httpserver: HTTPServer, run_action: RunAction, params: dict
) -> None:
    fake = OpsgenieFake(httpserver)
    with pytest.raises(ApplicationError) as info:
        await _run(run_action, "opsgenie.create_alert", params, fake.connection())
    assert info.value.type == errors.VALIDATION_ERROR
    assert httpserver.log == []


async def test_unprocessable_request_is_a_client_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    httpserver.expect_request("/v2/alerts", method="POST").respond_with_json(
        {
            "message": "Request body is not processable. Please check the errors.",
            "errors": {"message": "Message can not be empty."},
            "took": 0.002,
            "requestId": "fe2b9b3b-4ac1-4ef2-8ed6-5b2b8b6a2f11",
        },
        status=422,
    )
    conn = Connection(
        "og", "opsgenie", fields={"base_url": httpserver.url_for("/")}, secrets={"api_key": SECRET}
    )
    with pytest.raises(ApplicationError) as info:
        await _run(run_action, "opsgenie.create_alert", {"message": " "}, conn)
    assert info.value.type == errors.HTTP_CLIENT_ERROR
    assert info.value.non_retryable
    assert "not processable" in str(info.value)
    assert error_detail(info.value)["details"]["status"] == 422


async def test_wrong_key_is_permission_denied(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = OpsgenieFake(httpserver, api_key="the-real-key")
    conn = Connection(
        "og", "opsgenie", fields={"base_url": httpserver.url_for("/")}, secrets={"api_key": SECRET}
    )
    with pytest.raises(ApplicationError) as info:
        await _run(run_action, "opsgenie.create_alert", {"message": "x"}, conn)
    assert info.value.type == errors.PERMISSION_DENIED
    assert info.value.non_retryable
    assert "Could not authenticate" in str(info.value)
    assert SECRET not in json.dumps(error_detail(info.value))
    assert fake.created == []


async def test_missing_key_is_a_validation_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    conn = Connection("og", "opsgenie", fields={"base_url": httpserver.url_for("/")})
    with pytest.raises(ApplicationError) as info:
        await _run(run_action, "opsgenie.create_alert", {"message": "x"}, conn)
    assert info.value.type == errors.VALIDATION_ERROR
    assert "api_key" in str(info.value)
    assert httpserver.log == []


async def test_close_by_alias_encodes_the_identifier(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = OpsgenieFake(httpserver)
    out = await _run(
        run_action,
        "opsgenie.close_alert",
        {
            "identifier": "db-1/disk full?",
            "identifier_type": "alias",
            "user": "Switchyard",
            "source": "workflow",
            "note": "disk cleaned",
        },
        fake.connection(),
    )
    assert fake.closed == [
        (
            "db-1/disk full?",
            "alias",
            {"user": "Switchyard", "source": "workflow", "note": "disk cleaned"},
        )
    ]
    [request, _] = httpserver.log[0]
    assert request.environ["RAW_URI"].startswith("/v2/alerts/db-1%2Fdisk%20full%3F/close?")
    assert out["result"] == "Request will be processed"
    assert out["alias"] == "db-1/disk full?"


async def test_close_by_id_defaults(httpserver: HTTPServer, run_action: RunAction) -> None:
    fake = OpsgenieFake(httpserver)
    out = await _run(
        run_action,
        "opsgenie.close_alert",
        {"identifier": "70413a06-38d6-4c85-92b8-5ebc900d42e2"},
        fake.connection(),
    )
    assert fake.closed == [("70413a06-38d6-4c85-92b8-5ebc900d42e2", "id", {})]
    assert out["alias"] is None


async def test_close_with_a_bad_identifier_type_is_a_validation_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    fake = OpsgenieFake(httpserver)
    with pytest.raises(ApplicationError) as info:
        await _run(
            run_action,
            "opsgenie.close_alert",
            {"identifier": "x", "identifier_type": "name"},
            fake.connection(),
        )
    assert info.value.type == errors.VALIDATION_ERROR
    assert fake.closed == []


async def test_base_url_with_a_path_prefix(httpserver: HTTPServer, run_action: RunAction) -> None:
    # base_url with a path prefix (a proxy in front of Opsgenie): paths are appended.
    httpserver.expect_request("/opsgenie/v2/alerts", method="POST").respond_with_json(
        {"result": "Request will be processed", "took": 0.1, "requestId": "r-1"}, status=202
    )
    conn = Connection(
        "og",
        "opsgenie",
        fields={"base_url": httpserver.url_for("/opsgenie")},
        secrets={"api_key": SECRET},
    )
    out = await _run(run_action, "opsgenie.create_alert", {"message": "x"}, conn)
    assert out["request_id"] == "r-1"


async def test_rate_limit_is_retried(httpserver: HTTPServer, run_action: RunAction) -> None:
    httpserver.expect_request("/v2/alerts", method="POST").respond_with_json(
        {"message": "You are making too many requests!", "took": 0.0, "requestId": "r"},
        status=429,
        headers={"Retry-After": "2"},
    )
    conn = Connection(
        "og", "opsgenie", fields={"base_url": httpserver.url_for("/")}, secrets={"api_key": SECRET}
    )
    with pytest.raises(ApplicationError) as info:
        await _run(run_action, "opsgenie.create_alert", {"message": "x", "alias": "a"}, conn)
    assert info.value.type == errors.HTTP_SERVER_ERROR
    assert not info.value.non_retryable
    assert info.value.next_retry_delay is not None
    assert info.value.next_retry_delay.total_seconds() == 2
