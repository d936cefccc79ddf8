"""Event ingest: from sending `POST /api/v1/events` to the first step's start.

Sends RATE events per second for SECONDS seconds, from a separate sender
process (as Alertmanager or Datadog would), to a real API server (uvicorn on
loopback, SQLite, embedded Temporal dev server, an engine worker and the run
recorder in this process, as `switchyard up` runs them), each matching one published
workflow. Then it reconciles: every accepted event must have exactly one
run (zero lost, zero duplicates), and it prints p50/p99 of the time to the
first step's start from sending the event (an upper bound of its acceptance)
and from its acceptance (the `received_at` the server stored with it).

Baseline, in the same script and server: the same workflow started directly
through the Temporal client at the same rate (no HTTP, no storage, no
matching); the ratio shows what ingestion adds.

Run: `uv run python bench/triggers.py [SECONDS] [RATE]` (default 60 s, 50/s).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import socket
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from itertools import pairwise
from pathlib import Path

FLOW = """
name: bench-heal
inputs:
  host: {type: string, required: true}
triggers:
  - monitor:
      match: "Trigger.event.status == 'alert' && Trigger.event.tags.includes('team:sre')"
    inputs: {host: "{{ Trigger.event.attributes.host }}"}
steps:
  - id: first
    transform: "Inputs.host"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of a process so far: this one by default."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    """CPU time (user + system) of this process's ended children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def first_step_start(client, run_id: str) -> float:  # type: ignore[no-untyped-def]
    run = await client.get_workflow_handle(run_id).result()  # the run JSON
    started = run["steps"]["first"]["started_at"]
    return datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp()


