"""Users, API tokens and per-resource grants.

- `POST /api/v1/users` `{name, role}` → 201 `{id, name, role}` (users_create);
  `GET /api/v1/users` (users_read); `PATCH /api/v1/users/{name}` `{role?,
  disabled?}` (users_update); `GET /api/v1/me`: the caller.
- `POST /api/v1/tokens` `{user?, expires_in?}` → 201 `{id, token}`: the
  token text is shown this once. Anyone may create a token for themselves
  (`user` omitted or their own); such a token never outlives the token that
  created it, so a leaked short-lived token cannot mint a permanent one.
  Tokens for another user need tokens_create (admins).
- `GET /api/v1/tokens`: the caller's tokens (`?user=` someone else's, with
  users_read); `DELETE /api/v1/tokens/{id}`: revoke one of one's own tokens,
  or anyone's with tokens_delete.
- `GET`/`PUT /api/v1/workflows/{name}/grants` and `.../connections/{name}/grants`:
  the grants on one resource; PUT replaces them all (grants_update).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from switchyard.api.auth import (
    CurrentPrincipal,
    Principal,
    TxSession,
    authorize,
    require,
    source_of,
)
from switchyard.api.errors import ApiError
from switchyard.api.inputs import check_text, reject_nul
from switchyard.api.pagination import Cursor, Limit, decode_cursor, page
from switchyard.control import audit
from switchyard.control import auth as store
from switchyard.control import grants as grant_store
from switchyard.control.permissions import Permission as P
from switchyard.control.timestamps import iso

router = APIRouter(tags=["users"], dependencies=[Depends(reject_nul)])

RoleName = Literal["admin", "editor", "operator", "viewer"]
#: Ten years: longer is a permanent token in disguise (leave `expires_in` out for that).
MAX_EXPIRES_IN = 10 * 366 * 86400
MAX_GRANTS = 500
ResourceName = Annotated[str, Path(min_length=1, max_length=128, examples=["hello"])]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64, examples=["alice"])
    role: RoleName


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: RoleName | None = None
    disabled: bool | None = None


class UserPublic(BaseModel):
    id: str
    name: str
    role: str
    disabled: bool = False
    created_at: str | None = None


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str | None = Field(
        default=None, max_length=64, description="user name or id; default: the caller"
    )
    expires_in: int | None = Field(
        default=None, ge=1, le=MAX_EXPIRES_IN, description="seconds; default: never"
    )


class TokenCreated(BaseModel):
    id: str
    token: str
    user: str
    expires_at: str | None


class GrantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str = Field(max_length=80, examples=["user:alice", "role:operator"])
    permissions: list[str] = Field(max_length=64)


class GrantOut(BaseModel):
    subject: str
    permissions: list[str]


def _user(user: store.User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "role": user.role,
        "disabled": user.disabled,
        "created_at": iso(user.created_at),
    }


# -- users -------------------------------------------------------------------------


@router.post("/api/v1/users", status_code=201, response_model=UserPublic)
async def create_user(
    body: UserCreate,
    request: Request,
    session: TxSession,
    principal: Annotated[Principal, Depends(require(P.USERS_CREATE))],
) -> dict[str, Any]:
    """Add a user with a role (admin, editor, operator, viewer)."""
    try:
        user = await store.create_user(session, body.name, body.role)
    except ValueError as exc:
        raise ApiError(
            422, str(exc), problems=[{"location": "name", "message": str(exc)}]
        ) from None
    except store.UserExists as exc:
        raise ApiError(409, str(exc)) from None
    await audit.record(
        session,
        actor=principal.name,
        action="user.create",
        resource=f"user:{user.name}",
        details={"role": user.role},
        source=source_of(request),
    )
    return _user(user)


@router.get("/api/v1/users")
async def list_users(
    session: TxSession,
    _: Annotated[Principal, Depends(require(P.USERS_READ))],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Users by name: `{items: [{id, name, role, disabled, created_at}], next_cursor}`."""
    after = decode_cursor(cursor, (str,))
    rows = await store.list_users(session, after=after[0] if after else None, limit=limit + 1)
    return page(rows, limit, lambda u: [u.name], _user)


