"""The event store of runs: one row per run, its latest snapshot, beyond Temporal's retention.

A row holds the run JSON of the spec (`snapshot`, steps included) and the
columns the list filters and sorts on. The run recorder
(`control/recorder.py`) keeps the rows in step with Temporal; the API
inserts a row before it starts a run (so an idempotency key is claimed once)
and reads finished runs from here only.

Rows are written with an upsert that never lets a stale live snapshot
replace a final one, and never drops what only the API knows (the identity
the run executes as, its idempotency key, the run it reruns).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from switchyard.control.db import Base
from switchyard.control.timestamps import UtcDateTime, iso, now, parse_time

__all__ = [
    "FINAL",
    "STATUSES",
    "RecorderState",
    "Run",
    "create_run",
    "delete_run",
    "find_by_key",
    "get_run",
    "last_runs",
    "list_runs",
    "release_lease",
    "run_json",
    "save_watermark",
    "statuses",
    "summary",
    "take_lease",
    "upsert_snapshot",
]

#: Run statuses of the spec, and those a run never leaves.
STATUSES = ("running", "waiting", "succeeded", "failed", "cancelled", "timed_out")
FINAL = frozenset({"succeeded", "failed", "cancelled", "timed_out"})


class Run(Base):
    """One run (`id` is its Temporal workflow id)."""

    __tablename__ = "runs"
    __table_args__ = (
        sa.UniqueConstraint("workflow", "idempotency_key", name="uq_runs_idempotency_key"),
        # Keyset pagination (started_at desc, id desc), alone and under each filter.
        sa.Index("ix_runs_started", "started_at", "id"),
        sa.Index("ix_runs_workflow_started", "workflow", "started_at", "id"),
        # "failed runs of this workflow": both filters, still in page order.
        sa.Index("ix_runs_workflow_status_started", "workflow", "status", "started_at", "id"),
        sa.Index("ix_runs_status_started", "status", "started_at", "id"),
        sa.Index("ix_runs_trigger_started", "trigger_type", "started_at", "id"),
        sa.Index("ix_runs_rerun_of", "rerun_of"),
    )

    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    workflow: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    trigger: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    trigger_type: Mapped[str] = mapped_column(sa.String(32))
    inputs: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    outputs: Mapped[Any] = mapped_column(sa.JSON, nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    #: The user id the run executes as (connections are checked against it).
    identity: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    rerun_of: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: The run JSON of the spec as last recorded, steps included.
    snapshot: Mapped[dict[str, Any]] = mapped_column(sa.JSON)


class RecorderState(Base):
    """The run recorder's progress (a single row): restart-safe sweeps, one active recorder."""

    __tablename__ = "run_recorder"

    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    #: Runs closed before this time are recorded (minus the sweep's overlap).
    watermark: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    #: Which recorder sweeps, and until when its lease holds.
    owner: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


_LEASE_ROW = "main"


async def take_lease(
    session: AsyncSession, owner: str, seconds: float
) -> tuple[datetime | None, bool]:
    """Take or renew the recorder's lease: (the stored watermark, whether `owner` holds it).

    The lease is free when nobody holds it, its holder let it go, or it ran out.

    Raises:
        sqlalchemy.exc.IntegrityError: another recorder created the row at the same time.
    """
    at = now()
    until = at + timedelta(seconds=seconds)
    row = await session.get(RecorderState, _LEASE_ROW)
    if row is None:
        session.add(RecorderState(name=_LEASE_ROW, owner=owner, lease_until=until))
        await session.flush()
        return None, True
    result = await session.execute(
        sa.update(RecorderState)
        .where(
            RecorderState.name == _LEASE_ROW,
            sa.or_(
                RecorderState.owner == owner,
                RecorderState.owner.is_(None),
                RecorderState.lease_until < at,
            ),
        )
        .values(owner=owner, lease_until=until)
    )
    return row.watermark, result.rowcount == 1  # type: ignore[attr-defined]


async def save_watermark(session: AsyncSession, owner: str, watermark: datetime) -> None:
    """Store the recorder's watermark (only while `owner` holds the lease)."""
    await session.execute(
        sa.update(RecorderState)
        .where(RecorderState.name == _LEASE_ROW, RecorderState.owner == owner)
        .values(watermark=watermark)
    )


