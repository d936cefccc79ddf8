"""Ingested events (monitor alerts, security signals, webhook deliveries) and what they started.

An event row is written, and committed, before the API answers 202: from
then on it cannot be lost. Dispatching it (matching against the published
workflows, starting runs) moves it from `pending` to `dispatched`; a
process that dies in between leaves it `pending`, and the dispatcher's sweep
finishes it after a restart. `trigger_runs` remembers every run an event
started, per workflow and trigger: the rate limits count it, and the
deterministic run id makes a second start of the same (event, workflow)
impossible, concurrently or after a redelivery.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from switchyard.control.db import Base
from switchyard.control.timestamps import UtcDateTime, now

__all__ = [
    "EventRecord",
    "TriggerRun",
    "count_trigger_runs",
    "get_event",
    "get_events",
    "insert_events",
    "list_events",
    "pending_events",
]

PENDING = "pending"
DISPATCHED = "dispatched"


class EventRecord(Base):
    __tablename__ = "events"

    id: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(64), index=True)
    #: How it arrived: `events` (normalized), an adapter name, or `webhook`.
    via: Mapped[str] = mapped_column(sa.String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    event: Mapped[dict[str, Any]] = mapped_column(sa.JSON())
    #: Per workflow: `{workflow, version, matched, trigger, reason, tried, run}`.
    decisions: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON(), default=list)
    runs: Mapped[list[str]] = mapped_column(sa.JSON(), default=list)
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    #: Why dispatching failed last (Temporal unreachable...); retried by the sweep.
    error: Mapped[str | None] = mapped_column(sa.Text(), nullable=True)

    def to_public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "via": self.via,
            "received_at": self.received_at.isoformat(),
            "status": self.status,
            "event": self.event,
            "runs": self.runs or [],
            "decisions": self.decisions or [],
            "dispatched_at": self.dispatched_at.isoformat() if self.dispatched_at else None,
            "error": self.error,
        }


class TriggerRun(Base):
    __tablename__ = "trigger_runs"

    run_id: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    workflow: Mapped[str] = mapped_column(sa.String(64))
    trigger: Mapped[str] = mapped_column(sa.String(64))
    event_id: Mapped[str] = mapped_column(sa.String(300))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        sa.Index("ix_trigger_runs_wf_trigger_at", "workflow", "trigger", "started_at"),
    )


async def insert_events(
    session: AsyncSession, events: list[tuple[dict[str, Any], str, str]]
) -> list[bool]:
    """Store many `(event, source, via)` at once; per event, whether it is new.

    One query finds the ids already stored; an id given twice is new once.
    """
    ids = {event["id"] for event, _, _ in events}
    known = set(
        (await session.scalars(select(EventRecord.id).where(EventRecord.id.in_(ids)))).all()
    )
    out = []
    at = now()
    for event, source, via in events:
        if event["id"] in known:
            out.append(False)
            continue
        known.add(event["id"])
        session.add(
            EventRecord(
                id=event["id"],
                source=source,
                via=via,
                received_at=at,
                status=PENDING,
                event=event,
                decisions=[],
                runs=[],
            )
        )
        out.append(True)
    return out


async def get_event(session: AsyncSession, event_id: str) -> EventRecord | None:
    return await session.get(EventRecord, event_id)


async def get_events(session: AsyncSession, ids: list[str]) -> dict[str, EventRecord]:
    """The stored events among `ids`, by id (one query)."""
    rows = await session.scalars(select(EventRecord).where(EventRecord.id.in_(set(ids))))
    return {row.id: row for row in rows}


async def pending_events(session: AsyncSession, *, limit: int = 100) -> list[str]:
    """Ids of events not dispatched yet, oldest first."""
    stmt = (
        select(EventRecord.id)
        .where(EventRecord.status == PENDING)
        .order_by(EventRecord.received_at)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def list_events(
    session: AsyncSession,
    *,
    limit: int,
    before: tuple[datetime, str] | None = None,
    source: str | None = None,
    status: str | None = None,
) -> list[EventRecord]:
    """Newest first, keyset-paginated on (received_at, id)."""
    stmt = select(EventRecord)
    if source:
        stmt = stmt.where(EventRecord.source == source)
    if status:
        stmt = stmt.where(EventRecord.status == status)
    if before is not None:
        at, ident = before
        stmt = stmt.where(
            sa.or_(
                EventRecord.received_at < at,
                sa.and_(EventRecord.received_at == at, EventRecord.id < ident),
            )
        )
    stmt = stmt.order_by(EventRecord.received_at.desc(), EventRecord.id.desc()).limit(limit)
    return list((await session.scalars(stmt)).all())


async def count_trigger_runs(
    session: AsyncSession, workflow: str, trigger: str, since: datetime
) -> int:
    stmt = select(func.count()).where(
        TriggerRun.workflow == workflow,
        TriggerRun.trigger == trigger,
        TriggerRun.started_at >= since,
    )
    return int((await session.scalar(stmt)) or 0)