@router.patch("/api/v1/users/{name}", response_model=UserPublic)
async def update_user(
    name: Annotated[str, Path(max_length=64, examples=["alice"])],
    body: UserUpdate,
    request: Request,
    session: TxSession,
    principal: Annotated[Principal, Depends(require(P.USERS_UPDATE))],
) -> dict[str, Any]:
    """Change a user's role, or disable it (its tokens stop working) / enable it again."""
    user = await store.find_user(session, name)
    if user is None:
        raise ApiError(404, f"user {name!r} not found")
    if user.id == principal.id and (body.disabled or (body.role and body.role != "admin")):
        raise ApiError(409, "you cannot disable yourself or take away your own admin role")
    changes = body.model_dump(exclude_none=True)
    await store.update_user(session, user, role=body.role, disabled=body.disabled)
    await audit.record(
        session,
        actor=principal.name,
        action="user.update",
        resource=f"user:{user.name}",
        details=changes,
        source=source_of(request),
    )
    return _user(user)


@router.get("/api/v1/me", response_model=UserPublic)
async def me(principal: CurrentPrincipal, session: TxSession) -> dict[str, Any]:
    """The caller: user id, name and role."""
    user = await store.find_user(session, principal.id)
    if user is None:  # deleted while the request ran
        raise ApiError(401, "unknown user", headers={"WWW-Authenticate": "Bearer"})
    return _user(user)


# -- tokens ------------------------------------------------------------------------


