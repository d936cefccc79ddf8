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
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from switchyard.control import events as store
from switchyard.control.db import Database
from switchyard.control.timestamps import now
from switchyard.control.workflows import get_version, get_workflow, published_definitions
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
        self._sweeper: asyncio.Task[None] | None = None
        #: Counters for /metrics: events ingested, events that started a run.
        self.ingested = 0
        self.matched = 0

    # -- accepting -------------------------------------------------------------

    async def accept(self, events: list[Event], *, via: str) -> dict[str, Any]:
        """Store the events, dispatch them, and say what they started.

        Returns:
            `{accepted: [ids], runs: [run ids], events: [{id, duplicate, status, runs}]}`.
        """
        stored: list[tuple[str, bool]] = []
        for event in events:
            stored.append((event.id, await self._store(event, via)))
        self.ingested += sum(1 for _, new in stored if new)
        out = []
        runs: list[str] = []
        for event_id, new in stored:
            started = await self.dispatch(event_id)
            runs += started
            async with self.db.session() as session:
                row = await store.get_event(session, event_id)
                status = row.status if row is not None else store.PENDING
            out.append({"id": event_id, "duplicate": not new, "status": status, "runs": started})
        return {"accepted": [e for e, _ in stored], "runs": runs, "events": out}

    async def _store(self, event: Event, via: str) -> bool:
        """Commit one event; False when its id was known (a redelivery, maybe concurrent)."""
        try:
            async with self.db.session() as session:
                _, new = await store.insert_event(
                    session, event.to_trigger(), source=event.source, via=via
                )
            return new
        except IntegrityError:  # the same id committed concurrently: a redelivery
            return False

    # -- dispatching -----------------------------------------------------------

    async def dispatch(self, event_id: str) -> list[str]:
        """Dispatch one stored event (no-op when done); returns its runs.

        A Temporal failure leaves the event pending with the error recorded;
        the sweep retries it.
        """
        if self.temporal is None:
            return []
        lock = self._event_locks.setdefault(event_id, asyncio.Lock())
        try:
            async with lock:
                return await self._dispatch(event_id)
        finally:
            if not lock.locked():
                self._event_locks.pop(event_id, None)

    async def _dispatch(self, event_id: str) -> list[str]:
        candidates: list[Candidate] = []
        async with self.db.session() as session:
            row = await store.get_event(session, event_id)
            if row is None:
                return []
            if row.status == store.DISPATCHED:
                return list(row.runs or [])
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

    async def _candidates(self, session: Any) -> list[Candidate]:
        """Every published version, parsed once per (workflow, version) per process."""
        out = []
        for version in await published_definitions(session):
            key = (version.workflow, version.number)
            wf = self._parsed.get(key)
            if wf is None:
                wf = self._parsed[key] = Workflow.model_validate(version.definition)
            out.append(Candidate(wf, version.number))
        return out

    async def _finish(self, event_id: str, event: Event, decisions: list[Decision]) -> list[str]:
        """Start the matched runs and record everything on the event."""
        try:
            started = await self._start(event, decisions)
        except Exception as exc:  # Temporal unreachable, ...: the sweep retries
            log.warning("event %s not dispatched yet: %s", event_id, exc)
            async with self.db.session() as session:
                row = await store.get_event(session, event_id)
                if row is not None:
                    row.error = f"{type(exc).__name__}: {exc}"
            return []
        try:
            async with self.db.session() as session:
                row = await store.get_event(session, event_id)
                assert row is not None
                at = now()
                for decision, run_id in started:
                    session.add(
                        store.TriggerRun(
                            run_id=run_id,
                            workflow=decision.workflow,
                            trigger=decision.trigger or "",
                            event_id=event_id,
                            started_at=at,
                        )
                    )
                by_workflow = {d.workflow: r for d, r in started}
                row.decisions = [
                    {**d.to_dict(), "run": by_workflow.get(d.workflow)} for d in decisions
                ]
                row.runs = [r for _, r in started]
                row.status = store.DISPATCHED
                row.dispatched_at = at
                row.error = None
        except IntegrityError:  # another process recorded the same runs first
            pass
        self.matched += 1 if started else 0
        return [r for _, r in started]

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
            await self.dispatch(event_id)
            async with self.db.session() as session:
                row = await store.get_event(session, event_id)
                done += 1 if row is not None and row.status == store.DISPATCHED else 0
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
