"""The run recorder against a real Temporal server and a real database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from control.runs_support import (
    APPROVAL,
    ECHO,
    SLOW,
    delete_from_temporal,
    eventually,
    parse,
    worker,
)
from switchyard.control import runs
from switchyard.control.db import Database, database_url
from switchyard.control.recorder import RecorderOptions, RunRecorder, SweepStats
from switchyard.control.timestamps import now
from switchyard.engine import client as engine
from switchyard.engine.finished import FINISHED

pytestmark = pytest.mark.temporal


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(database_url(tmp_path, {}))
    await db.migrate()
    yield db
    await db.close()


class Hooks:
    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[tuple[str, str, dict[str, Any]]] = []
        self.sweeps: list[SweepStats] = []

    def run_started(self, run: dict[str, Any]) -> None:
        self.started.append(run["id"])

    def run_finished(self, run: dict[str, Any], kinds: dict[str, Any]) -> None:
        self.finished.append((run["id"], run["status"], kinds))

    def swept(self, stats: SweepStats) -> None:
        self.sweeps.append(stats)


def recorder(db: Database, client: Client, task_queue: str, **options: Any) -> RunRecorder:
    return RunRecorder(
        db,
        client,
        options=RecorderOptions(task_queue=task_queue, interval=0.2, **options),
        hooks=Hooks(),
    )


async def stored(db: Database, run_id: str) -> runs.Run | None:
    async with db.session() as s:
        return await runs.get_run(s, run_id)


async def final(db: Database, run_id: str) -> runs.Run | None:
    row = await stored(db, run_id)
    return row if row is not None and row.status in runs.FINAL else None


@pytest.fixture(params=["history", "this process"])
def result_from(request: pytest.FixtureRequest) -> Iterator[str]:
    """Where the recorder gets a finished run's result: a history read, or the
    worker of its own process (engine/finished.py)."""
    FINISHED.enabled = request.param == "this process"
    yield str(request.param)
    FINISHED.enabled = False
    FINISHED.clear()


async def test_discovers_and_records_runs_started_elsewhere(
    database: Database, client: Client, task_queue: str, tmp_data_dir: Path, result_from: str
) -> None:
    rec = recorder(database, client, task_queue)
    async with worker(client, task_queue, tmp_data_dir):
        handle = await engine.start_run(
            client, parse(ECHO), {"n": 4}, task_queue=task_queue, identity="u-42"
        )
        await engine.wait_result(handle)
        assert (handle.id in FINISHED) == (result_from == "this process")
        stats = await rec.sweep()
    assert handle.id not in FINISHED  # taken by the sweep
    assert stats.finalized == 1 and stats.discovered == 1 and stats.lag is not None
    row = await stored(database, handle.id)
    assert row is not None
    assert (row.status, row.workflow, row.identity, row.outputs) == (
        "succeeded",
        "echo-twice",
        "u-42",
        {"n": 5},
    )
    assert row.snapshot["steps"]["second"]["output"] == {"n": 5}
    hooks = rec.hooks
    assert isinstance(hooks, Hooks)
    assert hooks.started == [handle.id]
    ((run_id, status, kinds),) = hooks.finished
    assert (run_id, status) == (handle.id, "succeeded")
    assert kinds["first"]["action"] == "core.echo"
    # Recorded once: the next sweep finds nothing new.
    again = await rec.sweep()
    assert (again.finalized, again.written) == (0, 0)


async def test_a_long_history_is_read_in_two_calls_with_the_same_record(
    database: Database,
    client: Client,
    task_queue: str,
    tmp_data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`short_history` reads input and result at once for a short history; a longer
    one (here: more than 2 events) goes through `start_input` and the result."""
    from switchyard.control import recorder as recorder_module
    from switchyard.control.runs_live import short_history

    async with worker(client, task_queue, tmp_data_dir):
        handle = await engine.start_run(
            client, parse(ECHO), {"n": 1}, task_queue=task_queue, identity="u-7"
        )
        await engine.wait_result(handle)
    found = await short_history(client, handle.id)
    assert found is not None
    inp, result = found
    assert inp["identity"] == "u-7" and inp["definition"]["name"] == "echo-twice"
    assert result["status"] == "succeeded" and result["outputs"] == {"n": 2}
    assert await short_history(client, handle.id, limit=2) is None

    async def too_long(client: Client, run_id: str) -> None:
        return await short_history(client, run_id, limit=2)

    monkeypatch.setattr(recorder_module, "short_history", too_long)
    stats = await recorder(database, client, task_queue).sweep()
    assert stats.finalized == 1
    row = await stored(database, handle.id)
    assert row is not None
    assert (row.status, row.identity, row.outputs) == ("succeeded", "u-7", {"n": 2})


