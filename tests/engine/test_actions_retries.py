"""Actions through the engine: http.request against a local fake, retries, timeouts, wait_until."""

from __future__ import annotations

import json
import time

import pytest
from werkzeug import Request, Response

pytestmark = pytest.mark.temporal


async def test_http_request_get_and_post(engine, http_server):
    http_server.expect_request("/pods", method="GET", query_string="ns=prod").respond_with_json(
        {"items": [{"name": "p1"}]}
    )
    http_server.expect_request(
        "/restart", method="POST", json={"pod": "p1"}, headers={"X-Team": "sre"}
    ).respond_with_data("ok", content_type="text/plain")
    run = await engine.run(
        f"""
        name: http-basic
        steps:
          - id: get
            action: http.request
            with:
              url: "{http_server.url_for("/pods")}"
              query: {{ns: prod}}
            next: post
          - id: post
            action: http.request
            with:
              method: POST
              url: "{http_server.url_for("/restart")}"
              headers: {{X-Team: sre}}
              json: {{pod: "{{{{ Steps.get.output.body.items[0].name }}}}"}}
        """
    )
    assert run["status"] == "succeeded", run
    assert run["steps"]["get"]["output"]["status"] == 200
    assert run["steps"]["get"]["output"]["body"] == {"items": [{"name": "p1"}]}
    assert run["steps"]["post"]["output"]["body"] == "ok"
    http_server.check_assertions()


async def test_retries_with_backoff_then_success(engine, http_server):
    calls: list[float] = []

    def flaky(request: Request) -> Response:
        calls.append(time.monotonic())
        if len(calls) < 3:
            return Response("busy", status=503)
        return Response(json.dumps({"ok": True}), content_type="application/json")

    http_server.expect_request("/flaky").respond_with_handler(flaky)
    run = await engine.run(
        f"""
        name: retrying
        steps:
          - id: call
            action: http.request
            with: {{url: "{http_server.url_for("/flaky")}"}}
            retry: {{max_attempts: 4, initial_interval: 1s, backoff: 3.0}}
        """
    )
    assert run["status"] == "succeeded", run
    assert run["steps"]["call"]["attempts"] == 3
    assert len(calls) == 3
    # backoff: the second wait is about twice the first
    assert calls[2] - calls[1] > (calls[1] - calls[0]) * 1.8


async def test_attempts_exhausted_fail_the_run(engine, http_server):
    http_server.expect_request("/down").respond_with_data("no", status=500)
    run = await engine.run(
        f"""
        name: exhausted
        steps:
          - id: call
            action: http.request
            with: {{url: "{http_server.url_for("/down")}"}}
            retry: {{max_attempts: 2, initial_interval: 100ms}}
        """
    )
    assert run["status"] == "failed"
    assert run["error"]["type"] == "HttpServerError" and run["error"]["step"] == "call"
    assert run["steps"]["call"]["attempts"] == 2
    assert len(http_server.log) == 2


async def test_client_errors_are_not_retried_and_non_retryable(engine, http_server):
    http_server.expect_request("/missing").respond_with_data("nope", status=404)
    http_server.expect_request("/err").respond_with_data("boom", status=502)
    run = await engine.run(
        f"""
        name: non-retryable
        steps:
          - id: notfound
            action: http.request
            with: {{url: "{http_server.url_for("/missing")}"}}
            retry: {{max_attempts: 5, initial_interval: 100ms}}
            on_error: continue
            next: server
          - id: server
            action: http.request
            with: {{url: "{http_server.url_for("/err")}"}}
            retry: {{max_attempts: 5, initial_interval: 100ms, non_retryable: [HttpServerError]}}
            on_error: continue
        """
    )
    assert run["status"] == "succeeded", run
    assert run["steps"]["notfound"]["error"]["type"] == "HttpClientError"
    assert run["steps"]["notfound"]["attempts"] == 1
    assert run["steps"]["server"]["error"]["type"] == "HttpServerError"
    assert run["steps"]["server"]["attempts"] == 1
    assert len(http_server.log) == 2


async def test_per_attempt_timeout(engine, http_server):
    def slow(request: Request) -> Response:
        time.sleep(3)
        return Response("late")

    http_server.expect_request("/slow").respond_with_handler(slow)
    run = await engine.run(
        f"""
        name: attempt-timeout
        steps:
          - id: call
            action: http.request
            with: {{url: "{http_server.url_for("/slow")}"}}
            timeout: 1s
            retry: {{max_attempts: 2, initial_interval: 100ms}}
        """
    )
    assert run["status"] == "failed"
    assert run["error"]["type"] == "Timeout"
    assert run["steps"]["call"]["attempts"] == 2


async def test_wait_until_polls_until_condition(engine, http_server):
    state = {"n": 0}

    def progress(request: Request) -> Response:
        state["n"] += 1
        return Response(json.dumps({"done": state["n"] >= 3}), content_type="application/json")

    http_server.expect_request("/job").respond_with_handler(progress)
    run = await engine.run(
        f"""
        name: poller
        steps:
          - id: job
            action: http.request
            with: {{url: "{http_server.url_for("/job")}"}}
            wait_until: {{condition: "Output.body.done", interval: 500ms, timeout: 30s}}
        """
    )
    assert run["status"] == "succeeded", run
    assert run["steps"]["job"]["output"]["body"] == {"done": True}
    assert state["n"] == 3


async def test_wait_until_timeout(engine, http_server):
    http_server.expect_request("/never").respond_with_json({"done": False})
    run = await engine.run(
        f"""
        name: poll-timeout
        steps:
          - id: job
            action: http.request
            with: {{url: "{http_server.url_for("/never")}"}}
            wait_until: {{condition: "Output.body.done", interval: 500ms, timeout: 2s}}
        """
    )
    assert run["status"] == "failed"
    assert run["error"]["type"] == "WaitTimeout"