@router.post("/api/v1/tokens", status_code=201, response_model=TokenCreated)
async def create_token(
    body: TokenCreate, request: Request, session: TxSession, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Create a token; its text is in this answer only (store it now)."""
    check_text(body.user, "user")
    user = await store.find_user(session, body.user) if body.user else None
    if body.user and user is None:
        if not principal.can(P.TOKENS_CREATE):
            raise ApiError(403, f"permission {P.TOKENS_CREATE.value!r} is required")
        raise ApiError(404, f"user {body.user!r} not found")
    own = user is None or user.id == principal.id
    if not own and not principal.can(P.TOKENS_CREATE):
        raise ApiError(403, f"permission {P.TOKENS_CREATE.value!r} is required")
    user_id = principal.id if user is None else user.id
    not_after = principal.token_expires_at if own else None
    token_id, text = await store.create_token(
        session, user_id, body.expires_in, not_after=not_after
    )
    token = await session.get(store.Token, token_id)
    assert token is not None
    owner = principal.name if user is None else user.name
    await audit.record(
        session,
        actor=principal.name,
        action="token.create",
        resource=f"token:{token_id}",
        details={"user": owner, "expires_at": iso(token.expires_at)},
        source=source_of(request),
    )
    return {"id": token_id, "token": text, "user": owner, "expires_at": iso(token.expires_at)}


@router.get("/api/v1/tokens")
async def list_tokens(
    session: TxSession,
    principal: CurrentPrincipal,
    user: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """The caller's tokens (never their text): id, created, expires, last used, revoked."""
    user_id = principal.id
    if user is not None:
        found = await store.find_user(session, user)
        if found is None or found.id != principal.id:
            if not principal.can(P.USERS_READ):
                raise ApiError(403, f"permission {P.USERS_READ.value!r} is required")
            if found is None:
                raise ApiError(404, f"user {user!r} not found")
        user_id = found.id
    tokens = await store.list_tokens(session, user_id)
    return {
        "items": [
            {
                "id": t.id,
                "created_at": iso(t.created_at),
                "expires_at": iso(t.expires_at),
                "last_used_at": iso(t.last_used_at),
                "revoked": t.revoked,
            }
            for t in tokens
        ],
        "next_cursor": None,
    }


@router.delete("/api/v1/tokens/{token_id}", status_code=204)
async def delete_token(
    token_id: Annotated[str, Path(max_length=64)],
    request: Request,
    session: TxSession,
    principal: CurrentPrincipal,
) -> None:
    """Revoke a token: one's own, or anyone's with tokens_delete."""
    token = await session.get(store.Token, token_id)
    if token is None:
        raise ApiError(404, f"token {token_id!r} not found")
    if token.user_id != principal.id and not principal.can(P.TOKENS_DELETE):
        raise ApiError(403, f"permission {P.TOKENS_DELETE.value!r} is required")
    await store.revoke_token(session, token_id)
    await audit.record(
        session,
        actor=principal.name,
        action="token.delete",
        resource=f"token:{token_id}",
        source=source_of(request),
    )


# -- grants ------------------------------------------------------------------------


def _grants_out(specs: list[grant_store.GrantSpec]) -> list[dict[str, Any]]:
    return [{"subject": g.subject, "permissions": list(g.permissions)} for g in specs]


async def _must_exist(session: TxSession, kind: str, name: str) -> None:
    """404 unless the workflow or connection exists (no grants on what is not there)."""
    if kind == "workflow":
        from switchyard.control.workflows import get_workflow

        found = await get_workflow(session, name) is not None
    else:
        from switchyard.control.connections import get_record

        found = await get_record(session, name) is not None
    if not found:
        raise ApiError(404, f"{kind} {name!r} not found")


async def _put_grants(
    kind: str,
    name: str,
    body: list[GrantIn],
    request: Request,
    session: TxSession,
    principal: Principal,
) -> list[dict[str, Any]]:
    if len(body) > MAX_GRANTS:
        raise ApiError(422, f"at most {MAX_GRANTS} grants per resource")
    for index, grant in enumerate(body):
        check_text(grant.subject, f"[{index}].subject")
    await _must_exist(session, kind, name)
    try:
        grants = await grant_store.set_grants(
            session, kind, name, [(g.subject, g.permissions) for g in body]
        )
    except grant_store.GrantError as exc:
        raise ApiError(
            422, str(exc), problems=[{"location": exc.location, "message": exc.message}]
        ) from None
    out = _grants_out(grants)
    await audit.record(
        session,
        actor=principal.name,
        action="grants.update",
        resource=f"{kind}:{name}",
        details={"grants": out},
        source=source_of(request),
    )
    return out


@router.put("/api/v1/workflows/{name}/grants", response_model=list[GrantOut])
async def put_workflow_grants(
    name: ResourceName,
    body: list[GrantIn],
    request: Request,
    session: TxSession,
    principal: Annotated[Principal, Depends(require(P.GRANTS_UPDATE))],
) -> list[dict[str, Any]]:
    """Replace the grants on a workflow: `[{subject: "user:<name>"|"role:<role>", permissions}]`."""
    return await _put_grants("workflow", name, body, request, session, principal)


@router.get("/api/v1/workflows/{name}/grants", response_model=list[GrantOut])
async def get_workflow_grants(
    name: ResourceName, session: TxSession, principal: CurrentPrincipal
) -> list[dict[str, Any]]:
    """The grants on a workflow (needs workflows_read on it)."""
    await authorize(session, principal, P.WORKFLOWS_READ, "workflow", name)
    await _must_exist(session, "workflow", name)
    return _grants_out(await grant_store.get_grants(session, "workflow", name))


@router.put("/api/v1/connections/{name}/grants", response_model=list[GrantOut])
async def put_connection_grants(
    name: ResourceName,
    body: list[GrantIn],
    request: Request,
    session: TxSession,
    principal: Annotated[Principal, Depends(require(P.GRANTS_UPDATE))],
) -> list[dict[str, Any]]:
    """Replace the grants on a connection (same body as for workflows)."""
    return await _put_grants("connection", name, body, request, session, principal)


@router.get("/api/v1/connections/{name}/grants", response_model=list[GrantOut])
async def get_connection_grants(
    name: ResourceName, session: TxSession, principal: CurrentPrincipal
) -> list[dict[str, Any]]:
    """The grants on a connection (needs connections_read on it)."""
    await authorize(session, principal, P.CONNECTIONS_READ, "connection", name)
    await _must_exist(session, "connection", name)
    return _grants_out(await grant_store.get_grants(session, "connection", name))
