"""Connections: named, typed fields and encrypted, write-only secrets.

- `POST /api/v1/connections` `{name, type, fields, secrets}` → 201 (connections_create).
- `GET /api/v1/connections` (`?type=`), `GET /api/v1/connections/{name}`: fields in
  clear and the *names* of the secrets, never their values (connections_read).
- `PUT /api/v1/connections/{name}` `{fields?, secrets?}`: `fields` replaces
  all fields; each secret given is set (`null` removes it), secrets not named
  keep their values, so a client that cannot read secrets can still change
  a field (connections_update).
- `DELETE /api/v1/connections/{name}` (connections_delete).

Per-connection grants (`PUT .../grants`) add permissions on one connection.
"""

from __future__ import annotations

from typing import Annotated, Any

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
from switchyard.api.deps import StateDep
from switchyard.api.errors import ApiError
from switchyard.api.inputs import reject_nul
from switchyard.api.pagination import Cursor, Limit, decode_cursor, page
from switchyard.connections.crypto import CryptoError, Keyring
from switchyard.control import audit
from switchyard.control import connections as store
from switchyard.control.grants import delete_grants
from switchyard.control.permissions import Permission as P

router = APIRouter(tags=["connections"], dependencies=[Depends(reject_nul)])

Name = Annotated[
    str, Path(min_length=1, max_length=63, description="connection name", examples=["github"])
]


class ConnectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=63, examples=["github-prod"])
    type: str = Field(max_length=64, examples=["http"])
    fields: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict, description="write-only")


class ConnectionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str | None = Field(default=None, max_length=64, description="must stay the same")
    fields: dict[str, Any] | None = Field(default=None, description="replaces every field")
    secrets: dict[str, str | None] | None = Field(
        default=None, description="sets these secrets (null removes one); others are kept"
    )


class ConnectionPublic(BaseModel):
    name: str
    type: str
    fields: dict[str, Any]
    secrets: list[str] = Field(description="names only: values are never shown")
    key_id: str
    created_at: str | None
    updated_at: str | None
    created_by: str | None
    updated_by: str | None


def _keyring(state: StateDep) -> Keyring:
    try:
        return Keyring.load(state.settings.data_dir)
    except (CryptoError, OSError) as exc:
        raise ApiError(503, f"the master keys are unusable: {exc}", type="Unavailable") from None


def _invalid(exc: store.ConnectionInvalid) -> ApiError:
    return ApiError(
        422,
        f"invalid connection: {exc}",
        problems=[{"location": loc, "message": msg} for loc, msg in exc.problems],
    )


def _bad_keys(exc: Exception) -> ApiError:
    return ApiError(503, f"cannot use the master keys: {exc}", type="Unavailable")


@router.post("/api/v1/connections", status_code=201, response_model=ConnectionPublic)
async def create_connection(
    body: ConnectionCreate,
    request: Request,
    state: StateDep,
    session: TxSession,
    principal: Annotated[Principal, Depends(require(P.CONNECTIONS_CREATE))],
) -> dict[str, Any]:
    """Create a connection; its secrets are encrypted and never shown again."""
    keyring = _keyring(state)
    try:
        record = await store.create(
            session,
            keyring,
            body.name,
            body.type,
            body.fields,
            body.secrets,
            actor=principal.name,
        )
    except store.ConnectionInvalid as exc:
        raise _invalid(exc) from None
    except store.ConnectionExists as exc:
        raise ApiError(409, str(exc)) from None
    except CryptoError as exc:
        raise _bad_keys(exc) from None
    await audit.record(
        session,
        actor=principal.name,
        action="connection.create",
        resource=f"connection:{record.name}",
        details={
            "type": record.type,
            "fields": sorted(record.fields),
            "secrets": record.secret_names,
        },
        source=source_of(request),
    )
    return store.describe(record)


@router.get("/api/v1/connections")
async def list_connections(
    session: TxSession,
    _: Annotated[Principal, Depends(require(P.CONNECTIONS_READ))],
    type: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Connections by name (secret names only)."""
    after = decode_cursor(cursor, (str,))
    rows = await store.list_records(
        session, after=after[0] if after else None, limit=limit + 1, type_=type
    )
    return page(rows, limit, lambda r: [r.name], store.describe)


async def _found(session: TxSession, name: str) -> store.ConnectionRecord:
    record = await store.get_record(session, name)
    if record is None:
        raise ApiError(404, f"connection {name!r} not found")
    return record


@router.get("/api/v1/connections/{name}", response_model=ConnectionPublic)
async def get_connection(
    name: Name, session: TxSession, principal: CurrentPrincipal
) -> dict[str, Any]:
    """One connection: fields, and the names of its secrets."""
    await authorize(session, principal, P.CONNECTIONS_READ, "connection", name)
    return store.describe(await _found(session, name))


@router.put("/api/v1/connections/{name}", response_model=ConnectionPublic)
async def update_connection(
    name: Name,
    body: ConnectionUpdate,
    request: Request,
    state: StateDep,
    session: TxSession,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Change fields (replaced as a whole) and set or remove secrets (merged)."""
    await authorize(session, principal, P.CONNECTIONS_UPDATE, "connection", name)
    record = await _found(session, name)
    if body.type is not None and body.type != record.type:
        raise ApiError(
            422,
            f"the type of connection {name!r} is {record.type!r}: create a new connection "
            "for another type",
            problems=[{"location": "type", "message": f"must be {record.type!r}"}],
        )
    try:
        await store.update(
            session,
            _keyring(state),
            record,
            fields=body.fields,
            secrets=body.secrets,
            actor=principal.name,
        )
    except store.ConnectionInvalid as exc:
        raise _invalid(exc) from None
    except (store.Unreadable, CryptoError) as exc:
        raise _bad_keys(exc) from None
    await audit.record(
        session,
        actor=principal.name,
        action="connection.update",
        resource=f"connection:{name}",
        details={
            "fields": None if body.fields is None else sorted(body.fields),
            "secrets_set": sorted(k for k, v in (body.secrets or {}).items() if v is not None),
            "secrets_removed": sorted(k for k, v in (body.secrets or {}).items() if v is None),
        },
        source=source_of(request),
    )
    return store.describe(record)


@router.delete("/api/v1/connections/{name}", status_code=204)
async def delete_connection(
    name: Name, request: Request, session: TxSession, principal: CurrentPrincipal
) -> None:
    """Delete a connection (and its grants); steps that use it fail with ConnectionNotFound."""
    await authorize(session, principal, P.CONNECTIONS_DELETE, "connection", name)
    if not await store.delete(session, name):
        raise ApiError(404, f"connection {name!r} not found")
    await delete_grants(session, "connection", name)
    await audit.record(
        session,
        actor=principal.name,
        action="connection.delete",
        resource=f"connection:{name}",
        source=source_of(request),
    )
