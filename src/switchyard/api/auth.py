"""Who is calling, and may they? Bearer-token authentication and permission checks.

- `CurrentPrincipal`: the caller, from `Authorization: Bearer <token>`; a
  401 (with `WWW-Authenticate: Bearer`) when the token is missing, unknown,
  expired or revoked, or its user is disabled.
- `require(perm)`: a dependency giving the principal when its role has
  `perm` everywhere, else a 403.
- `authorize(session, principal, perm, kind, name)`: the check for one
  workflow or connection: its role, or a grant on that resource.

The token is looked up in its own short transaction, not the request's: the
(at most once a minute) `last_used_at` write then never holds the request's
transaction open, and a failing request does not lose it. Concurrent lookups
share one query (`switchyard.control.batching`): each request's lookup still
starts after the request arrived, so a revoked token is refused at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from switchyard.api.deps import StateDep
from switchyard.api.errors import ApiError
from switchyard.control import auth as store
from switchyard.control.batching import Batcher
from switchyard.control.permissions import Permission

__all__ = [
    "CurrentPrincipal",
    "Principal",
    "TxSession",
    "authorize",
    "require",
    "source_of",
]

_bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer <token>`")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a user (`name` is its user name) and its role."""

    id: str
    name: str
    role: str
    #: Id and expiry of the token the request came with (None for a principal
    #: built outside a request).
    token_id: str | None = None
    token_expires_at: datetime | None = None

    def can(self, perm: Permission) -> bool:
        """True when the role gives `perm` everywhere (grants are checked by `authorize`)."""
        return store.role_allows(self.role, perm)


async def _principal(
    request: Request,
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(
            401,
            "missing bearer token: send `Authorization: Bearer <token>`",
            headers=_CHALLENGE,
        )
    token = credentials.credentials.strip()
    found = None
    if token and len(token) <= 512:
        found = await _lookups(state).submit(token)
        if found is not None and store.use_is_stale(found[1]):
            async with state.db.session(write=True) as session:
                await store.record_use(session, found[1].id)
    if found is None:
        raise ApiError(
            401, "invalid, expired or revoked token", headers=_CHALLENGE, type="Unauthorized"
        )
    user, tok = found
    principal = Principal(user.id, user.name, user.role, tok.id, tok.expires_at)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_principal)]


def _lookups(state: Any) -> Batcher[str, tuple[Any, Any] | None]:
    """The app's token lookups, batched: a burst of requests makes one query, not one each."""
    found: Batcher[str, tuple[Any, Any] | None] | None = state.extras.get("token_lookups")
    if found is None:

        async def lookup(texts: list[str]) -> list[tuple[Any, Any] | None]:
            async with state.db.session() as session:
                return await store.lookup_tokens(session, texts)

        found = state.extras["token_lookups"] = Batcher(lookup)
    return found


def require(perm: Permission) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency: the principal, or a 403 unless its role gives `perm` everywhere.

    Example:
        ```python
        @router.get("/api/v1/audit")
        async def audit(principal: Annotated[Principal, Depends(require(P.AUDIT_READ))]): ...
        ```
    """

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.can(perm):
            raise ApiError(403, f"permission {perm.value!r} is required")
        return principal

    check.__name__ = f"require_{perm.value}"
    return check


async def authorize(
    session: AsyncSession, principal: Principal, perm: Permission, kind: str, name: str
) -> None:
    """Raise a 403 unless the principal's role or a grant on the `kind` `name` gives `perm`."""
    if principal.can(perm):
        return
    if await store.allowed(session, principal.id, perm, kind, name):
        return
    raise ApiError(403, f"permission {perm.value!r} on {kind} {name!r} is required")


def source_of(request: Request) -> str:
    """Where a request came from, for the audit log: `<client ip> <user agent>`."""
    ip = request.client.host if request.client else "-"
    agent = request.headers.get("user-agent", "-")
    return f"{ip} {agent}"[:512]


async def _tx_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    async with state.db.session() as session:
        yield session


#: The request's session, committed when the handler returns and *before* the
#: response is sent (FastAPI's default scope for `yield` dependencies ends
#: after the response: a client could read before the write is committed, and
#: a failed commit would go unreported).
TxSession = Annotated[AsyncSession, Depends(_tx_session, scope="function")]