async def test_live_snapshots_then_the_final_one(
    client: Client, task_queue: str, tmp_data_dir: Path, sqlite_db: Database
) -> None:
    rec = recorder(sqlite_db, client, task_queue)
    rec.start()
    try:
        async with worker(client, task_queue, tmp_data_dir):
            handle = await engine.start_run(client, parse(APPROVAL), {}, task_queue=task_queue)

            async def waiting() -> bool:
                row = await stored(sqlite_db, handle.id)
                return row is not None and row.status == "waiting"

            await eventually(waiting)
            row = await stored(sqlite_db, handle.id)
            assert row is not None
            assert row.snapshot["steps"]["ask"]["status"] == "waiting"
            assert row.snapshot["approvals"]["ask"]["approvers"] == ["admin", "boss"]
            await engine.approve(client, handle.id, "ask", "approve", by="boss")
            row = await eventually(lambda: final(sqlite_db, handle.id))
    finally:
        await rec.stop()
    assert row.status == "succeeded"
    assert row.snapshot["steps"]["done"]["output"] == "approved by boss"


async def test_a_run_is_read_live_only_once_it_has_run_for_live_after(
    client: Client, task_queue: str, tmp_data_dir: Path, sqlite_db: Database
) -> None:
    """Runs that end quickly are recorded once, at their end: no live reads as they start."""
    async with worker(client, task_queue, tmp_data_dir):
        handle = await engine.start_run(client, parse(APPROVAL), {}, task_queue=task_queue)
        patient = recorder(sqlite_db, client, task_queue, live_after=3600.0)
        stats = await patient.sweep()
        assert (stats.live, stats.polled) == (1, 0)  # listed as running, not read
        assert await stored(sqlite_db, handle.id) is None
        eager = recorder(sqlite_db, client, task_queue, live_after=0.0)

        async def read() -> bool:
            await eager.sweep()
            row = await stored(sqlite_db, handle.id)
            return row is not None and row.status == "waiting"

        await eventually(read)
        await client.get_workflow_handle(handle.id).terminate("test over")


async def test_a_run_finished_while_no_recorder_ran_is_recorded_at_the_next_start(
    client: Client, task_queue: str, tmp_data_dir: Path, sqlite_db: Database
) -> None:
    first = recorder(sqlite_db, client, task_queue)
    await first.sweep()  # a watermark exists from now on
    await first.stop()
    async with worker(client, task_queue, tmp_data_dir):
        handle = await engine.start_run(client, parse(ECHO), {}, task_queue=task_queue)
        await engine.wait_result(handle)
    assert await stored(sqlite_db, handle.id) is None
    second = recorder(sqlite_db, client, task_queue)  # a new process: nothing in memory
    stats = await second.sweep()
    assert stats.finalized == 1
    row = await final(sqlite_db, handle.id)
    assert row is not None and row.status == "succeeded"