class Pauses:
    """Garbage-collector passes (a `gc.callbacks` observer): each one pauses the process."""

    def __init__(self) -> None:
        self.count, self.total, self.longest, self._start = 0, 0.0, 0.0, 0.0
        #: generation -> [passes, seconds, longest]
        self.by_generation = {g: [0, 0.0, 0.0] for g in range(3)}

    def observe(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
            return
        took = time.perf_counter() - self._start
        self.count += 1
        self.total += took
        self.longest = max(self.longest, took)
        gen = self.by_generation[info["generation"]]
        gen[0], gen[1], gen[2] = gen[0] + 1, gen[1] + took, max(gen[2], took)

    def summary(self) -> str:
        return "; ".join(
            f"gen{g}: {n} in {t * 1000:.0f} ms (longest {m * 1000:.1f})"
            for g, (n, t, m) in self.by_generation.items()
        )


pauses = Pauses()


async def received_at(db, event_ids: list[str]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """When the server stored each event (its acceptance), as Unix time."""
    from switchyard.control import events as store

    out: dict[str, float] = {}
    async with db.session() as session:
        for lo in range(0, len(event_ids), 500):
            rows = await store.get_events(session, event_ids[lo : lo + 500])
            out.update({i: row.received_at.timestamp() for i, row in rows.items()})
    return out


async def paced(seconds: float, rate: float, send) -> None:  # type: ignore[no-untyped-def]
    tasks = []
    start = time.monotonic()
    n = 0
    while (elapsed := time.monotonic() - start) < seconds:
        due = n / rate
        if due > elapsed:
            await asyncio.sleep(due - elapsed)
        tasks.append(asyncio.create_task(send(n)))
        n += 1
    await asyncio.gather(*tasks)


class Sender:
    """A lean HTTP/1.1 client over kept-alive connections, for the sender process.

    httpx's pool costs about 10 ms of CPU per request once hundreds are in flight
    (measured here: the sender then took half a core, on the server's machine).
    This one writes the request bytes and reads the status line, the headers
    and a `Content-Length` body: what uvicorn answers.
    """

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.head = (
            f"POST /api/v1/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        ).encode()
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, body: bytes) -> tuple[int, bytes]:
        request = self.head + b"Content-Length: %d\r\n\r\n" % len(body) + body
        while self.idle:  # a kept-alive connection, unless the server closed it meanwhile
            conn = self.idle.pop()
            conn[1].write(request)
            first = await conn[0].readline()
            if first:
                return await self._answer(conn, first)
            conn[1].close()
        conn = await asyncio.open_connection(self.host, self.port)
        conn[1].write(request)
        return await self._answer(conn, await conn[0].readline())

    async def _answer(
        self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], first: bytes
    ) -> tuple[int, bytes]:
        reader, writer = conn
        status = int(first.split()[1])
        length, close = 0, False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        answer = await reader.readexactly(length)
        if close:
            writer.close()
        else:
            self.idle.append(conn)
        return status, answer


async def send_events(url: str, token: str, seconds: float, rate: float) -> None:
    """The sender (a separate process, as a monitoring system is): one JSON line per event."""
    host, _, port = url.removeprefix("http://").partition(":")
    sender = Sender(host, int(port), token)

    async def send(n: int) -> None:
        event = {
            "id": f"bench-{uuid.uuid4().hex}",
            "title": f"host h{n} down",
            "tags": ["team:sre"],
            "attributes": {"host": f"h{n}"},
        }
        sent = time.time()
        try:
            status, body = await asyncio.wait_for(sender.post(json.dumps(event).encode()), 60)
            runs = json.loads(body).get("runs", []) if status == 202 else []
        except (TimeoutError, OSError, ValueError):  # not answered: the sender would retry
            status, runs = 0, []
        line = {"sent": sent, "id": event["id"], "status": status, "runs": runs}
        sys.stdout.write(json.dumps(line) + "\n")

    await paced(seconds, rate, send)
    sys.stdout.flush()


async def main(seconds: float, rate: float) -> None:
    # Imported here: the sender process needs none of it.
    import httpx
    import uvicorn

    from switchyard.api.app import create_app
    from switchyard.config import Settings
    from switchyard.control import auth
    from switchyard.control.db import Database, database_url
    from switchyard.definition.validate import validate_text
    from switchyard.engine.blobs import BlobStore
    from switchyard.engine.client import start_run
    from switchyard.engine.devserver import DevServer
    from switchyard.engine.worker import build_worker
    from switchyard.heap import tune_garbage_collector

    root = Path(tempfile.mkdtemp(prefix="sy-bench-triggers-"))
    async with DevServer(db_filename=root / "temporal.sqlite", data_dir=root) as server:
        client = await server.client()
        queue = f"bench-{uuid.uuid4().hex[:6]}"
        db = Database(database_url(root, {}))
        await db.migrate()
        async with db.session() as session:
            token = await auth.ensure_admin(session)
        app = create_app(Settings(data_dir=root, task_queue=queue), db, temporal=client)
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        web = uvicorn.Server(config)
        serving = asyncio.create_task(web.serve())
        while not web.started:
            await asyncio.sleep(0.05)
        wf, problems = validate_text(FLOW)
        assert wf is not None, problems
        async with (
            build_worker(client, queue, blobs=BlobStore(root / "blobs", 1 << 17)),
            httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            ) as api,
        ):
            tune_garbage_collector()  # as `switchyard up` does once it serves
            put = await api.put(
                "/api/v1/workflows/bench-heal?publish=true",
                content=FLOW,
                headers={"Content-Type": "application/yaml"},
            )
            assert put.status_code == 201, put.text

            # -- baseline: start the same workflow directly ---------------------
            direct: list[tuple[float, str]] = []

            async def start_direct(n: int) -> None:
                sent = time.time()
                run = await start_run(client, wf, {"host": f"h{n}"}, task_queue=queue)
                direct.append((sent, run.id))

            cpu0 = (cpu_seconds(), cpu_seconds(server.pid))
            await paced(min(seconds, 20), rate, start_direct)
            direct_cpu = (cpu_seconds() - cpu0[0], cpu_seconds(server.pid) - cpu0[1])
            base = [await first_step_start(client, r) - t for t, r in direct]

            # -- through the API, from another process ----------------------------
            began = time.monotonic()
            cpu0 = (cpu_seconds(), cpu_seconds(server.pid))
            gc.callbacks.append(pauses.observe)
            sender = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--send",
                f"http://127.0.0.1:{port}",
                token,
                str(seconds),
                str(rate),
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await sender.communicate()
            sender_cpu = children_cpu()  # the only child process that has ended
            sent = [json.loads(line) for line in out.decode().splitlines()]
            accepted = [(e["sent"], e["id"], e["runs"]) for e in sent if e["status"] == 202]
            refused = len(sent) - len(accepted)
            took = time.monotonic() - began
            api_cpu = (cpu_seconds() - cpu0[0], cpu_seconds(server.pid) - cpu0[1])
            gc.callbacks.remove(pauses.observe)
            received = await received_at(db, [e for _, e, _ in accepted])
            latencies, from_accepted = [], []
            for t, event_id, runs in accepted:
                for run_id in runs:
                    first = await first_step_start(client, run_id)
                    latencies.append(first - t)
                    from_accepted.append(first - received[event_id])
            found = [
                w.id
                async for w in client.list_workflows(
                    "WorkflowType = 'switchyard.run' AND SwitchyardWorkflow = 'bench-heal' "
                    "AND SwitchyardTrigger = 'monitor'"
                )
            ]
        web.should_exit = True
        await serving
        await db.close()

    expected = {r for _, _, runs in accepted for r in runs}
    lost = len([e for _, e, runs in accepted if len(runs) != 1])
    duplicates = len(found) - len(set(found))
    print(f"events sent: {len(accepted) + refused} in {took:.1f}s ({rate:g}/s asked)")
    print(f"accepted (202): {len(accepted)}, refused: {refused}")
    print(
        f"runs in Temporal: {len(set(found))}, lost: {lost + len(expected - set(found))}, "
        f"duplicates: {duplicates}"
    )
    print("event sent -> first step start:")
    print(
        f"  via the API:   p50 {pct(latencies, 0.5) * 1000:7.1f} ms  "
        f"p99 {pct(latencies, 0.99) * 1000:7.1f} ms  (n={len(latencies)})"
    )
    print(
        f"  (accepted ->   p50 {pct(from_accepted, 0.5) * 1000:7.1f} ms  "
        f"p99 {pct(from_accepted, 0.99) * 1000:7.1f} ms: from the event's stored received_at)"
    )
    print(
        f"  direct start:  p50 {pct(base, 0.5) * 1000:7.1f} ms  "
        f"p99 {pct(base, 0.99) * 1000:7.1f} ms  (n={len(base)})"
    )
    print(
        f"ratio API/direct: p50 {pct(latencies, 0.5) / pct(base, 0.5):.2f}x, "
        f"p99 {pct(latencies, 0.99) / pct(base, 0.99):.2f}x"
    )
    print("CPU per event (ms), this process (API, worker, recorder) / Temporal server:")
    print(
        f"  via the API:   {api_cpu[0] / max(len(sent), 1) * 1000:6.1f} / "
        f"{api_cpu[1] / max(len(sent), 1) * 1000:6.1f}"
    )
    print(
        f"  direct start:  {direct_cpu[0] / max(len(direct), 1) * 1000:6.1f} / "
        f"{direct_cpu[1] / max(len(direct), 1) * 1000:6.1f}"
    )
    print(
        f"  the sender (another machine's work, on these cores here): "
        f"{sender_cpu / max(len(sent), 1) * 1000:.1f}"
    )
    edges = [0.25, 0.5, 1, 2, 5, 10, 20, 40, float("inf")]
    counts = [sum(low <= v < high for v in latencies) for low, high in pairwise([0, *edges])]
    shown = "  ".join(f"<{e:g}: {c}" for e, c in zip(edges, counts, strict=True))
    print(f"  how many (s): {shown}")
    print(
        f"garbage collection in this process: {pauses.count} passes, "
        f"{pauses.total * 1000:.0f} ms in all, longest {pauses.longest * 1000:.1f} ms"
    )
    print(f"  {pauses.summary()}")
    print(
        f"mean {statistics.mean(latencies) * 1000:.1f} ms; goal p99 < 1000 ms: "
        f"from acceptance {'met' if pct(from_accepted, 0.99) < 1 else 'NOT met'}, "
        f"from sending {'met' if pct(latencies, 0.99) < 1 else 'NOT met'}"
    )
    sys.stdout.flush()
    os._exit(0)  # native Temporal threads: leave without interpreter finalization


if __name__ == "__main__":
    if sys.argv[1:2] == ["--send"]:
        url, token, secs, per_second = sys.argv[2:6]
        asyncio.run(send_events(url, token, float(secs), float(per_second)))
        sys.exit(0)
    args = [float(a) for a in sys.argv[1:3]]
    asyncio.run(main(*(args + [60.0, 50.0][len(args) :])))
