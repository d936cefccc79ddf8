"""Runs API latency: run start and run list against the same server's health endpoint.

Load mode (default): starts a real Switchyard (`switchyard up` in a
subprocess: Temporal dev server, API, engine worker, run recorder; SQLite,
or PostgreSQL with `--postgres`), publishes a one-step workflow, then
`--clients` concurrent clients (default 50) loop for `--seconds` (default 30)
over three requests: `GET /api/v1/health` (the baseline), `POST
/api/v1/workflows/bench/runs` and `GET /api/v1/runs?limit=50`. Prints p50 /
p99 of each and their ratios to the baseline.

List mode (`--rows N`, PostgreSQL): bulk-inserts N runs (COPY) into a fresh
database, starts the API on it, and measures `GET /api/v1/runs` one request
at a time: the first page and a deep keyset page, with and without filters.
Target: p99 under 50 ms.

Requests use a new connection each unless `--keepalive` (see `KEEPALIVE`).

Run: `uv run python bench/api.py [--postgres] [--clients 50] [--seconds 30]`
     `uv run python bench/api.py --rows 1000000`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from pgcluster import PgCluster, find_pg_bin

TOKEN = "sy_bench_" + uuid.uuid4().hex
WORKFLOW = {
    "name": "bench",
    "inputs": {"n": {"type": "integer", "default": 1}},
    "steps": [{"id": "echo", "action": "core.echo", "with": {"n": "{{ Inputs.n }}"}}],
}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Server:
    """`switchyard up` in a subprocess, on a free port, with the bench's admin token."""

    def __init__(self, data_dir: Path, database_url: str | None) -> None:
        self.data_dir = data_dir
        env = {**os.environ, "SWITCHYARD_ADMIN_TOKEN": TOKEN, "SWITCHYARD_DATA_DIR": str(data_dir)}
        if database_url:
            env["SWITCHYARD_DATABASE_URL"] = database_url
        self.log = data_dir.parent / "server.log"
        command = [str(Path(sys.executable).parent / "switchyard"), "up"]
        self.proc = subprocess.Popen(
            [*command, "--data-dir", str(data_dir), "--port", "0"],
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.url = ""

    async def wait(self, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        url_file = self.data_dir / "server-url"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"switchyard up exited:\n{self.log.read_text()}")
            if url_file.exists():
                self.url = url_file.read_text().strip()
                async with httpx.AsyncClient(base_url=self.url) as http:
                    try:
                        if (await http.get("/api/v1/health")).status_code == 200:
                            return self.url
                    except httpx.HTTPError:
                        pass
            await asyncio.sleep(0.2)
        raise RuntimeError("switchyard up did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


#: Keep connections alive between requests (`--keepalive`). Off by default: the
#: server's listening socket (`cli/api.py` `bind`) is created with protocol 0, so
#: asyncio does not set TCP_NODELAY on its connections and every request after the
#: first on a kept-alive connection waits ~40 ms for a delayed ACK; a new
#: connection per request measures the endpoints instead of that stall.
KEEPALIVE = False


def client(url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=url,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=60,
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=200 if KEEPALIVE else 0),
    )


# ---------------------------------------------------------------- load mode


async def load(url: str, clients: int, seconds: float) -> dict[str, list[float]]:
    async with client(url) as http:
        reply = await http.put("/api/v1/workflows/bench?publish=true", json=WORKFLOW)
        assert reply.status_code in (200, 201), reply.text
        requests = {
            "health": lambda: http.get("/api/v1/health"),
            "run start": lambda: http.post("/api/v1/workflows/bench/runs", json={"inputs": {}}),
            "run list": lambda: http.get("/api/v1/runs?limit=50"),
        }
        kinds = list(requests)
        for kind in kinds * 3:  # warm up
            await requests[kind]()
        times: dict[str, list[float]] = {k: [] for k in kinds}
        errors: dict[str, int] = dict.fromkeys(kinds, 0)
        end = time.monotonic() + seconds

        async def one_client(offset: int) -> None:
            i = offset
            while time.monotonic() < end:
                kind = kinds[i % len(kinds)]
                i += 1
                t0 = time.perf_counter()
                reply = await requests[kind]()
                elapsed = time.perf_counter() - t0
                if reply.status_code >= 400:
                    errors[kind] += 1
                times[kind].append(elapsed)

        await asyncio.gather(*(one_client(i) for i in range(clients)))
    print(f"{clients} clients for {seconds:g} s; errors: {errors}")
    return times


async def raw_starts(data_dir: Path, clients: int, seconds: float) -> list[float]:
    """The same starts straight to Temporal (same server, same worker): the engine's floor."""
    from switchyard.definition.loader import parse_workflow
    from switchyard.engine.client import start_run
    from switchyard.engine.converter import connect

    temporal = await connect((data_dir / "temporal-address").read_text().strip())
    wf, _ = parse_workflow(WORKFLOW)
    times: list[float] = []
    end = time.monotonic() + seconds

    async def one_client() -> None:
        while time.monotonic() < end:
            t0 = time.perf_counter()
            await start_run(temporal, wf, {}, task_queue="switchyard")
            times.append(time.perf_counter() - t0)

    await asyncio.gather(*(one_client() for _ in range(clients)))
    return times


def report(times: dict[str, list[float]], seconds: float | None = None) -> None:
    base = times["health"]
    b50, b99 = pct(base, 0.5), pct(base, 0.99)
    print(
        f"  {'request':<34}{'count':>7}{'p50 ms':>9}{'p99 ms':>9}{'p50 ratio':>11}{'p99 ratio':>11}"
    )
    for kind, values in times.items():
        p50, p99 = pct(values, 0.5), pct(values, 0.99)
        print(
            f"  {kind:<34}{len(values):>7}{p50 * 1000:>9.1f}{p99 * 1000:>9.1f}"
            f"{p50 / b50:>11.2f}{p99 / b99:>11.2f}"
        )


# ---------------------------------------------------------------- list mode

COLUMNS = (
    "id",
    "workflow",
    "version",
    "status",
    "trigger",
    "trigger_type",
    "inputs",
    "outputs",
    "error",
    "identity",
    "idempotency_key",
    "rerun_of",
    "started_at",
    "finished_at",
    "updated_at",
    "snapshot",
)
# No unfinished runs: the recorder would (rightly) end them as lost while the bench runs.
STATUSES = ["succeeded"] * 160 + ["failed"] * 32 + ["cancelled"] * 5 + ["timed_out"] * 3
TRIGGERS = ["manual"] * 4 + ["schedule"] * 3 + ["monitor"] * 2 + ["webhook"]
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def fake_run(i: int, rng: random.Random) -> tuple[Any, ...]:
    started = T0 + timedelta(seconds=i * 2.6 + rng.random())  # ~30 days for 1M runs
    finished = started + timedelta(seconds=rng.uniform(0.1, 60))
    status = rng.choice(STATUSES)
    trigger = {"type": rng.choice(TRIGGERS)}
    workflow = f"wf-{rng.randrange(50):02d}"
    run_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    error = (
        {"type": "HttpServerError", "message": "503 from upstream", "step": "call"}
        if status == "failed"
        else None
    )
    snapshot = {
        "id": run_id,
        "workflow": workflow,
        "version": 1,
        "status": status,
        "inputs": {"service": "api", "n": i},
        "outputs": {"ok": status == "succeeded"},
        "error": error,
        "trigger": trigger,
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "steps": {
            "call": {"status": "succeeded", "attempts": 1, "output": {"status": 200, "body": {}}},
            "notify": {"status": "succeeded", "attempts": 1, "output": {"ok": True}},
        },
    }
    done = status != "running"
    return (
        run_id,
        workflow,
        1,
        status,
        json.dumps(trigger),
        trigger["type"],
        json.dumps(snapshot["inputs"]),
        json.dumps(snapshot["outputs"]),
        json.dumps(error) if error else None,
        None,
        None,
        None,
        started,
        finished if done else None,
        finished,
        json.dumps(snapshot),
    )


async def insert_runs(url: str, rows: int) -> float:
    import asyncpg

    from switchyard.control.db import Database

    db = Database(url)
    await db.migrate()
    await db.close()
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    rng = random.Random(7)
    t0 = time.perf_counter()
    batch = 50_000
    for lo in range(0, rows, batch):
        records = [fake_run(i, rng) for i in range(lo, min(rows, lo + batch))]
        await conn.copy_records_to_table("runs", records=records, columns=COLUMNS)
    await conn.execute("ANALYZE runs")
    elapsed = time.perf_counter() - t0
    await conn.close()
    return elapsed


async def cursor_at(url: str, offset: int, where: str = "TRUE") -> str:
    import asyncpg

    from switchyard.api.pagination import encode_cursor
    from switchyard.control.timestamps import iso

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    row = await conn.fetchrow(
        f"SELECT started_at, id FROM runs WHERE {where} "
        f"ORDER BY started_at DESC, id DESC OFFSET {offset} LIMIT 1"
    )
    await conn.close()
    return encode_cursor([iso(row["started_at"]), row["id"]])


async def list_latency(
    url: str, db_url: str, rows: int, samples: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """p50/p99 samples per query: through the API, and of the query alone (`list_runs`)."""
    from switchyard.api.pagination import decode_cursor
    from switchyard.control import runs
    from switchyard.control.db import Database
    from switchyard.control.timestamps import parse_time

    deep = await cursor_at(db_url, rows // 2)
    deep_wf = await cursor_at(db_url, rows // 100, "workflow = 'wf-07'")
    day, day_end = T0 + timedelta(days=10), T0 + timedelta(days=11)
    stamp = "%Y-%m-%dT%H:%M:%SZ"

    def after(cursor: str) -> tuple[datetime, str]:
        key = decode_cursor(cursor, (str, str)) or ["", ""]
        return parse_time(key[0]), key[1]

    queries: dict[str, tuple[str, dict[str, Any]]] = {
        "list: first page": ("", {}),
        "list: deep page (row N/2)": (f"&cursor={deep}", {"after": after(deep)}),
        "list: workflow": ("&workflow=wf-07", {"workflow": "wf-07"}),
        "list: workflow, deep page": (
            f"&workflow=wf-07&cursor={deep_wf}",
            {"workflow": "wf-07", "after": after(deep_wf)},
        ),
        "list: status=failed": ("&status=failed", {"status": ["failed"]}),
        "list: workflow+rare status": (
            "&workflow=wf-07&status=timed_out",
            {"workflow": "wf-07", "status": ["timed_out"]},
        ),
        "list: trigger=webhook": ("&trigger=webhook", {"trigger": "webhook"}),
        "list: one day (since/until)": (
            f"&since={day.strftime(stamp)}&until={day_end.strftime(stamp)}",
            {"since": day, "until": day_end},
        ),
    }
    http_times: dict[str, list[float]] = {}
    async with client(url) as http:
        paths = {"health": "/api/v1/health"}
        paths.update({name: f"/api/v1/runs?limit=50{q}" for name, (q, _) in queries.items()})
        paths["list: limit=500"] = "/api/v1/runs?limit=500"
        for name, path in paths.items():
            for _ in range(10):  # warm up
                reply = await http.get(path)
                assert reply.status_code == 200, reply.text
            values = []
            for _ in range(samples):
                t0 = time.perf_counter()
                reply = await http.get(path)
                values.append(time.perf_counter() - t0)
                assert reply.status_code == 200
            http_times[name] = values
    db = Database(db_url)
    db_times: dict[str, list[float]] = {}
    for name, (_, kwargs) in queries.items():
        values = []
        for i in range(samples + 10):
            t0 = time.perf_counter()
            async with db.session() as session:
                await runs.list_runs(session, limit=51, **kwargs)
            if i >= 10:
                values.append(time.perf_counter() - t0)
        db_times[name] = values
    await db.close()
    return http_times, db_times


# ---------------------------------------------------------------- main


async def main(args: argparse.Namespace) -> None:
    global KEEPALIVE
    KEEPALIVE = args.keepalive
    with tempfile.TemporaryDirectory(prefix="switchyard-bench-") as tmp:
        cluster = None
        db_url = None
        if args.postgres or args.rows:
            bin_dir = find_pg_bin()
            if bin_dir is None:
                raise SystemExit("PostgreSQL is not installed: run scripts/install")
            cluster = PgCluster(bin_dir)
            cluster.start()
            db_url = cluster.fresh_database()
        server = None
        try:
            if args.rows:
                print(f"inserting {args.rows:,} runs into PostgreSQL (COPY)...", flush=True)
                took = await insert_runs(str(db_url), args.rows)
                print(f"  {took:.1f} s ({args.rows / took:,.0f} rows/s, ANALYZE included)")
            server = Server(Path(tmp) / "data", db_url)
            url = await server.wait()
            backend = "PostgreSQL" if db_url else "SQLite"
            if args.rows:
                print(f"run list over {args.rows:,} runs ({backend}), {args.samples} requests each")
                http_times, db_times = await list_latency(url, str(db_url), args.rows, args.samples)
                report(http_times)
                print("  the query alone (control.runs.list_runs, one session each, limit 50):")
                for name, values in db_times.items():
                    p50, p99 = pct(values, 0.5), pct(values, 0.99)
                    print(f"  {name:<34}{len(values):>7}{p50 * 1000:>9.1f}{p99 * 1000:>9.1f}")
            else:
                print(f"run start and run list under load ({backend}, Temporal dev server)")
                times = await load(url, args.clients, args.seconds)
                report(times)
                raw = await raw_starts(server.data_dir, args.clients, args.seconds)
                p50, p99 = pct(raw, 0.5), pct(raw, 0.99)
                api50, api99 = pct(times["run start"], 0.5), pct(times["run start"], 0.99)
                print(
                    f"  Temporal start_workflow alone (same server and worker, {len(raw)} starts): "
                    f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms; "
                    f"API run start / Temporal start: p50 {api50 / p50:.2f}, p99 {api99 / p99:.2f}"
                )
        finally:
            if server is not None:
                server.stop()
            if cluster is not None:
                cluster.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rows", type=int, default=0, help="list mode: runs to insert")
    parser.add_argument("--samples", type=int, default=200, help="list mode: requests per query")
    parser.add_argument(
        "--keepalive", action="store_true", help="reuse connections (see KEEPALIVE)"
    )
    asyncio.run(main(parser.parse_args()))
