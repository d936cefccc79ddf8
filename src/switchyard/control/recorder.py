"""The run recorder: keeps the event store in step with Temporal, from outside the runs.

Polling, not an activity inside each run writing step events: an activity
costs a run about six history events against a capped history, and would
put the database on every run's path (docs/runs.md, "The run recorder").
Each sweep records **closed runs** (visibility, `CloseTime >=` a stored
watermark, oldest first, bounded; the final state is the workflow's result),
reads **live runs** (`describe`, and the `state` query only when the history
grew, a loop runs, or `refresh` passed; bounded) and ends **stragglers**
(unfinished rows Temporal lists nowhere). The watermark only passes recorded
runs, so a run that closed while no recorder ran is recorded at the next
start; a lease in the database lets one recorder sweep at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from temporalio.api.workflowservice.v1 import ListWorkflowExecutionsRequest
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from switchyard.control import runs as store
from switchyard.control.db import Database
from switchyard.control.runs_live import (
    bare_run,
    closed_status,
    final_snapshot,
    live_state,
    lost_run,
    read_run,
    short_history,
    start_input,
    step_kinds,
)
from switchyard.control.timestamps import now
from switchyard.engine.finished import FINISHED

__all__ = ["RecorderHooks", "RecorderOptions", "RunRecorder", "SweepStats"]

log = logging.getLogger(__name__)

RUNS_QUERY = 'WorkflowType = "switchyard.run"'


@dataclass
class RecorderOptions:
    """How often and how much the recorder works (see the module docstring)."""

    #: The task queue of the runs to record (the API's): runs of `switchyard run`
    #: (a private queue per command) and of other installations stay out.
    task_queue: str | None = None
    interval: float = 1.0
    max_final: int = 200
    max_live: int = 100
    max_listed: int = 10_000
    #: Seconds of visibility lag the stored watermark allows for: it trails the
    #: listing time by this much, and runs closed in that window are listed again
    #: (once) when it passes them.
    overlap: float = 10.0
    #: Seconds each sweep re-lists before the previous sweep's listing time, for
    #: runs whose visibility record was a little late (later ones wait for the
    #: watermark, at most `overlap` later).
    recent_overlap: float = 0.5
    refresh: float = 30.0
    #: Seconds a run must have been running before its live state is read.
    live_after: float = 2.0
    orphan_after: float = 300.0
    #: Seconds a `state` query may take (a run whose worker is gone does not answer).
    query_timeout: float = 5.0
    concurrency: int = 8
    #: Seconds a recorder's lease holds without renewal (another one takes over after).
    lease: float = 15.0


@dataclass(frozen=True)
class _Listed:
    """One visibility entry: what the recorder reads of it."""

    id: str
    status: WorkflowExecutionStatus | None
    start_time: datetime
    close_time: datetime | None


@dataclass
class SweepStats:
    """What one sweep did."""

    leader: bool = True
    discovered: int = 0
    finalized: int = 0
    polled: int = 0
    written: int = 0
    live: int = 0
    #: Closed runs seen but left for a later sweep, plus live runs not read this sweep.
    backlog: int = 0
    #: Largest delay between a run's close and its final snapshot in this sweep (seconds).
    lag: float | None = None
    lags: list[float] = field(default_factory=list)
    duration: float = 0.0


class RecorderHooks(Protocol):
    """Observers of what the recorder records (metrics, traces)."""

    def run_started(self, run: dict[str, Any]) -> None: ...

    def run_finished(self, run: dict[str, Any], kinds: dict[str, Any]) -> None: ...

    def swept(self, stats: SweepStats) -> None: ...


@dataclass
class _Seen:
    history_length: int
    polled: float
    busy: bool
    digest: str


def _digest(run: dict[str, Any]) -> str:
    return json.dumps(run, sort_keys=True, default=str)


def _busy(run: dict[str, Any]) -> bool:
    """A loop is running: its progress is in child workflows, not in this history."""
    return any(
        st.get("status") in ("running", "waiting") and "iterations" in st
        for st in (run.get("steps") or {}).values()
    )


class RunRecorder:
    """Sweeps Temporal every `options.interval` seconds into the event store."""

    def __init__(
        self,
        db: Database,
        client: Any,
        *,
        options: RecorderOptions | None = None,
        hooks: RecorderHooks | None = None,
    ) -> None:
        self.db = db
        self.client = client
        self.options = options or RecorderOptions()
        self.hooks = hooks
        self.owner = f"recorder-{uuid.uuid4().hex[:12]}"
        self._seen: dict[str, _Seen] = {}
        self._failures: dict[str, int] = {}
        #: Where the last sweep's listing of recent closes ended (None: no sweep
        #: as leader yet, so the first one covers everything since the watermark).
        self._recent: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        self.last: SweepStats | None = None
        self._query = RUNS_QUERY
        if self.options.task_queue:
            self._query += f' AND TaskQueue = "{self.options.task_queue}"'

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start sweeping in the background."""
        if self._task is None:
            FINISHED.enabled = True  # a worker in this process hands over what it finishes
            self._task = asyncio.create_task(self._loop(), name="switchyard-run-recorder")

    async def stop(self) -> None:
        """Stop sweeping and hand the lease over at once."""
        if self._task is not None:
            FINISHED.enabled = False
            FINISHED.clear()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            async with self.db.session() as session:
                await store.release_lease(session, self.owner)

    async def _loop(self) -> None:
        delay = self.options.interval
        while True:
            try:
                await self.sweep()
                delay = self.options.interval
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("run recorder sweep failed")
                delay = min(max(delay * 2, self.options.interval), 30.0)
            await asyncio.sleep(delay)

    # ------------------------------------------------------------ one sweep

    async def sweep(self) -> SweepStats:
        """Record what changed since the last sweep (bounded work)."""
        started = time.monotonic()
        stats = SweepStats()
        try:
            async with self.db.session(write=True) as session:
                watermark, leader = await store.take_lease(session, self.owner, self.options.lease)
        except IntegrityError:  # another recorder created the lease row first
            watermark, leader = None, False
        if not leader:
            stats.leader = False
            self._recent = None
            return stats
        listed_at = now()
        settled = listed_at - timedelta(seconds=self.options.overlap)
        closed = await self._closed(watermark, settled)
        pending = await self._finalize(closed, stats)
        running = await self._live(stats)
        await self._stragglers(running, stats)
        # Nothing closed before a pending run's close passes either mark.
        held = min((e.close_time for e in pending), default=None)
        self._recent = listed_at if held is None else min(held, listed_at)
        new_watermark = settled if held is None else min(held, settled)
        if watermark is None or new_watermark != watermark:
            async with self.db.session(write=True) as session:
                await store.save_watermark(session, self.owner, new_watermark)
        stats.lag = max(stats.lags) if stats.lags else None
        stats.duration = time.monotonic() - started
        self.last = stats
        self._notify("swept", stats)
        return stats

    async def _bounded(self, jobs: Iterable[Callable[[], Awaitable[Any]]]) -> list[Any]:
        """Run the jobs, `concurrency` at a time; each one's result or exception.

        Jobs are callables, so that one the sweep's cancellation reaches before
        its turn is never made (a coroutine made and never awaited warns).
        """
        sem = asyncio.Semaphore(self.options.concurrency)

        async def one(job: Callable[[], Awaitable[Any]]) -> Any:
            async with sem:
                try:
                    return await job()
                except Exception as exc:
                    return exc

        return list(await asyncio.gather(*(one(j) for j in jobs)))

    async def _statuses(self, ids: list[str]) -> dict[str, str]:
        """The stored status of each of these runs (those in the store)."""
        out: dict[str, str] = {}
        async with self.db.session() as s:
            for lo in range(0, len(ids), 500):
                stmt = sa.select(store.Run.id, store.Run.status).where(
                    store.Run.id.in_(ids[lo : lo + 500])
                )
                out.update({row.id: row.status for row in await s.execute(stmt)})
        return out

    async def _rows(self, ids: list[str]) -> dict[str, store.Run]:
        out: dict[str, store.Run] = {}
        async with self.db.session() as s:
            for lo in range(0, len(ids), 500):
                chunk = ids[lo : lo + 500]
                rows = await s.scalars(sa.select(store.Run).where(store.Run.id.in_(chunk)))
                out.update({r.id: r for r in rows})
        return out

    def _notify(self, method: str, *args: Any) -> None:
        """Call a hook; a failing observer never stops the recording."""
        if self.hooks is None:
            return
        try:
            getattr(self.hooks, method)(*args)
        except Exception:
            log.exception("run recorder hook %s failed", method)

    async def _write(
        self, items: list[tuple[dict[str, Any], str | None]], stats: SweepStats
    ) -> None:
        if not items:
            return
        async with self.db.session(write=True) as s:
            for run, identity in items:
                await store.upsert_snapshot(s, run, identity=identity)
        stats.written += len(items)

    # ------------------------------------------------------------ closed runs

    async def _listed(self, query: str) -> AsyncIterator[_Listed]:
        """Visibility entries, read from the raw answers.

        `Client.list_workflows` decodes every entry's memo and search attributes;
        at 50 runs a second, re-listing the overlap window each sweep made that
        the recorder's main cost. Only id, status and times are needed here.
        """
        token = b""
        while True:
            page = await self.client.workflow_service.list_workflow_executions(
                ListWorkflowExecutionsRequest(
                    namespace=self.client.namespace,
                    query=query,
                    page_size=1000,
                    next_page_token=token,
                )
            )
            for info in page.executions:
                yield _Listed(
                    id=info.execution.workflow_id,
                    status=WorkflowExecutionStatus(info.status) if info.status else None,
                    start_time=info.start_time.ToDatetime(UTC),
                    close_time=(
                        info.close_time.ToDatetime(UTC) if info.HasField("close_time") else None
                    ),
                )
            token = page.next_page_token
            if not token:
                return

    async def _closed(self, watermark: datetime | None, settled: datetime) -> list[Any]:
        """Closed runs to look at, oldest close first: two listings, so that each
        run is listed about `2 + recent_overlap / interval` times, not once per
        sweep for `overlap` seconds (a listed entry costs the dev server about
        0.6 ms of CPU: at 50 runs/s, re-listing 10 s each second cost it more
        than a third of what the runs themselves cost).

        - settled: `watermark <= CloseTime < settled` (`settled` trails the
          listing by `overlap`): each close time once, after any visibility
          lag up to `overlap` has passed;
        - recent: `CloseTime >=` the previous listing less `recent_overlap`
          (not before `settled`), so a run is recorded a sweep after it ends.

        A recorder's first sweep as leader lists everything from the watermark
        less `overlap`, as it cannot know what an earlier leader listed.
        """
        since = watermark
        if since is not None and self._recent is None:
            since -= timedelta(seconds=self.options.overlap)
        recent = (
            settled
            if self._recent is None
            else max(settled, self._recent - timedelta(seconds=self.options.recent_overlap))
        )
        query = f'{self._query} AND ExecutionStatus != "Running"'
        old = f' AND CloseTime < "{settled.isoformat()}"'
        if since is not None:
            old += f' AND CloseTime >= "{since.isoformat()}"'
        latest: dict[str, Any] = {}
        for part in (old, f' AND CloseTime >= "{recent.isoformat()}"'):
            async for entry in self._listed(query + part):
                if not closed_status(entry.status) or entry.close_time is None:
                    continue
                seen = latest.get(entry.id)
                if seen is None or entry.close_time > seen.close_time:
                    latest[entry.id] = entry
        return sorted(latest.values(), key=lambda e: (e.close_time, e.id))

    async def _finalize(self, closed: list[Any], stats: SweepStats) -> list[Any]:
        """Final snapshots of closed runs not final in the store; those left for later."""
        statuses = await self._statuses([e.id for e in closed])
        todo = [e for e in closed if statuses.get(e.id) not in store.FINAL]
        batch, later = todo[: self.options.max_final], todo[self.options.max_final :]
        stored = await self._rows([e.id for e in batch if e.id in statuses])
        results = await self._bounded(partial(self._final_one, e, stored.get(e.id)) for e in batch)
        done: list[tuple[dict[str, Any], str | None, dict[str, Any], bool]] = []
        pending: list[Any] = list(later)
        for entry, result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                self._failures[entry.id] = self._failures.get(entry.id, 0) + 1
                log.warning("recording run %s failed: %s", entry.id, result)
                if self._failures[entry.id] < 3:  # else the stragglers pass picks it up
                    pending.append(entry)
                continue
            self._failures.pop(entry.id, None)
            run, identity, kinds = result
            done.append((run, identity, kinds, entry.id not in statuses))
            stats.lags.append(max((now() - entry.close_time).total_seconds(), 0.0))
        await self._write([(run, identity) for run, identity, _, _ in done], stats)
        for run, _, kinds, new in done:
            self._seen.pop(run["id"], None)
            stats.finalized += 1
            if new:
                stats.discovered += 1
                self._notify("run_started", run)
            self._notify("run_finished", run, kinds)
        stats.backlog += len(pending)
        return pending

    async def _final_one(
        self, entry: Any, row: store.Run | None
    ) -> tuple[dict[str, Any], str | None, dict[str, Any]]:
        previous = store.run_json(row) if row is not None else None
        short = None
        if entry.status == WorkflowExecutionStatus.COMPLETED:
            # Finished by this process's worker: no history read (engine/finished.py).
            short = FINISHED.take(entry.id)
            if short is None:
                with contextlib.suppress(RPCError, TimeoutError):
                    short = await short_history(self.client, entry.id)
        run = await final_snapshot(
            self.client,
            entry.id,
            entry.status,
            entry.close_time,
            previous,
            entry.start_time,
            result=short[1] if short else None,
        )
        inp = short[0] if short else (await start_input(self.client, entry.id) or {})
        run.pop("identity", None)
        run.pop("rerun_of", None)
        return run, inp.get("identity"), step_kinds(inp.get("definition") or {})

    # ------------------------------------------------------------ live runs

    async def _live(self, stats: SweepStats) -> set[str]:
        entries = []
        query = f'{self._query} AND ExecutionStatus = "Running"'
        async for entry in self._listed(query):
            entries.append(entry)
            if len(entries) >= self.options.max_listed:
                break
        running = {e.id for e in entries}
        stats.live = len(running)
        for gone in set(self._seen) - running:
            del self._seen[gone]
        # A run younger than `live_after` is left for later: most end within it and
        # are then recorded once, from their result. Reading each as it starts
        # (a describe, a `state` query that a worker answers, the start input)
        # would cost most when runs arrive fastest, and slow them further.
        settled = now() - timedelta(seconds=self.options.live_after)
        entries = [e for e in entries if e.start_time <= settled]
        stored = await self._statuses(sorted(e.id for e in entries))

        def order(entry: Any) -> tuple[int, float]:
            seen = self._seen.get(entry.id)
            return (entry.id in stored and seen is not None, seen.polled if seen else 0.0)

        ranked = sorted(entries, key=order)
        batch = ranked[: self.options.max_live]
        stats.backlog += len(ranked) - len(batch)
        results = await self._bounded(
            partial(self._live_one, e.id, e.id not in stored) for e in batch
        )
        writes: list[tuple[dict[str, Any], str | None]] = []
        for result in results:
            if isinstance(result, Exception):
                log.warning("reading a live run failed: %s", result)
            elif result is not None:
                run, identity, new = result
                writes.append((run, identity))
                if new:
                    stats.discovered += 1
                    self._notify("run_started", run)
        stats.polled += len(batch)
        await self._write(writes, stats)
        return running

    async def _live_one(
        self, run_id: str, new: bool
    ) -> tuple[dict[str, Any], str | None, bool] | None:
        """The run's snapshot when it changed (None when there is nothing to write)."""
        handle = self.client.get_workflow_handle(run_id)
        desc = await handle.describe()
        if closed_status(desc.status):
            # Visibility still listed it as running: its end goes through the closed
            # runs (once, with the hooks), never through a live read.
            return None
        length = int(desc.raw_description.workflow_execution_info.history_length)
        seen = self._seen.get(run_id)
        clock = time.monotonic()
        if (
            not new
            and seen is not None
            and seen.history_length == length
            and not seen.busy
            and clock - seen.polled < self.options.refresh
        ):
            return None
        run = await live_state(self.client, run_id, timeout=self.options.query_timeout)
        inp = (await start_input(self.client, run_id) or {}) if new else {}
        if run is None:
            # No worker answered: note it (no new query until the history grows or
            # `refresh` passes); a run new to the store is recorded from its input.
            self._seen[run_id] = _Seen(length, clock, False, seen.digest if seen else "")
            if not new:
                return None
            run = bare_run(run_id, inp, desc.start_time)
        if run.get("status") in store.FINAL:
            return None  # it ended between the describe and the query: same as above
        digest = _digest(run)
        self._seen[run_id] = _Seen(length, clock, _busy(run), digest)
        if seen is not None and seen.digest == digest and not new:
            return None
        return run, inp.get("identity"), new

    # ------------------------------------------------------------ stragglers

    async def _stragglers(self, running: set[str], stats: SweepStats) -> None:
        cutoff = now() - timedelta(seconds=self.options.orphan_after)
        async with self.db.session() as s:
            rows = (
                await s.scalars(
                    sa.select(store.Run)
                    .where(
                        # `IN` the unfinished statuses, not `NOT IN` the final ones: the
                        # status index then reads only unfinished rows, however many
                        # finished ones the store holds.
                        store.Run.status.in_(["running", "waiting"]),
                        store.Run.updated_at < cutoff,
                    )
                    .order_by(store.Run.updated_at)
                    .limit(20)
                )
            ).all()
        rows = [r for r in rows if r.id not in running]
        results = await self._bounded(
            partial(read_run, self.client, r.id, store.run_json(r)) for r in rows
        )
        writes: list[tuple[dict[str, Any], str | None]] = []
        for row, found in zip(rows, results, strict=True):
            if isinstance(found, Exception):
                continue
            previous = store.run_json(row)
            if found is None:  # Temporal no longer has it, and its end was never recorded
                run = lost_run(previous)
            elif found.snapshot is None:
                run = {**previous}  # running, unreadable now: touch it, try again later
            else:
                run = found.snapshot
            run.pop("identity", None)
            run.pop("rerun_of", None)
            writes.append((run, None))
            if run.get("status") in store.FINAL:
                self._notify("run_finished", run, {})
        await self._write(writes, stats)
