"""The Azure actions against a fake Entra ID token endpoint and Resource Manager."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from temporalio.exceptions import ApplicationError
from werkzeug import Response

from switchyard import errors
from switchyard.actions import get_action
from switchyard.actions.azure import _impl
from switchyard.connections import Connection
from switchyard.engine.options import LONG_RUNNING, READ, WRITE_IDEMPOTENT, WRITE_ONCE

from .conftest import RunAction, error_detail
from .live import SECRET
from .live.azure import COMPUTE_API, RESOURCES_API, SUB, TENANT, FakeAzure, resource

VM = {"resource_group": "prod-rg", "vm_name": "web-01"}
VM_PATH = (
    f"/arm/subscriptions/{SUB}/resourceGroups/prod-rg/providers/Microsoft.Compute/"
    "virtualMachines/web-01"
)


@pytest.fixture(autouse=True)
def _fresh_tokens() -> Iterator[None]:
    _impl.clear_token_cache()
    yield
    _impl.clear_token_cache()


async def _run(
    run_action: RunAction, action: str, params: dict[str, Any], conn: Connection, **kw: Any
) -> Any:
    result = await run_action(action, params, connection=conn.name, connections=[conn], **kw)
    return result.output


async def _fail(
    run_action: RunAction, action: str, params: dict[str, Any], conn: Connection, **kw: Any
) -> ApplicationError:
    with pytest.raises(ApplicationError) as info:
        await _run(run_action, action, params, conn, **kw)
    assert SECRET not in json.dumps(error_detail(info.value))
    return info.value


def _posts(fake: FakeAzure) -> list[str]:
    return [r.path for r in fake.arm_requests if r.method == "POST"]


# --- declarations ---------------------------------------------------------------


def test_options_classes() -> None:
    for name in ("azure.vm_start", "azure.vm_stop", "azure.vm_restart"):
        assert get_action(name).options_class(VM) == LONG_RUNNING
    assert get_action("azure.list_resources").options_class({}) == READ
    arm = get_action("azure.arm_request")
    assert arm.options_class({"method": "get"}) == READ
    assert arm.options_class({}) == READ
    assert arm.options_class({"method": "PUT"}) == WRITE_IDEMPOTENT
    assert arm.options_class({"method": "DELETE"}) == WRITE_IDEMPOTENT
    assert arm.options_class({"method": "POST"}) == WRITE_ONCE
    assert arm.options_class({"method": "PATCH"}) == WRITE_ONCE
    assert arm.options_class({"method": "{{ x }}"}) == WRITE_ONCE


# --- VM power actions -------------------------------------------------------------


async def test_vm_start_polls_the_async_operation_until_succeeded(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver, statuses=["InProgress", "InProgress", "Succeeded"])
    run_action.heartbeats.clear()  # type: ignore[attr-defined]
    out = await _run(run_action, "azure.vm_start", VM, fake.connection())
    assert out["status"] == "Succeeded"
    assert out["resource_id"] == VM_PATH.removeprefix("/arm")
    assert (
        "/providers/Microsoft.Compute/locations/westeurope/operations/op-1"
        in (out["operation_url"])
    )
    (post,) = [r for r in fake.arm_requests if r.method == "POST"]
    assert post.path == VM_PATH + "/start"
    assert post.args["api-version"] == COMPUTE_API
    assert fake.operations["op-1"].polls == 3
    # One token for the POST and every poll; the scope is ARM's.
    assert len(fake.token_requests) == 1
    assert fake.token_requests[0]["scope"] == f"{fake.arm_url}/.default"
    polled = [d for d in run_action.heartbeats if d and isinstance(d[0], dict)]  # type: ignore[attr-defined]
    assert [d[0]["status"] for d in polled] == ["InProgress", "InProgress", "Succeeded"]


@pytest.mark.parametrize(
    ("action", "params", "op", "query"),
    [
        ("azure.vm_stop", {}, "powerOff", {}),
        ("azure.vm_stop", {"skip_shutdown": True}, "powerOff", {"skipShutdown": "true"}),
        ("azure.vm_stop", {"deallocate": True}, "deallocate", {}),
        ("azure.vm_restart", {}, "restart", {}),
    ],
)
async def test_vm_operations_post_the_right_action(
    run_action: RunAction,
    httpserver: HTTPServer,
    action: str,
    params: dict[str, Any],
    op: str,
    query: dict[str, str],
) -> None:
    fake = FakeAzure(httpserver, statuses=["Succeeded"])
    out = await _run(run_action, action, {**VM, **params}, fake.connection())
    assert out["status"] == "Succeeded"
    (post,) = [r for r in fake.arm_requests if r.method == "POST"]
    assert post.path == f"{VM_PATH}/{op}"
    assert {k: v for k, v in post.args.items() if k != "api-version"} == query


async def test_no_wait_returns_accepted_with_the_operation_url(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver)
    out = await _run(run_action, "azure.vm_start", {**VM, "wait": False}, fake.connection())
    assert out["status"] == "Accepted"
    assert out["operation_url"].startswith(f"{fake.arm_url}/subscriptions/{SUB}/providers/")
    assert fake.operations["op-1"].polls == 0


async def test_location_only_operation_is_polled_until_200(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver, monitor="location", statuses=["InProgress", "Succeeded"])
    out = await _run(run_action, "azure.vm_restart", VM, fake.connection())
    assert out["status"] == "Succeeded"
    assert "monitor=true" in out["operation_url"]
    assert fake.operations["op-1"].polls == 2


async def test_synchronous_answer_needs_no_polling(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver, monitor="sync")
    out = await _run(run_action, "azure.vm_start", VM, fake.connection())
    assert out == {"status": "Succeeded", "operation_url": None, "resource_id": out["resource_id"]}
    assert [r.method for r in fake.arm_requests] == ["POST"]


@pytest.mark.parametrize("status", ["Failed", "Canceled"])
async def test_failed_operation_is_an_action_error_with_azures_error(
    run_action: RunAction, httpserver: HTTPServer, status: str
) -> None:
    error = {
        "code": "AllocationFailed",
        "message": "Allocation failed. We do not have sufficient capacity for the "
        "requested VM size.",
    }
    fake = FakeAzure(httpserver, statuses=["InProgress", status], op_error=error)
    exc = await _fail(run_action, "azure.vm_start", VM, fake.connection())
    assert exc.type == errors.ACTION_ERROR
    assert status in str(exc)
    assert "AllocationFailed" in str(exc) and "sufficient capacity" in str(exc)
    details = error_detail(exc)["details"]
    assert details["code"] == "AllocationFailed"
    assert "operations/op-1" in details["operation_url"]


async def test_failed_location_operation_is_an_action_error(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    error = {"code": "OperationPreempted", "message": "Preempted by a newer operation."}
    fake = FakeAzure(
        httpserver, monitor="location", statuses=["InProgress", "Failed"], op_error=error
    )
    exc = await _fail(run_action, "azure.vm_stop", VM, fake.connection())
    assert exc.type == errors.ACTION_ERROR
    assert "OperationPreempted" in str(exc) and "newer operation" in str(exc)


async def test_retry_after_is_honoured_between_polls(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver, statuses=["InProgress", "Succeeded"], retry_after="1")
    started = time.monotonic()
    await _run(run_action, "azure.vm_start", VM, fake.connection())
    # 1 s before the first poll (the 202's Retry-After), 1 s before the second.
    assert time.monotonic() - started >= 1.9


async def test_transient_poll_failures_are_retried_in_place(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver, statuses=["Succeeded"], poll_failures=2)
    out = await _run(run_action, "azure.vm_start", VM, fake.connection())
    assert out["status"] == "Succeeded"
    assert len(_posts(fake)) == 1  # the action itself was not sent again


async def test_operation_outliving_the_attempt_is_a_timeout(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver, statuses=["InProgress"], retry_after="1")
    exc = await _fail(run_action, "azure.vm_start", VM, fake.connection(), timeout=3)
    assert exc.type == errors.TIMEOUT
    assert not exc.non_retryable
    assert "operations/op-1" in error_detail(exc)["details"]["operation_url"]


async def test_heartbeats_while_waiting(
    run_action: RunAction, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_impl, "HEARTBEAT_EVERY", 0.1)
    fake = FakeAzure(httpserver, statuses=["InProgress", "Succeeded"], retry_after="1")
    run_action.heartbeats.clear()  # type: ignore[attr-defined]
    await _run(run_action, "azure.vm_start", VM, fake.connection())
    plain = [d for d in run_action.heartbeats if not d]  # type: ignore[attr-defined]
    assert len(plain) >= 10  # ~2 s of waiting at 0.1 s


async def test_operation_url_on_another_host_gets_no_token(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(VM_PATH + "/start", method="POST").respond_with_response(
        Response(
            "",
            202,
            {
                "Azure-AsyncOperation": "https://attacker.invalid/op?api-version=1",
                "Retry-After": "0",
            },
        )
    )
    fake = FakeAzure(httpserver)
    exc = await _fail(run_action, "azure.vm_start", VM, fake.connection())
    assert exc.type == errors.PERMISSION_DENIED
    assert "attacker.invalid" in str(exc)


async def test_missing_vm_is_a_client_error_with_arms_code(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver)
    exc = await _fail(run_action, "azure.vm_start", {**VM, "vm_name": "nope"}, fake.connection())
    assert exc.type == errors.HTTP_CLIENT_ERROR
    assert exc.non_retryable
    assert "ResourceNotFound" in str(exc) and "virtualMachines/nope" in str(exc)
    assert error_detail(exc)["details"]["code"] == "ResourceNotFound"


async def test_authorization_failed_is_permission_denied_with_code_and_message(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver, deny=True)
    exc = await _fail(run_action, "azure.vm_stop", VM, fake.connection())
    assert exc.type == errors.PERMISSION_DENIED
    assert "AuthorizationFailed" in str(exc)
    assert "does not have authorization" in str(exc)


# --- tokens ---------------------------------------------------------------------


async def test_token_is_cached_between_steps_and_masked(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver, statuses=["Succeeded"], echo=True)
    conn = fake.connection()
    first = await _run(run_action, "azure.vm_start", VM, conn)
    second = await _run(run_action, "azure.vm_restart", VM, conn)
    assert len(fake.token_requests) == 1
    form = fake.token_requests[0]
    assert form["grant_type"] == "client_credentials"
    assert form["client_secret"] == SECRET
    # The fake put the token into the operation URL: it is masked, also when
    # it came from the cache.
    for out in (first, second):
        assert fake.issued[0] not in json.dumps(out)
        assert "?p=***&" in out["operation_url"]


async def test_expired_token_is_fetched_again(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver, expires_in=0, resources=[])
    conn = fake.connection()
    await _run(run_action, "azure.list_resources", {}, conn)
    await _run(run_action, "azure.list_resources", {}, conn)
    assert len(fake.token_requests) == 2
    used = [r.headers["Authorization"] for r in fake.arm_requests]
    assert used == [f"Bearer {fake.issued[0]}", f"Bearer {fake.issued[1]}"]


async def test_refused_token_is_dropped_and_the_request_resent_once(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver, statuses=["Succeeded"])
    # The first token the fake will issue is revoked: ARM answers it 401.
    fake.refuse_tokens.add("eyJ0eXAiOiJKV1QifQ.fake-arm-token-1.c2ln")
    out = await _run(run_action, "azure.vm_start", VM, fake.connection())
    assert out["status"] == "Succeeded"
    assert len(fake.token_requests) == 2
    assert len(_posts(fake)) == 2  # refused (not processed), then accepted
    # The fresh token is the cached one now.
    await _run(run_action, "azure.list_resources", {}, fake.connection())
    assert len(fake.token_requests) == 2


async def test_token_refused_twice_is_permission_denied_without_a_loop(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver)
    fake.refuse_tokens.update(f"eyJ0eXAiOiJKV1QifQ.fake-arm-token-{i}.c2ln" for i in (1, 2, 3))
    exc = await _fail(run_action, "azure.list_resources", {}, fake.connection())
    assert exc.type == errors.PERMISSION_DENIED
    assert "ExpiredAuthenticationToken" in str(exc)
    assert len(fake.token_requests) == 2


async def test_wrong_client_secret_is_permission_denied(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver)
    conn = fake.connection()
    conn = Connection(conn.name, conn.type, fields=conn.fields, secrets={"client_secret": "bad"})
    exc = await _fail(run_action, "azure.list_resources", {}, conn)
    assert exc.type == errors.PERMISSION_DENIED
    assert exc.non_retryable
    assert "AADSTS7000215" in str(exc)
    assert fake.arm_requests == []


async def test_unknown_tenant_400_is_permission_denied(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver)
    conn = fake.connection(tenant_id="11111111-2222-3333-4444-555555555555")
    exc = await _fail(run_action, "azure.list_resources", {}, conn)
    assert exc.type == errors.PERMISSION_DENIED
    assert "AADSTS90002" in str(exc)


async def test_wrong_authority_url_404_is_a_client_error(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver)
    conn = fake.connection(authority_url=httpserver.url_for("/aad/wrong"))
    exc = await _fail(run_action, "azure.list_resources", {}, conn)
    assert exc.type == errors.HTTP_CLIENT_ERROR


async def test_throttled_token_endpoint_is_retried_after_its_delay(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(f"/aad/{TENANT}/oauth2/v2.0/token").respond_with_response(
        Response('{"error": "temporarily_unavailable"}', 429, {"Retry-After": "12"})
    )
    fake = FakeAzure(httpserver)
    exc = await _fail(run_action, "azure.list_resources", {}, fake.connection())
    assert exc.type == errors.HTTP_SERVER_ERROR
    assert not exc.non_retryable
    assert exc.next_retry_delay is not None and exc.next_retry_delay.total_seconds() == 12


@pytest.mark.parametrize(
    ("fields", "secrets", "needle"),
    [
        ({}, {}, "client_secret"),
        ({"tenant_id": None}, {"client_secret": "sekrit-1"}, "tenant_id"),
        ({"client_id": None}, {"client_secret": "sekrit-1"}, "client_id"),
        ({"tenant_id": "../evil"}, {"client_secret": "sekrit-1"}, "tenant"),
        ({"subscription_id": None}, {"client_secret": "sekrit-1"}, "subscription"),
    ],
)
async def test_bad_connection_is_a_validation_error(
    run_action: RunAction,
    httpserver: HTTPServer,
    fields: dict[str, Any],
    secrets: dict[str, str],
    needle: str,
) -> None:
    fake = FakeAzure(httpserver)
    base = fake.connection()
    merged = {k: v for k, v in {**base.fields, **fields}.items() if v is not None}
    conn = Connection("az", "azure", fields=merged, secrets=secrets)
    exc = await _fail(run_action, "azure.vm_start", VM, conn)
    assert exc.type == errors.VALIDATION_ERROR
    assert needle in str(exc)
    assert fake.token_requests == [] and fake.arm_requests == []


# --- list_resources -------------------------------------------------------------


def _five() -> list[dict[str, Any]]:
    return [
        resource("prod-rg", "Microsoft.Compute/virtualMachines", "web-01", {"env": "prod"}),
        resource("prod-rg", "Microsoft.Network/networkInterfaces", "web-01-nic"),
        resource("dev-rg", "Microsoft.Compute/virtualMachines", "dev-01", {"env": "o'dev"}),
        resource("prod-rg", "Microsoft.Compute/virtualMachines", "web-02", {"env": "prod"}),
        resource("dev-rg", "Microsoft.Storage/storageAccounts", "devstore"),
    ]


async def test_list_follows_next_link_across_pages(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver, resources=_five(), page_size=2)
    out = await _run(run_action, "azure.list_resources", {}, fake.connection())
    assert out["count"] == 5 and not out["truncated"]
    assert [i["name"] for i in out["items"]] == [
        "web-01",
        "web-01-nic",
        "dev-01",
        "web-02",
        "devstore",
    ]
    assert out["items"][1]["tags"] == {}  # untagged: ARM sends no `tags`
    assert out["items"][0] == {
        "id": f"/subscriptions/{SUB}/resourceGroups/prod-rg/providers/"
        "Microsoft.Compute/virtualMachines/web-01",
        "name": "web-01",
        "type": "Microsoft.Compute/virtualMachines",
        "location": "westeurope",
        "resource_group": "prod-rg",
        "tags": {"env": "prod"},
    }
    gets = fake.arm_requests
    assert len(gets) == 3
    assert all(r.args["api-version"] == RESOURCES_API for r in gets)
    assert gets[0].path == f"/arm/subscriptions/{SUB}/resources"
    assert [r.args.get("$skiptoken") for r in gets] == [None, "2", "4"]


async def test_list_stops_at_max_items(run_action: RunAction, httpserver: HTTPServer) -> None:
    fake = FakeAzure(httpserver, resources=_five(), page_size=2)
    out = await _run(run_action, "azure.list_resources", {"max_items": 3}, fake.connection())
    assert out["count"] == 3 and out["truncated"]
    assert len(fake.arm_requests) == 2
    fake.arm_requests.clear()
    out = await _run(run_action, "azure.list_resources", {"max_items": 4}, fake.connection())
    assert out["count"] == 4 and out["truncated"]  # a nextLink was left
    assert len(fake.arm_requests) == 2


async def test_list_by_type_in_a_resource_group(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver, resources=_five(), page_size=10)
    out = await _run(
        run_action,
        "azure.list_resources",
        {"resource_group": "prod-rg", "resource_type": "Microsoft.Compute/virtualMachines"},
        fake.connection(),
    )
    assert [i["name"] for i in out["items"]] == ["web-01", "web-02"]
    (req,) = fake.arm_requests
    assert req.path == f"/arm/subscriptions/{SUB}/resourceGroups/prod-rg/resources"
    assert req.args["$filter"] == "resourceType eq 'Microsoft.Compute/virtualMachines'"


async def test_list_by_tag_quotes_the_value(run_action: RunAction, httpserver: HTTPServer) -> None:
    fake = FakeAzure(httpserver, resources=_five(), page_size=10)
    out = await _run(
        run_action,
        "azure.list_resources",
        {"tag_name": "env", "tag_value": "o'dev"},
        fake.connection(),
    )
    assert [i["name"] for i in out["items"]] == ["dev-01"]
    assert out["items"][0]["tags"] is None  # ARM leaves tags out of tag-filtered lists
    assert fake.arm_requests[0].args["$filter"] == "tagName eq 'env' and tagValue eq 'o''dev'"


async def test_list_with_a_filter_arm_rejects(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver, resources=_five())
    exc = await _fail(
        run_action, "azure.list_resources", {"filter": "name eq 'x' or"}, fake.connection()
    )
    assert exc.type == errors.HTTP_CLIENT_ERROR
    assert "InvalidFilterInQueryString" in str(exc)


async def test_next_link_to_another_host_is_refused(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(f"/arm/subscriptions/{SUB}/resources").respond_with_json(
        {"value": [], "nextLink": "https://attacker.invalid/next?api-version=1"}
    )
    fake = FakeAzure(httpserver)
    exc = await _fail(run_action, "azure.list_resources", {}, fake.connection())
    assert exc.type == errors.PERMISSION_DENIED


@pytest.mark.parametrize(
    "params",
    [
        {"tag_value": "x"},
        {"filter": "x", "resource_type": "A/b"},
        {"tag_name": "env", "resource_type": "Microsoft.Compute/virtualMachines"},
        {"resource_group": "bad/rg"},
        {"subscription_id": "not-a-guid"},
        {"max_items": 0},
    ],
)
async def test_list_bad_parameters(
    run_action: RunAction, httpserver: HTTPServer, params: dict[str, Any]
) -> None:
    fake = FakeAzure(httpserver)
    exc = await _fail(run_action, "azure.list_resources", params, fake.connection())
    assert exc.type == errors.VALIDATION_ERROR


# --- arm_request ----------------------------------------------------------------


async def test_arm_get_under_the_connections_subscription(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver)
    out = await _run(
        run_action,
        "azure.arm_request",
        {
            "path": "/resourceGroups/prod-rg/providers/Microsoft.Compute/virtualMachines/web-01",
            "api_version": COMPUTE_API,
            "query": {"$expand": "instanceView"},
        },
        fake.connection(),
    )
    assert out["status"] == 200
    assert out["body"]["name"] == "web-01"
    assert out["body"]["properties"]["instanceView"]["statuses"][0]["code"] == "PowerState/running"
    assert out["headers"]["x-ms-request-id"] == "req-1"
    assert out["headers"]["etag"] == '"1"'
    assert "date" not in out["headers"]
    (req,) = fake.arm_requests
    assert req.path == VM_PATH
    assert req.args["api-version"] == COMPUTE_API


async def test_arm_patch_sends_the_json_body(run_action: RunAction, httpserver: HTTPServer) -> None:
    fake = FakeAzure(httpserver)
    out = await _run(
        run_action,
        "azure.arm_request",
        {
            "method": "patch",
            "path": VM_PATH.removeprefix("/arm"),
            "api_version": COMPUTE_API,
            "body": {"tags": {"incident": "INC-7"}},
        },
        fake.connection(),
    )
    assert out["body"]["tags"] == {"env": "prod", "incident": "INC-7"}
    assert fake.arm_requests[0].method == "PATCH"
    assert fake.arm_requests[0].get_json() == {"tags": {"incident": "INC-7"}}


async def test_arm_delete_202_returns_the_location(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver)
    out = await _run(
        run_action,
        "azure.arm_request",
        {"method": "DELETE", "path": VM_PATH.removeprefix("/arm"), "api_version": COMPUTE_API},
        fake.connection(),
    )
    assert out["status"] == 202
    assert out["body"] is None
    assert out["headers"]["location"].startswith(fake.arm_url)


async def test_arm_absolute_url_on_arm_and_provider_paths(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver)
    out = await _run(
        run_action,
        "azure.arm_request",
        {
            "path": f"{fake.arm_url}/providers/Microsoft.Compute/operations?api-version=old",
            "api_version": COMPUTE_API,
        },
        fake.connection(),
    )
    assert out["body"]["value"][0]["name"].startswith("Microsoft.Compute/")
    assert fake.arm_requests[0].args.getlist("api-version") == [COMPUTE_API]


async def test_arm_missing_api_version_would_be_refused_by_arm(
    run_action: RunAction, httpserver: HTTPServer
) -> None:
    fake = FakeAzure(httpserver)
    exc = await _fail(
        run_action,
        "azure.arm_request",
        {"path": VM_PATH.removeprefix("/arm"), "api_version": "1999-01-01"},
        fake.connection(),
    )
    assert exc.type == errors.HTTP_CLIENT_ERROR
    assert "InvalidApiVersionParameter" in str(exc)


@pytest.mark.parametrize(
    ("path", "etype"),
    [
        ("https://attacker.invalid/subscriptions/x", errors.PERMISSION_DENIED),
        ("/foo/bar", errors.VALIDATION_ERROR),
        ("subscriptions/x", errors.VALIDATION_ERROR),
        ("/subscriptions/../oauth2", errors.VALIDATION_ERROR),
    ],
)
async def test_arm_refuses_paths_outside_arm(
    run_action: RunAction, httpserver: HTTPServer, path: str, etype: str
) -> None:
    fake = FakeAzure(httpserver)
    exc = await _fail(
        run_action, "azure.arm_request", {"path": path, "api_version": "1"}, fake.connection()
    )
    assert exc.type == etype
    assert fake.arm_requests == []
