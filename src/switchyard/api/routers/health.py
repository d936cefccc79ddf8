"""`GET /api/v1/health` (no token needed): `{status, temporal, database}`."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from switchyard.api.deps import StateDep

router = APIRouter(tags=["health"])


@router.get("/api/v1/health")
async def health(state: StateDep) -> dict[str, Any]:
    """Liveness of the API and what it depends on; `status` is `ok` or `degraded`."""
    database = "ok"
    try:
        async with asyncio.timeout(5):
            async with state.db.session() as session:
                await session.execute(text("SELECT 1"))
    except Exception as exc:
        database = f"error: {type(exc).__name__}"
    temporal = "not configured"
    if state.temporal is not None:
        try:
            async with asyncio.timeout(5):
                await state.temporal.service_client.check_health()
            temporal = "ok"
        except Exception as exc:
            temporal = f"error: {type(exc).__name__}"
    ok = database == "ok" and temporal in ("ok", "not configured")
    return {"status": "ok" if ok else "degraded", "temporal": temporal, "database": database}
