"""Rerun from the failed step (`RunInput.reuse`): steps that succeeded are not executed again."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from werkzeug import Request, Response

from switchyard.engine.blobs import BlobStore
from switchyard.engine.client import reusable_steps

pytestmark = pytest.mark.temporal


class Api:
    """A fake third-party API counting the calls of each path; `/flaky` fails until fixed."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.calls: Counter[str] = Counter()
        self.fixed = False
        for path in ("/fetch", "/flaky", "/item"):
            server.expect_request(path).respond_with_handler(self._handle)

    def _handle(self, request: Request) -> Response:
        self.calls[request.path] += 1
        if request.path == "/flaky" and not self.fixed:
            return Response("down", status=500)
        body = {"/fetch": {"ok": True, "value": 10}, "/flaky": {"n": 5}}.get(
            request.path, {"item": request.args.get("i")}
        )
        return Response(json.dumps(body), content_type="application/json")

    def url(self, path: str) -> str:
        return str(self.server.url_for(path))


def definition(api: Api) -> str:
    return f"""
    name: rerun-me
    outputs:
      total: "{{{{ Steps.done.output }}}}"
    steps:
      - id: fetch
        action: http.request
        with: {{url: "{api.url("/fetch")}"}}
        next: remember
      - id: remember
        set: {{base: "{{{{ Steps.fetch.output.body.value }}}}"}}
        next: decide
      - id: decide
        if: "Steps.fetch.output.body.ok"
        then: [each]
        else: [other]
      - id: other
        transform: "'not taken'"
      - id: each
        for_each: "[1, 2]"
        do:
          - id: get
            action: http.request
            with: {{url: "{api.url("/item")}", query: {{i: "{{{{ Item }}}}"}}}}
        next: flaky
      - id: flaky
        action: http.request
        with: {{url: "{api.url("/flaky")}"}}
        retry: {{max_attempts: 1}}
        next: done
      - id: done
        transform: "Vars.base + Steps.flaky.output.body.n + Steps.each.output.length"
    """


async def test_rerun_from_failed_reuses_succeeded_steps_without_running_them(
    engine, http_server, tmp_data_dir
):
    api = Api(http_server)
    text = definition(api)
    first = await engine.run(text)
    assert first["status"] == "failed", first
    assert first["error"]["step"] == "flaky"
    assert dict(api.calls) == {"/fetch": 1, "/item": 2, "/flaky": 1}

    reuse = reusable_steps(first, BlobStore(tmp_data_dir / "blobs", threshold=128 * 1024))
    assert set(reuse) == {"fetch", "remember", "decide", "each"}
    api.fixed = True
    second = await engine.run(text, reuse=reuse)
    assert second["status"] == "succeeded", second
    # Nothing that succeeded before was called again: no activity, no loop child.
    assert dict(api.calls) == {"/fetch": 1, "/item": 2, "/flaky": 2}
    steps = second["steps"]
    for sid in ("fetch", "remember", "decide", "each"):
        assert steps[sid]["status"] == "succeeded" and steps[sid]["reused"] is True, sid
        assert steps[sid]["output"] == first["steps"][sid]["output"], sid
        assert steps[sid]["started_at"] == first["steps"][sid]["started_at"], sid
    assert "reused" not in steps["flaky"] and steps["flaky"]["attempts"] == 1
    assert steps["other"]["status"] == "skipped"  # the recorded branch was followed
    # A reused loop keeps its recorded iterations; a reused `set` sets its variables again.
    assert [it["index"] for it in steps["each"]["iterations"]] == [0, 1]
    assert second["outputs"] == {"total": 10 + 5 + 2}


@pytest.mark.no_record  # its histories refer to blobs in a temporary directory
async def test_large_reused_outputs_travel_as_blob_references(engine, tmp_data_dir):
    text = """
    name: rerun-big
    steps:
      - id: big
        transform: "'x'.repeat(300)"
        next: boom
      - id: boom
        transform: "Steps.big.output.length > 100 ? Steps.nothing.output : 1"
    """
    first = await engine.run(text)
    assert first["status"] == "failed" and first["steps"]["big"]["status"] == "succeeded"
    store = BlobStore(tmp_data_dir / "blobs", threshold=100)
    reuse = reusable_steps(first, store)
    assert BlobStore.is_ref(reuse["big"]["output"])  # the run input stays small
    second = await engine.run(
        text.replace("Steps.nothing.output", "Steps.big.output.slice(0, 3)"), reuse=reuse
    )
    assert second["status"] == "succeeded", second
    assert second["steps"]["boom"]["output"] == "xxx"
    assert second["steps"]["big"]["output"] == "x" * 300


async def test_without_reuse_every_step_runs(engine, http_server):
    api = Api(http_server)
    api.fixed = True
    run = await engine.run(definition(api), reuse={})
    assert run["status"] == "succeeded", run
    assert dict(api.calls) == {"/fetch": 1, "/item": 2, "/flaky": 1}
    assert not any(st.get("reused") for st in run["steps"].values())
