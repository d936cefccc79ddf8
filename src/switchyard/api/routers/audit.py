"""`GET /api/v1/audit`: the audit log, newest first (audit_read).

Filters: `actor` (user name), `action` and `resource` (exact, or a prefix
ending in `*`: `workflow.*`, `workflow:nightly*`), `since` (inclusive) and
`until` (exclusive) as RFC 3339 times; keyset pagination.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from switchyard.api.auth import Principal, TxSession, require
from switchyard.api.inputs import reject_nul
from switchyard.api.pagination import Cursor, Limit, decode_cursor, page, query_time
from switchyard.control import audit
from switchyard.control.permissions import Permission as P

router = APIRouter(tags=["audit"], dependencies=[Depends(reject_nul)])

Filter = Annotated[str | None, Query(max_length=200)]


@router.get("/api/v1/audit")
async def list_audit(
    session: TxSession,
    _: Annotated[Principal, Depends(require(P.AUDIT_READ))],
    actor: Filter = None,
    action: Filter = None,
    resource: Filter = None,
    since: Annotated[str | None, Query(max_length=64, examples=["2025-01-31T00:00:00Z"])] = None,
    until: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Entries `{id, at, actor, action, resource, details, source}`, newest first."""
    after = decode_cursor(cursor, (int,))
    rows = await audit.query(
        session,
        actor=actor,
        action=action,
        resource=resource,
        since=query_time(since, "since"),
        until=query_time(until, "until"),
        before_id=after[0] if after else None,
        limit=limit + 1,
    )
    return page(rows, limit, lambda e: [e.id], audit.describe)
