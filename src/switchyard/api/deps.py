"""FastAPI dependencies as `Annotated` aliases (full-stack-fastapi-template style).

Authentication and permission checks (`CurrentPrincipal`, `require`) live in
`switchyard.api.auth`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from switchyard.api.app import AppState
from switchyard.api.errors import ApiError

__all__ = ["SessionDep", "StateDep", "TemporalDep", "get_state"]


def get_state(request: Request) -> AppState:
    return request.app.state.switchyard  # type: ignore[no-any-return]


# Dependencies are `async def` even without awaiting: FastAPI runs a plain `def`
# dependency on its thread pool, a thread hand-off per request for a field read.
async def _state(request: Request) -> AppState:
    return get_state(request)


StateDep = Annotated[AppState, Depends(_state)]


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    """A session in a transaction for one request (committed when it succeeds)."""
    async with state.db.session() as session:
        yield session


# scope="function": commit before the response is sent (FastAPI's default
# closes a yield dependency after the response, so a client could read
# before the write landed).
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_temporal(state: StateDep) -> Any:
    if state.temporal is None:
        raise ApiError(503, "Temporal is not configured for this API", type="Unavailable")
    return state.temporal


TemporalDep = Annotated[Any, Depends(get_temporal)]