async def release_lease(session: AsyncSession, owner: str) -> None:
    """Let the lease go at once (a recorder stopping), so another one takes over."""
    await session.execute(
        sa.update(RecorderState)
        .where(RecorderState.name == _LEASE_ROW, RecorderState.owner == owner)
        .values(lease_until=now())
    )


def statuses(text: str | None) -> list[str]:
    """`failed,timed_out` as a list of known statuses; ValueError names an unknown one."""
    if not text:
        return []
    out = [s.strip() for s in text.split(",") if s.strip()]
    for s in out:
        if s not in STATUSES:
            raise ValueError(f"unknown status {s!r}; statuses: {', '.join(STATUSES)}")
    return out


def _time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return parse_time(str(value))


def _values(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The columns of a row, from a run JSON."""
    trigger = snapshot.get("trigger") or {"type": "manual"}
    return {
        "id": str(snapshot["id"]),
        "workflow": str(snapshot.get("workflow") or ""),
        "version": snapshot.get("version"),
        "status": str(snapshot.get("status") or "running"),
        "trigger": trigger,
        "trigger_type": str(trigger.get("type") or "manual")[:32],
        "inputs": snapshot.get("inputs"),
        "outputs": snapshot.get("outputs"),
        "error": snapshot.get("error"),
        "started_at": _time(snapshot.get("started_at")) or now(),
        "finished_at": _time(snapshot.get("finished_at")),
        "updated_at": now(),
        "snapshot": snapshot,
    }


async def create_run(
    session: AsyncSession,
    snapshot: dict[str, Any],
    *,
    identity: str | None = None,
    idempotency_key: str | None = None,
    rerun_of: str | None = None,
) -> Run:
    """Insert a new run (before it starts).

    Raises:
        sqlalchemy.exc.IntegrityError: the id, or the idempotency key for this
            workflow, is taken (the caller's transaction is then unusable).
    """
    row = Run(
        **_values(snapshot),
        identity=identity,
        idempotency_key=idempotency_key,
        rerun_of=rerun_of,
    )
    session.add(row)
    await session.flush()
    return row


async def upsert_snapshot(
    session: AsyncSession,
    snapshot: dict[str, Any],
    *,
    identity: str | None = None,
    rerun_of: str | None = None,
) -> None:
    """Insert or update a run from its run JSON.

    A final row is never replaced by a non-final snapshot (a live read that
    lost a race with the run's end), and columns only the API knows
    (identity, idempotency key, rerun_of) keep their stored values.
    """
    values = _values(snapshot)
    values.update(identity=identity, rerun_of=rerun_of, idempotency_key=None)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(Run).values(**values)
    elif dialect == "sqlite":
        stmt = sqlite.insert(Run).values(**values)
    else:  # pragma: no cover - only the two supported backends
        raise RuntimeError(f"unsupported database {dialect!r}")
    new = stmt.excluded
    table = Run.__table__.c
    final = list(FINAL)
    keep = {"identity", "rerun_of", "idempotency_key", "id"}
    update = {
        name: (sa.func.coalesce(table[name], new[name]) if name in keep else new[name])
        for name in values
        if name not in ("id", "idempotency_key")
    }
    update["version"] = sa.func.coalesce(new.version, table.version)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Run.id],
        set_=update,
        where=sa.or_(table.status.not_in(final), new.status.in_(final)),
    )
    await session.execute(stmt)


async def get_run(session: AsyncSession, run_id: str) -> Run | None:
    """The stored run, or None."""
    return await session.get(Run, run_id, populate_existing=True)


async def find_by_key(session: AsyncSession, workflow: str, key: str) -> Run | None:
    """The run of `workflow` started with this idempotency key, or None."""
    stmt = select(Run).where(Run.workflow == workflow, Run.idempotency_key == key)
    return (await session.scalars(stmt)).first()


async def delete_run(session: AsyncSession, run_id: str) -> None:
    """Forget a run (one whose start failed)."""
    await session.execute(sa.delete(Run).where(Run.id == run_id))


def run_json(row: Run) -> dict[str, Any]:
    """The run JSON of a stored run: its snapshot, with what only the store knows."""
    out = dict(row.snapshot or {})
    out.update(
        id=row.id,
        workflow=row.workflow,
        version=row.version if row.version is not None else out.get("version"),
        status=row.status,
    )
    out.setdefault("inputs", row.inputs or {})
    out.setdefault("outputs", row.outputs)
    out.setdefault("error", row.error)
    out.setdefault("trigger", row.trigger)
    out.setdefault("started_at", iso(row.started_at))
    out.setdefault("finished_at", iso(row.finished_at))
    out.setdefault("steps", {})
    out["identity"] = row.identity
    out["rerun_of"] = row.rerun_of
    return out


_SUMMARY = (
    Run.id,
    Run.workflow,
    Run.version,
    Run.status,
    Run.trigger,
    Run.error,
    Run.identity,
    Run.rerun_of,
    Run.started_at,
    Run.finished_at,
)


def summary(row: Any) -> dict[str, Any]:
    """A list item: the run JSON without inputs, outputs and steps."""
    return {
        "id": row.id,
        "workflow": row.workflow,
        "version": row.version,
        "status": row.status,
        "trigger": row.trigger,
        "error": row.error,
        "identity": row.identity,
        "rerun_of": row.rerun_of,
        "started_at": iso(row.started_at),
        "finished_at": iso(row.finished_at),
    }


async def list_runs(
    session: AsyncSession,
    *,
    workflow: str | None = None,
    status: list[str] | None = None,
    trigger: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: tuple[datetime, str] | None = None,
    limit: int = 50,
) -> list[Any]:
    """Run summaries newest first (started_at desc, id desc), filtered.

    `since` is inclusive and `until` exclusive (on `started_at`); `after` is
    the sort key of the previous page's last item. Returns up to `limit`
    rows (ask for one more to know whether a next page exists).
    """
    stmt = select(*_SUMMARY).order_by(Run.started_at.desc(), Run.id.desc()).limit(limit)
    if workflow is not None:
        stmt = stmt.where(Run.workflow == workflow)
    if status:
        stmt = stmt.where(Run.status == status[0] if len(status) == 1 else Run.status.in_(status))
    if trigger is not None:
        stmt = stmt.where(Run.trigger_type == trigger)
    if since is not None:
        stmt = stmt.where(Run.started_at >= since)
    if until is not None:
        stmt = stmt.where(Run.started_at < until)
    if after is not None:
        # A row-value comparison: PostgreSQL walks the (…, started_at, id) index from there.
        stmt = stmt.where(sa.tuple_(Run.started_at, Run.id) < sa.tuple_(after[0], after[1]))
    return list((await session.execute(stmt)).all())


async def last_runs(session: AsyncSession, names: list[str]) -> dict[str, dict[str, Any]]:
    """The latest run of each named workflow: `{name: {id, status, started_at, finished_at}}`.

    One indexed probe per name (a UNION ALL of `LIMIT 1` subqueries), so the
    cost does not grow with the number of runs. Workflows without runs are left out.
    """
    out: dict[str, dict[str, Any]] = {}
    unique = sorted(set(names))
    for lo in range(0, len(unique), 100):
        parts = []
        for name in unique[lo : lo + 100]:
            inner = (
                select(Run.workflow, Run.id, Run.status, Run.started_at, Run.finished_at)
                .where(Run.workflow == name)
                .order_by(Run.started_at.desc(), Run.id.desc())
                .limit(1)
                .subquery()
            )
            parts.append(select(inner))
        query = parts[0] if len(parts) == 1 else sa.union_all(*parts)
        for row in (await session.execute(query)).all():
            out[row.workflow] = {
                "id": row.id,
                "status": row.status,
                "started_at": iso(_aware(row.started_at)),
                "finished_at": iso(_aware(row.finished_at)),
            }
    return out


def _aware(value: Any) -> datetime | None:
    # Columns read through a UNION lose their type decorator on SQLite.
    if value is None:
        return None
    return _time(value) if not isinstance(value, datetime) else parse_time(value.isoformat())
