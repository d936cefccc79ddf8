"""The dispatcher: from a stored event to the runs it starts, exactly once.

`accept` stores events (committed before the API answers 202), then
dispatches them inline; `sweep` (a background task of the API) dispatches
whatever is still `pending` (the process died between storing and
dispatching, or Temporal was unreachable). Dispatching one event:

1. matches it against every published workflow (`matching.decide`), with
   rate limits counted from the runs events started before;
2. starts one run per matching workflow under a deterministic id
   (`<workflow>-ev-<hash of event id>`) with Temporal's reject-duplicate id
   policy: a second start of the same (event, workflow), concurrent or
   after a crash, is refused by Temporal and only looked up;
3. records the decisions (with the reason for every workflow that did not
   start) and the runs on the event, and marks it `dispatched`.

Dispatches run concurrently, one at a time per event; those that involve a
rate-limited trigger are serialized per process, so the limit sees the runs
started just before. Across API replicas the run ids still make duplicates
impossible (a rate limit may then be exceeded by at most one run per
replica: written down in docs/triggers.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from switchyard.control import events as store
from switchyard.control.batching import Batcher
from switchyard.control.db import Database
from switchyard.control.timestamps import now
from switchyard.control.workflows import get_version, get_workflow, published_versions
from switchyard.definition.model import Workflow
from switchyard.engine.client import start_run
from switchyard.triggers.events import Event
from switchyard.triggers.matching import (
    Candidate,
    Decision,
    RateCheck,
    decide,
    decide_webhook,
)

__all__ = ["Dispatcher", "event_run_id"]

log = logging.getLogger("switchyard.triggers")

SWEEP_INTERVAL = 2.0


def event_run_id(workflow: str, event_id: str) -> str:
    """The run id of the run an event starts for a workflow (stable across retries)."""
    digest = hashlib.sha256(event_id.encode()).hexdigest()[:24]
    return f"{workflow}-ev-{digest}"


class Dispatcher:
    """Stores and dispatches events; one per API process."""

    def __init__(self, db: Database, temporal: Client | None, task_queue: str) -> None:
        self.db = db
        self.temporal = temporal
        self.task_queue = task_queue
        self._rate_lock = asyncio.Lock()
        self._event_locks: dict[str, asyncio.Lock] = {}
        self._parsed: dict[tuple[str, int], Workflow] = {}
        #: The same definitions as JSON, as a run's input carries them.
        self._dumped: dict[tuple[str, int], dict[str, Any]] = {}
        self._sweeper: asyncio.Task[None] | None = None
        #: Events this process is dispatching inline (the sweep leaves them alone).
        self._inflight: set[str] = set()
        # Group commit: a burst's events are stored, and their outcomes recorded,
        # a batch per transaction (switchyard.control.batching).
        self._stores: Batcher[tuple[Event, str], bool] = Batcher(self._store_batch)
        self._records: Batcher[_Outcome, tuple[list[str], str]] = Batcher(self._record_batch)
        self._published: Batcher[None, list[Candidate]] = Batcher(self._read_published)
        #: Counters for /metrics: events ingested, events that started a run.
        self.ingested = 0
        self.matched = 0

    # -- accepting -------------------------------------------------------------

    async def accept(self, events: list[Event], *, via: str) -> dict[str, Any]:
        """Store the events, dispatch them, and say what they started.

        Returns:
            `{accepted: [ids], runs: [run ids], events: [{id, duplicate, status, runs}]}`.
        """
        fresh = {event.id for event in events}
        self._inflight |= fresh
        try:
            news = await asyncio.gather(*(self._store(event, via) for event in events))
            self.ingested += sum(news)
            out = []
            runs: list[str] = []
            for event, new in zip(events, news, strict=True):
                # A new event is known here: no need to read it back (but a webhook
                # delivery is decided against its own workflow, from the stored row).
                known = event if new and via != "webhook" else None
                started, status = await self._dispatch_locked(event.id, known)
                runs += started
                out.append(
                    {"id": event.id, "duplicate": not new, "status": status, "runs": started}
                )
        finally:
            self._inflight -= fresh
        return {"accepted": [e.id for e in events], "runs": runs, "events": out}

    async def _store(self, event: Event, via: str) -> bool:
        """Commit one event; False when its id was known (a redelivery, maybe concurrent)."""
        try:
            return await self._stores.submit((event, via))
        except IntegrityError:  # the same id committed concurrently: a redelivery
            return False

    async def _store_batch(self, items: list[tuple[Event, str]]) -> list[bool]:
        async with self.db.session(write=True) as session:
            return await store.insert_events(
                session, [(event.to_trigger(), event.source, via) for event, via in items]
            )

    # -- dispatching -----------------------------------------------------------

    async def dispatch(self, event_id: str) -> list[str]:
        """Dispatch one stored event (no-op when done); returns its runs.

        A Temporal failure leaves the event pending with the error recorded;
        the sweep retries it.
        """
        runs, _ = await self._dispatch_locked(event_id)
        return runs

    async def _dispatch_locked(
        self, event_id: str, known: Event | None = None
    ) -> tuple[list[str], str]:
        """Dispatch one event, one dispatch at a time per event; (its runs, its status).

        `known`: the event as just stored by this process (not read back).
        """
        if self.temporal is None:
            return [], store.PENDING
        lock = self._event_locks.setdefault(event_id, asyncio.Lock())
        try:
            async with lock:
                return await self._dispatch(event_id, known)
        finally:
            if not lock.locked():
                self._event_locks.pop(event_id, None)

    async def _dispatch(self, event_id: str, known: Event | None) -> tuple[list[str], str]:
        candidates: list[Candidate] = []
        if known is not None:
            event = known
            candidates = await self._published.submit(None)
        else:
            async with self.db.session() as session:
                row = await store.get_event(session, event_id)
                if row is None:
                    return [], store.PENDING
                if row.status == store.DISPATCHED:
                    return list(row.runs or []), store.DISPATCHED
                if row.via == "webhook":
                    event, decisions = await self._webhook_decision(session, row.event)
                    return await self._finish(event_id, event, decisions)
                event = Event.model_validate(row.event)
                candidates = await self._candidates(session)
        if not any(_rate_limited(c.workflow) for c in candidates):
            return await self._finish(event_id, event, decide(event, candidates, _no_limit))
        # Rate limits count the runs started before: one dispatch at a time here.
        async with self._rate_lock:
            async with self.db.session() as session:
                counts = await self._rate_counts(session, candidates)
            decisions = decide(event, candidates, _rate_check(counts))
            return await self._finish(event_id, event, decisions)

    async def _read_published(self, items: list[None]) -> list[list[Candidate]]:
        """The candidates, read once for the dispatches that queued while the last read ran."""
        async with self.db.session() as session:
            candidates = await self._candidates(session)
        return [candidates] * len(items)

    async def _candidates(self, session: Any) -> list[Candidate]:
        """Every published version, read and parsed once per (workflow, version) per process.

        Per event only the (workflow, published number) pairs are read; a
        definition is loaded when its version is new to this process.
        """
        out = []
        for name, number in await published_versions(session):
            wf = self._parsed.get((name, number))
            if wf is None:
                version = await get_version(session, name, number)
                if version is None:  # deleted since the pairs were read
                    continue
                wf = self._parsed[(name, number)] = Workflow.model_validate(version.definition)
            out.append(Candidate(wf, number))
        return out

    async def _finish(
        self, event_id: str, event: Event, decisions: list[Decision]
    ) -> tuple[list[str], str]:
        """Start the matched runs and record everything on the event."""
        try:
            started = await self._start(event, decisions)
        except Exception as exc:  # Temporal unreachable, ...: the sweep retries
            log.warning("event %s not dispatched yet: %s", event_id, exc)
            async with self.db.session(write=True) as session:
                row = await store.get_event(session, event_id)
                if row is not None:
                    row.error = f"{type(exc).__name__}: {exc}"
            return [], store.PENDING
        try:
            runs, status = await self._records.submit(_Outcome(event_id, decisions, started))
        except IntegrityError:  # another process recorded the same runs first
            runs, status = [r for _, r in started], store.DISPATCHED
        self.matched += 1 if started else 0
        return runs, status

    async def _record_batch(self, items: list[_Outcome]) -> list[tuple[list[str], str]]:
        """Record the decisions and runs of dispatched events (one transaction)."""
        out: list[tuple[list[str], str]] = []
        async with self.db.session(write=True) as session:
            rows = await store.get_events(session, [item.event_id for item in items])
            at = now()
            for item in items:
                row = rows.get(item.event_id)
                if row is None:  # deleted meanwhile: nothing to record on
                    out.append(([r for _, r in item.started], store.DISPATCHED))
                    continue
                if row.status == store.DISPATCHED:  # another dispatch recorded it first
                    out.append((list(row.runs or []), store.DISPATCHED))
                    continue
                for decision, run_id in item.started:
                    session.add(
                        store.TriggerRun(
                            run_id=run_id,
                            workflow=decision.workflow,
                            trigger=decision.trigger or "",
                            event_id=item.event_id,
                            started_at=at,
                        )
                    )
                by_workflow = {d.workflow: r for d, r in item.started}
                row.decisions = [
                    {**d.to_dict(), "run": by_workflow.get(d.workflow)} for d in item.decisions
                ]
                row.runs = [r for _, r in item.started]
                row.status = store.DISPATCHED
                row.dispatched_at = at
                row.error = None
                out.append((row.runs, store.DISPATCHED))
        return out

    async def _webhook_decision(
        self, session: Any, data: dict[str, Any]
    ) -> tuple[Event, list[Decision]]:
        """A webhook delivery goes to its own workflow's published version only."""
        event = Event.model_validate(data)
        target = event.attributes["target"]
        record = await get_workflow(session, target["workflow"])
        number = record.published_version if record is not None else None
        version = await get_version(session, target["workflow"], number) if number else None
        if version is None:
            missing = Decision(workflow=target["workflow"], version=0, matched=False)
            missing.reason = f"workflow {target['workflow']!r} has no published version"
            return event, [missing]
        cand = Candidate(Workflow.model_validate(version.definition), version.number)
        delivery = event.attributes["delivery"]
        return event, [decide_webhook(delivery, cand, target["trigger"])]

    async def _rate_counts(
        self, session: Any, candidates: list[Candidate]
    ) -> dict[tuple[str, str], int]:
        from switchyard.definition.model import MonitorTrigger, SecuritySignalTrigger
        from switchyard.definition.triggers import trigger_ids

        counts: dict[tuple[str, str], int] = {}
        for cand in candidates:
            wf = cand.workflow
            for trigger, tid in zip(wf.triggers, trigger_ids(wf), strict=True):
                if not isinstance(trigger, MonitorTrigger | SecuritySignalTrigger):
                    continue
                spec = (
                    trigger.monitor
                    if isinstance(trigger, MonitorTrigger)
                    else trigger.security_signal
                )
                if spec.rate_limit is None:
                    continue
                since = now() - timedelta(seconds=float(spec.rate_limit.per))
                counts[(wf.name, tid)] = await store.count_trigger_runs(
                    session, wf.name, tid, since
                )
        return counts

    async def _start(self, event: Event, decisions: list[Decision]) -> list[tuple[Decision, str]]:
        assert self.temporal is not None
        started = []
        for decision in decisions:
            if not decision.matched:
                continue
            run_id = event_run_id(decision.workflow, event.id)
            payload = (
                event.attributes["delivery"] if event.source == "webhook" else event.to_trigger()
            )
            trigger = {"type": event.source, "id": decision.trigger, "event": payload}
            assert decision.definition is not None
            key = (decision.workflow, decision.version)
            dumped = self._dumped.get(key)
            if dumped is None:
                dumped = self._dumped[key] = decision.definition.model_dump(
                    mode="json", by_alias=True, exclude_none=True
                )
            # Started by an earlier attempt (crash, concurrent dispatch): the same run.
            with contextlib.suppress(WorkflowAlreadyStartedError):
                await start_run(
                    self.temporal,
                    decision.definition,
                    decision.inputs,
                    task_queue=self.task_queue,
                    trigger=trigger,
                    version=decision.version,
                    run_id=run_id,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    definition=dumped,
                )
            started.append((decision, run_id))
        return started

    # -- the sweep -------------------------------------------------------------

    async def sweep_once(self) -> int:
        """Dispatch every pending event; returns how many got dispatched."""
        async with self.db.session() as session:
            pending = await store.pending_events(session)
        done = 0
        for event_id in pending:
            if event_id in self._inflight:  # being dispatched inline right now
                continue
            _, status = await self._dispatch_locked(event_id)
            done += status == store.DISPATCHED
        return done

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep_once()
            except Exception:  # never let the sweeper die; it logs and retries
                log.exception("event sweep failed")
            await asyncio.sleep(SWEEP_INTERVAL)

    def start(self) -> None:
        if self._sweeper is None and self.temporal is not None:
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="event-sweep")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None


@dataclass(frozen=True)
class _Outcome:
    """What dispatching one event decided and started, to record on it."""

    event_id: str
    decisions: list[Decision]
    started: list[tuple[Decision, str]]


def _rate_limited(wf: Workflow) -> bool:
    return any(
        getattr(
            getattr(t, "monitor", None) or getattr(t, "security_signal", None), "rate_limit", None
        )
        is not None
        for t in wf.triggers
    )


def _no_limit(workflow: str, trigger: str, count: int, per: float) -> bool:
    return True


def _rate_check(counts: dict[tuple[str, str], int]) -> RateCheck:
    def ok(workflow: str, trigger: str, count: int, per: float) -> bool:
        return counts.get((workflow, trigger), 0) < count

    return ok
