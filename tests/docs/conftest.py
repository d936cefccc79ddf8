"""Fixtures for the documentation tests: run an example definition on a real worker.

The worker looks `call:` targets up in the example's own directory, as
`switchyard run FILE` does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from switchyard.connections import StaticConnections
from switchyard.definition.loader import parse_text
from switchyard.engine import client as engine_client
from switchyard.engine.blobs import BlobStore
from switchyard.engine.worker import build_worker

RunExample = Callable[[Path, str, dict[str, Any]], Awaitable[dict[str, Any]]]

#: Longest an example may take (the slowest ones sleep or wait for a few seconds).
RUN_TIMEOUT = 120


@pytest.fixture
def run_example(client: Client, task_queue: str, tmp_data_dir: Path) -> RunExample:
    """Run an example's text (maybe edited, e.g. with a fake server's URL) to its end."""

    async def run(path: Path, text: str, inputs: dict[str, Any]) -> dict[str, Any]:
        wf, problems = parse_text(text, filename=path.name)
        assert wf is not None, problems
        worker = build_worker(
            client,
            task_queue,
            connections=StaticConnections({}),
            definitions=path.parent,
            blobs=BlobStore(tmp_data_dir / "blobs", threshold=128 * 1024),
        )
        async with worker:
            handle = await engine_client.start_run(client, wf, inputs, task_queue=task_queue)
            wait = getattr(engine_client, "wait_result", None)
            result = wait(handle) if wait is not None else handle.result()
            return await asyncio.wait_for(result, timeout=RUN_TIMEOUT)

    return run
