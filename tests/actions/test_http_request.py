"""http.request against local pytest-httpserver servers, through the real activity."""

from __future__ import annotations

import json
import socket
import time
from email.utils import formatdate
from typing import Any

import httpcore
import pytest
from pytest_httpserver import HTTPServer
from temporalio.exceptions import ApplicationError
from werkzeug import Request, Response

from switchyard import errors
from switchyard.actions.http._request import parse_retry_after
from switchyard.connections import Connection

from .conftest import RunAction, error_detail


async def test_get_returns_status_headers_and_json_body(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    httpserver.expect_request("/items", method="GET").respond_with_json(
        {"items": [1, 2]}, headers={"X-Trace": "abc"}
    )
    result = await run_action("http.request", {"url": httpserver.url_for("/items")})
    assert result.attempt == 1
    assert result.output["status"] == 200
    assert result.output["body"] == {"items": [1, 2]}
    assert result.output["headers"]["x-trace"] == "abc"
    assert result.output["headers"]["content-type"] == "application/json"


async def test_text_body_is_returned_as_text(httpserver: HTTPServer, run_action: RunAction) -> None:
    httpserver.expect_request("/t").respond_with_data("plain {not json}", content_type="text/plain")
    result = await run_action("http.request", {"url": httpserver.url_for("/t")})
    assert result.output["body"] == "plain {not json}"


async def test_vendor_json_content_type_is_parsed(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    httpserver.expect_request("/p").respond_with_data(
        '{"title": "x"}', content_type="application/problem+json"
    )
    result = await run_action(
        "http.request", {"url": httpserver.url_for("/p"), "fail_on_status": []}
    )
    assert result.output["body"] == {"title": "x"}


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"])
async def test_methods(httpserver: HTTPServer, run_action: RunAction, method: str) -> None:
    httpserver.expect_request("/m", method=method).respond_with_data("ok")
    result = await run_action(
        "http.request", {"method": method.lower(), "url": httpserver.url_for("/m")}
    )
    assert result.output["status"] == 200
    assert result.output["body"] == ("" if method == "HEAD" else "ok")


async def test_query_and_headers_are_sent(httpserver: HTTPServer, run_action: RunAction) -> None:
    httpserver.expect_request(
        "/q",
        query_string="a=1&b=x+y&flag=true&multi=1&multi=2",
        headers={"X-One": "1", "X-Name": "sw"},
    ).respond_with_data("ok")
    result = await run_action(
        "http.request",
        {
            "url": httpserver.url_for("/q"),
            "query": {"a": 1, "b": "x y", "flag": True, "multi": [1, 2]},
            "headers": {"X-One": 1, "X-Name": "sw"},
        },
    )
    assert result.output["status"] == 200


async def test_json_body_is_sent_as_json(httpserver: HTTPServer, run_action: RunAction) -> None:
    httpserver.expect_request(
        "/j",
        method="POST",
        json={"a": [1, {"b": None}]},
        headers={"Content-Type": "application/json"},
    ).respond_with_json({"created": True}, status=201)
    result = await run_action(
        "http.request",
        {"method": "POST", "url": httpserver.url_for("/j"), "json": {"a": [1, {"b": None}]}},
    )
    assert result.output == {
        "status": 201,
        "headers": result.output["headers"],
        "body": {"created": True},
    }


async def test_text_body_is_sent_verbatim(httpserver: HTTPServer, run_action: RunAction) -> None:
    httpserver.expect_request("/b", method="PUT", data="raw text é").respond_with_data("ok")
    result = await run_action(
        "http.request", {"method": "PUT", "url": httpserver.url_for("/b"), "body": "raw text é"}
    )
    assert result.output["status"] == 200


async def test_json_and_body_together_is_a_validation_error(run_action: RunAction) -> None:
    with pytest.raises(ApplicationError) as info:
        await run_action("http.request", {"url": "http://x.test/", "json": {}, "body": "b"})
    assert info.value.type == errors.VALIDATION_ERROR
    assert info.value.non_retryable
    assert "not both" in info.value.message


@pytest.mark.parametrize(
    ("status", "fail_on_status", "expected"),
    [
        (404, None, errors.HTTP_CLIENT_ERROR),
        (400, ["4xx"], errors.HTTP_CLIENT_ERROR),
        (500, None, errors.HTTP_SERVER_ERROR),
        (503, ["500-504"], errors.HTTP_SERVER_ERROR),
        (404, [404], errors.HTTP_CLIENT_ERROR),
        (404, ["5xx"], None),
        (500, ["4xx"], None),
        (404, [], None),
        (200, ["2xx"], errors.HTTP_CLIENT_ERROR),
        (201, [200], None),
    ],
)
async def test_fail_on_status_codes_and_ranges(
    httpserver: HTTPServer,
    run_action: RunAction,
    status: int,
    fail_on_status: list[Any] | None,
    expected: str | None,
) -> None:
    httpserver.expect_request("/s").respond_with_json({"e": 1}, status=status)
    params: dict[str, Any] = {"url": httpserver.url_for("/s")}
    if fail_on_status is not None:
        params["fail_on_status"] = fail_on_status
    if expected is None:
        result = await run_action("http.request", params)
        assert result.output["status"] == status
        return
    with pytest.raises(ApplicationError) as info:
        await run_action("http.request", params)
    assert info.value.type == expected
    detail = error_detail(info.value)
    assert detail["type"] == expected
    assert detail["details"]["status"] == status
    assert detail["details"]["body"] == {"e": 1}
    assert detail["attempt"] == 1


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
async def test_server_errors_are_retryable_and_honour_retry_after(
    httpserver: HTTPServer, run_action: RunAction, status: int
) -> None:
    httpserver.expect_request("/r").respond_with_data(
        "busy", status=status, headers={"Retry-After": "7"}
    )
    with pytest.raises(ApplicationError) as info:
        await run_action("http.request", {"url": httpserver.url_for("/r")}, attempt=3)
    assert info.value.type == errors.HTTP_SERVER_ERROR
    assert not info.value.non_retryable
    assert info.value.next_retry_delay is not None
    assert info.value.next_retry_delay.total_seconds() == 7
    assert error_detail(info.value)["attempt"] == 3


async def test_retry_after_http_date(httpserver: HTTPServer, run_action: RunAction) -> None:
    when = formatdate(time.time() + 120, usegmt=True)
    httpserver.expect_request("/r").respond_with_data("", status=429, headers={"Retry-After": when})
    with pytest.raises(ApplicationError) as info:
        await run_action("http.request", {"url": httpserver.url_for("/r")})
    assert info.value.next_retry_delay is not None
    assert 100 < info.value.next_retry_delay.total_seconds() <= 120


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("-4") == 0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470) == 10
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
async def test_client_errors_are_not_retryable(
    httpserver: HTTPServer, run_action: RunAction, status: int
) -> None:
    httpserver.expect_request("/c").respond_with_data(
        "no", status=status, headers={"Retry-After": "5"}
    )
    with pytest.raises(ApplicationError) as info:
        await run_action("http.request", {"url": httpserver.url_for("/c")})
    assert info.value.type == errors.HTTP_CLIENT_ERROR
    assert info.value.non_retryable
    assert info.value.next_retry_delay is None


async def test_redirects_are_followed_by_default(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    httpserver.expect_request("/old").respond_with_data(
        "", status=302, headers={"Location": "/new"}
    )
    httpserver.expect_request("/new").respond_with_json({"here": True})
    result = await run_action("http.request", {"url": httpserver.url_for("/old")})
    assert result.output["status"] == 200
    assert result.output["body"] == {"here": True}


async def test_redirects_not_followed_when_disabled(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": "/new"}
    )
    result = await run_action(
        "http.request", {"url": httpserver.url_for("/old"), "follow_redirects": False}
    )
    assert result.output["status"] == 301
    assert result.output["headers"]["location"] == "/new"


async def test_redirect_loop_is_an_action_error(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    httpserver.expect_request("/loop").respond_with_data(
        "", status=302, headers={"Location": "/loop"}
    )
    with pytest.raises(ApplicationError) as info:
        await run_action("http.request", {"url": httpserver.url_for("/loop")})
    assert info.value.type == errors.ACTION_ERROR


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_connection_refused_is_a_retryable_action_error(run_action: RunAction) -> None:
    with pytest.raises(ApplicationError) as info:
        await run_action("http.request", {"url": f"http://127.0.0.1:{_closed_port()}/"})
    assert info.value.type == errors.ACTION_ERROR
    assert not info.value.non_retryable


async def test_slow_server_is_a_retryable_timeout(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.5)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    started = time.monotonic()
    with pytest.raises(ApplicationError) as info:
        # The client timeout stays under the attempt's start-to-close timeout.
        await run_action("http.request", {"url": httpserver.url_for("/slow")}, timeout=0.6)
    assert time.monotonic() - started < 1.4
    assert info.value.type == errors.TIMEOUT
    assert not info.value.non_retryable


async def test_relative_url_without_connection_is_a_validation_error(
    run_action: RunAction,
) -> None:
    with pytest.raises(ApplicationError) as info:
        await run_action("http.request", {"url": "/just/a/path"})
    assert info.value.type == errors.VALIDATION_ERROR
    assert info.value.non_retryable


@pytest.mark.parametrize("url", ["ftp://example.test/x", "file:///etc/passwd"])
async def test_non_http_schemes_are_refused(run_action: RunAction, url: str) -> None:
    with pytest.raises(ApplicationError) as info:
        await run_action("http.request", {"url": url})
    assert info.value.type == errors.VALIDATION_ERROR


async def test_connection_base_url_and_default_headers(
    httpserver: HTTPServer, run_action: RunAction
) -> None:
    httpserver.expect_request(
        "/api/v2/users", headers={"X-Team": "sre", "X-Step": "mine"}
    ).respond_with_json([])
    conn = Connection(
        "api",
        "http",
        fields={
            "base_url": httpserver.url_for("/api/v2/"),
            "headers": {"X-Team": "sre", "X-Step": "default"},
        },
    )
    result = await run_action(
        "http.request",
        {"url": "/users", "headers": {"X-Step": "mine"}},
        connection="api",
        connections=[conn],
    )
    assert result.output["body"] == []


async def test_large_response_goes_to_the_blob_store(
    httpserver: HTTPServer, run_action: RunAction, tmp_path: Any
) -> None:
    from switchyard.engine.blobs import BlobStore

    store = BlobStore(tmp_path / "small", threshold=1000)
    big = {"rows": ["x" * 100] * 50}
    httpserver.expect_request("/big").respond_with_json(big)
    result = await run_action("http.request", {"url": httpserver.url_for("/big")}, store=store)
    assert BlobStore.is_ref(result.output)
    assert store.get(result.output)["body"] == big


# ---------------------------------------------------------------- address guard


class ConnectSpy:
    """Records every TCP connect httpcore attempts (and refuses link-local ones)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.hosts: list[str] = []
        original = httpcore.AsyncConnectionPool.__init__
        spy = self

        class SpyBackend(httpcore.AsyncNetworkBackend):
            def __init__(self, inner: Any) -> None:
                self.inner = inner

            async def connect_tcp(self, host: str, port: int, **kw: Any) -> Any:
                spy.hosts.append(host)
                if host.startswith("169.254.") or host.startswith("fe80"):
                    # Never actually send a packet there from a test.
                    raise httpcore.ConnectError("test: link-local connect blocked by spy")
                return await self.inner.connect_tcp(host, port, **kw)

            async def sleep(self, seconds: float) -> None:
                await self.inner.sleep(seconds)

        def init(pool: Any, *args: Any, **kwargs: Any) -> None:
            original(pool, *args, **kwargs)
            pool._network_backend = SpyBackend(pool._network_backend)

        monkeypatch.setattr(httpcore.AsyncConnectionPool, "__init__", init)


@pytest.fixture
def connect_spy(monkeypatch: pytest.MonkeyPatch) -> ConnectSpy:
    return ConnectSpy(monkeypatch)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.10.1:8080/",
        "http://[fe80::1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00:ec2::254]/",
        "http://100.100.100.200/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://2852039166/",  # 169.254.169.254 as one decimal number
    ],
)
async def test_link_local_and_metadata_addresses_are_refused_before_connecting(
    run_action: RunAction, connect_spy: ConnectSpy, url: str
) -> None:
    with pytest.raises(ApplicationError) as info:
        await run_action("http.request", {"url": url})
    assert info.value.type == errors.PERMISSION_DENIED
    assert info.value.non_retryable
    assert connect_spy.hosts == []


async def test_every_resolved_address_is_checked(
    run_action: RunAction, connect_spy: ConnectSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = socket.getaddrinfo

    def fake(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "mixed.test":
            return real("127.0.0.1", *args, **kwargs) + real("169.254.169.254", *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    with pytest.raises(ApplicationError) as info:
        await run_action("http.request", {"url": "http://mixed.test/"})
    assert info.value.type == errors.PERMISSION_DENIED
    assert connect_spy.hosts == []


async def test_redirect_to_metadata_is_refused(
    httpserver: HTTPServer, run_action: RunAction, connect_spy: ConnectSpy
) -> None:
    httpserver.expect_request("/go").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    with pytest.raises(ApplicationError) as info:
        await run_action("http.request", {"url": httpserver.url_for("/go")})
    assert info.value.type == errors.PERMISSION_DENIED
    assert all(not h.startswith("169.254") for h in connect_spy.hosts)
    assert connect_spy.hosts  # the first request did connect (to the local server)


async def test_connection_may_allow_private_metadata(
    run_action: RunAction, connect_spy: ConnectSpy
) -> None:
    conn = Connection("meta", "http", fields={"allow_private_metadata": True})
    with pytest.raises(ApplicationError) as info:
        await run_action(
            "http.request",
            {"url": "http://169.254.169.254/latest/meta-data/"},
            connection="meta",
            connections=[conn],
        )
    # The guard let it through: the (spied) connect was attempted.
    assert connect_spy.hosts == ["169.254.169.254"]
    assert info.value.type == errors.ACTION_ERROR


def test_output_shape_is_json(httpserver: HTTPServer) -> None:
    # The output is plain JSON data (it travels through Temporal payloads).
    json.dumps({"status": 200, "headers": {}, "body": None})