async def test_work_per_sweep_is_bounded_and_the_watermark_waits(
    client: Client, task_queue: str, tmp_data_dir: Path, sqlite_db: Database
) -> None:
    async with worker(client, task_queue, tmp_data_dir):
        handles = [
            await engine.start_run(client, parse(ECHO), {"n": i}, task_queue=task_queue)
            for i in range(3)
        ]
        for h in handles:
            await engine.wait_result(h)
    rec = recorder(sqlite_db, client, task_queue, max_final=1)
    done = []
    for expected_backlog in (2, 1, 0):
        stats = await rec.sweep()
        assert (stats.finalized, stats.backlog) == (1, expected_backlog)
        done += [h.id for h in handles if await final(sqlite_db, h.id) and h.id not in done]
    assert sorted(done) == sorted(h.id for h in handles)
    # A restarted recorder starts from the stored watermark: nothing left to do.
    stats = await recorder(sqlite_db, client, task_queue, max_final=1).sweep()
    assert stats.finalized == 0


async def test_a_run_visible_too_late_for_the_recent_listing_is_recorded_when_settled(
    client: Client, task_queue: str, tmp_data_dir: Path, sqlite_db: Database
) -> None:
    rec = recorder(sqlite_db, client, task_queue, overlap=3.0)
    await rec.sweep()  # as leader from now on: later sweeps list recent closes only
    async with worker(client, task_queue, tmp_data_dir):
        handle = await engine.start_run(client, parse(ECHO), {}, task_queue=task_queue)
        await engine.wait_result(handle)
    closed = (await client.get_workflow_handle(handle.id).describe()).close_time
    assert closed is not None
    # As if the last listing had run well after the close without seeing the run
    # (its visibility record late): the recent listing no longer reaches it...
    rec._recent = closed + timedelta(seconds=rec.options.recent_overlap + 1)
    stats = await rec.sweep()
    assert stats.finalized == 0 and await stored(sqlite_db, handle.id) is None
    # ...and the settled listing finds it once `overlap` has passed its close.
    await asyncio.sleep(max(0.0, (closed - now()).total_seconds() + rec.options.overlap + 0.5))
    stats = await rec.sweep()
    assert stats.finalized == 1
    assert await final(sqlite_db, handle.id) is not None


async def test_terminated_and_deleted_runs(
    client: Client, task_queue: str, tmp_data_dir: Path, sqlite_db: Database
) -> None:
    rec = recorder(sqlite_db, client, task_queue, orphan_after=0)
    async with worker(client, task_queue, tmp_data_dir):
        handle = await engine.start_run(client, parse(SLOW), {}, task_queue=task_queue)

        async def running() -> bool:
            await rec.sweep()
            row = await stored(sqlite_db, handle.id)
            return row is not None and row.snapshot["steps"]["nap"]["status"] == "running"

        await eventually(running)
        await handle.terminate("operator said so")
        await rec.sweep()
    row = await final(sqlite_db, handle.id)
    assert row is not None
    assert row.status == "cancelled"
    assert row.error == {"type": "Cancelled", "message": "the run was terminated", "step": None}
    assert row.snapshot["steps"]["nap"]["status"] == "cancelled"

    # A run Temporal forgot before its end was recorded is ended as lost.
    async with worker(client, task_queue, tmp_data_dir):
        other = await engine.start_run(client, parse(SLOW), {}, task_queue=task_queue)

        async def recorded() -> runs.Run | None:
            await rec.sweep()
            return await stored(sqlite_db, other.id)

        await eventually(recorded, every=0.5)
        await delete_from_temporal(client, other.id)
    await rec.sweep()
    row = await final(sqlite_db, other.id)
    assert row is not None and row.status == "failed" and row.error["type"] == "RunLost"


async def test_one_recorder_sweeps_at_a_time(
    client: Client, task_queue: str, sqlite_db: Database
) -> None:
    a = recorder(sqlite_db, client, task_queue)
    b = recorder(sqlite_db, client, task_queue)
    assert (await a.sweep()).leader
    assert not (await b.sweep()).leader
    await a.stop()  # hands the lease over
    assert (await b.sweep()).leader
