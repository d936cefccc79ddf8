"""The audit log: who changed what, when, and from where.

Every mutation through the API records one entry in the same transaction as
the change, so an entry exists exactly when the change was committed.
Actions are `<resource>.<verb>` (`workflow.update`, `token.create`,
`run.cancel`); resources are `<kind>:<name or id>` (`workflow:nightly`).
Entries never hold a secret or a token's text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from switchyard.control.db import Base
from switchyard.control.timestamps import UtcDateTime, iso, now

__all__ = ["AuditEntry", "describe", "query", "record"]

#: SQLite only auto-increments an INTEGER PRIMARY KEY (a rowid alias).
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class AuditEntry(Base):
    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    actor: Mapped[str | None] = mapped_column(sa.String(64), index=True, nullable=True)
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    resource: Mapped[str] = mapped_column(sa.String(200), index=True)
    details: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    #: `<client ip> <user agent>` of the request (`api.auth.source_of`).
    source: Mapped[str | None] = mapped_column(sa.String(512), nullable=True)


async def record(
    session: AsyncSession,
    *,
    actor: str | None,
    action: str,
    resource: str,
    details: dict[str, Any] | None = None,
    source: str | None = None,
) -> None:
    """Add an entry in the caller's transaction.

    Args:
        actor: The user name of who did it (None for the system itself).
        action: `<resource>.<verb>`, e.g. `workflow.publish`.
        resource: `<kind>:<name or id>`, e.g. `workflow:nightly`.
        details: JSON facts about the change (never a secret).
        source: Where the request came from (`api.auth.source_of(request)`).
    """
    session.add(
        AuditEntry(
            at=now(),
            actor=actor[:64] if actor else actor,
            action=action[:64],
            resource=resource[:200],
            details=details,
            source=source[:512] if source else source,
        )
    )
    await session.flush()


async def query(
    session: AsyncSession,
    *,
    actor: str | None = None,
    action: str | None = None,
    resource: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[AuditEntry]:
    """Entries newest first, filtered; `before_id` continues a page (keyset).

    `action` and `resource` ending in `*` match a prefix (`workflow.*`,
    `workflow:nightly*`); otherwise every filter is an exact match. `since`
    is inclusive, `until` exclusive.
    """
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if actor is not None:
        stmt = stmt.where(AuditEntry.actor == actor)
    for column, value in ((AuditEntry.action, action), (AuditEntry.resource, resource)):
        if value is None:
            continue
        if value.endswith("*"):
            prefix = value[:-1]
            stmt = stmt.where(sa.func.substr(column, 1, len(prefix)) == prefix)
        else:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    if before_id is not None:
        stmt = stmt.where(AuditEntry.id < before_id)
    return list((await session.scalars(stmt)).all())


def describe(entry: AuditEntry) -> dict[str, Any]:
    """An entry as the API shows it."""
    return {
        "id": entry.id,
        "at": iso(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "resource": entry.resource,
        "details": entry.details or {},
        "source": entry.source,
    }
