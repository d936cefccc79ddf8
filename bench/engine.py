"""Engine throughput: a Switchyard `for_each` against the raw Temporal SDK.

Both run N echo activities with the same concurrency on the same embedded dev
server, in this process:

- baseline: a hand-written workflow that starts the activities itself
  (a semaphore bounds the concurrency) and returns their results;
- Switchyard: `for_each` over N items, body one `core.echo` action, through
  the interpreter (loop child workflows, expressions, run state, options
  classes).

Prints activities per second for each and the ratio Switchyard / baseline.
Run: `uv run python bench/engine.py [N] [CONCURRENCY]`.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.worker import Worker

from switchyard.definition.loader import parse_text
from switchyard.engine.client import start_run, wait_result
from switchyard.engine.devserver import DevServer
from switchyard.engine.worker import build_worker, workflow_runner


@activity.defn(name="bench.echo")
async def echo(value: int) -> int:
    return value


@workflow.defn(name="bench.fanout")
class Fanout:
    @workflow.run
    async def run(self, n: int, concurrency: int) -> list[int]:
        sem = asyncio.Semaphore(concurrency)

        async def one(i: int) -> int:
            async with sem:
                return await workflow.execute_activity(
                    "bench.echo", i, start_to_close_timeout=timedelta(seconds=30)
                )

        return list(await asyncio.gather(*(one(i) for i in range(n))))


async def baseline(client, n: int, concurrency: int) -> float:  # type: ignore[no-untyped-def]
    queue = f"bench-raw-{uuid.uuid4().hex[:6]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[Fanout],
        activities=[echo],
        workflow_runner=workflow_runner(),
    ):
        t0 = time.perf_counter()
        out = await client.execute_workflow(
            Fanout.run, args=[n, concurrency], id=queue, task_queue=queue
        )
        elapsed = time.perf_counter() - t0
    assert out == list(range(n))
    return elapsed


async def switchyard(client, n: int, concurrency: int) -> float:  # type: ignore[no-untyped-def]
    queue = f"bench-sy-{uuid.uuid4().hex[:6]}"
    wf, problems = parse_text(
        f"""
name: bench-each
steps:
  - id: each
    for_each: "Array.from({{length: {n}}}, (_, i) => i)"
    concurrency: {concurrency}
    do:
      - id: echo
        action: core.echo
        with: {{v: "{{{{ Item }}}}"}}
    output: "Steps.echo.output.v"
"""
    )
    assert wf is not None, problems
    async with build_worker(client, queue):
        t0 = time.perf_counter()
        handle = await start_run(client, wf, {}, task_queue=queue)
        run = await wait_result(handle)
        elapsed = time.perf_counter() - t0
    assert run["status"] == "succeeded", run["error"]
    assert run["steps"]["each"]["output"] == list(range(n))
    return elapsed


async def main(n: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        import os

        os.environ["SWITCHYARD_DATA_DIR"] = str(Path(tmp) / "data")
        async with DevServer(db_filename=Path(tmp) / "t.sqlite", data_dir=tmp) as server:
            client = await server.client()
            await baseline(client, 20, 5)  # warm up both paths
            await switchyard(client, 20, 5)
            raw = await baseline(client, n, concurrency)
            ours = await switchyard(client, n, concurrency)
    print(f"{n} activities, concurrency {concurrency}")
    print(f"  baseline (raw SDK workflow): {raw:7.2f} s  {n / raw:7.1f} activities/s")
    print(f"  switchyard for_each:         {ours:7.2f} s  {n / ours:7.1f} activities/s")
    print(f"  ratio switchyard/baseline throughput: {raw / ours:.2f}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(*(args + [2000, 100][len(args) :])))
