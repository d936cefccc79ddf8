"""Engine fixtures: a real worker on the session's dev server, and a way to run YAML."""

from __future__ import annotations

import asyncio
import json
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pytest_httpserver import HTTPServer
from temporalio.client import Client, WorkflowHandle
from werkzeug import Request, Response

from switchyard.connections import StaticConnections
from switchyard.definition.loader import load_text, parse_workflow
from switchyard.definition.model import Workflow
from switchyard.engine import client as engine_client
from switchyard.engine.blobs import BlobStore
from switchyard.engine.worker import build_worker


def parse(text: str) -> Workflow:
    wf, problems = parse_workflow(load_text(textwrap.dedent(text)))
    errors = [p for p in problems if p.severity == "error"]
    assert wf is not None and not errors, errors
    return wf


@dataclass
class Engine:
    """Runs definitions on a real worker; each test has its own task queue."""

    client: Client
    task_queue: str
    definitions_dir: Path
    histories: list[tuple[str, str]] = field(default_factory=list)

    async def start(
        self, text: str, inputs: dict[str, Any] | None = None, **kw: Any
    ) -> WorkflowHandle[Any, dict[str, Any]]:
        wf = parse(text)
        handle = await engine_client.start_run(
            self.client, wf, inputs or {}, task_queue=self.task_queue, **kw
        )
        self.histories.append((wf.name, handle.id))
        return handle

    async def run(
        self, text: str, inputs: dict[str, Any] | None = None, **kw: Any
    ) -> dict[str, Any]:
        timeout = kw.pop("timeout", 120)
        handle = await self.start(text, inputs, **kw)
        return await asyncio.wait_for(engine_client.wait_result(handle), timeout=timeout)

    def add_definition(self, text: str) -> None:
        wf = parse(text)
        (self.definitions_dir / f"{wf.name}.yaml").write_text(textwrap.dedent(text))


HISTORIES = Path(__file__).parent.parent / "replay" / "histories"


async def save_histories(client: Client, task_queue: str, name: str) -> int:
    """Write the history of every workflow that ran on `task_queue` to the replay corpus."""
    HISTORIES.mkdir(parents=True, exist_ok=True)
    for old in HISTORIES.glob(f"{name}--*.json"):
        old.unlink()
    n = 0
    async for execution in client.list_workflows(f"TaskQueue = '{task_queue}'"):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        history = await handle.fetch_history()
        n += 1
        data = {"workflow_id": execution.id, **history.to_json_dict()}
        (HISTORIES / f"{name}--{n:02d}.json").write_text(json.dumps(data, indent=1))
    return n


@pytest_asyncio.fixture(loop_scope="session")
async def engine(
    client: Client,
    task_queue: str,
    tmp_data_dir: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    record_histories: bool,
) -> AsyncIterator[Engine]:
    """A worker on this test's task queue.

    With `--record-histories`, the histories of the runs are written to
    tests/replay/histories/ afterwards (tests marked `no_record` are left out:
    their histories refer to blobs in a temporary directory or are too big).
    """
    defs = tmp_path / "definitions"
    defs.mkdir()
    worker = build_worker(
        client,
        task_queue,
        connections=StaticConnections({}),
        definitions=defs,
        blobs=BlobStore(tmp_data_dir / "blobs", threshold=128 * 1024),
    )
    async with worker:
        yield Engine(client, task_queue, defs)
    if record_histories and request.node.get_closest_marker("no_record") is None:
        await asyncio.sleep(1)  # visibility catches up with the last completions
        await save_histories(client, task_queue, request.node.name.replace("/", "_"))


@pytest.fixture
def http_server(httpserver):  # type: ignore[no-untyped-def]
    """pytest-httpserver's server (a local fake of a third-party HTTP API)."""
    return httpserver


class ConcurrencyProbe:
    """A threaded local HTTP server that records the most requests it served at once."""

    def __init__(self, delay: float = 0.3) -> None:
        self.delay = delay
        self.max = 0
        self._now = 0
        self._lock = threading.Lock()
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.server.expect_request("/work").respond_with_handler(self._handle)

    def _handle(self, request: Request) -> Response:
        with self._lock:
            self._now += 1
            self.max = max(self.max, self._now)
        time.sleep(self.delay)
        with self._lock:
            self._now -= 1
        return Response("{}", content_type="application/json")

    @property
    def url(self) -> str:
        return self.server.url_for("/work")

    @property
    def requests(self) -> int:
        return len(self.server.log)


@pytest.fixture
def concurrency_probe() -> Iterator[ConcurrencyProbe]:
    probe = ConcurrencyProbe()
    probe.server.start()
    yield probe
    probe.server.stop()
