"""Connections in the database, secrets encrypted at rest (DESIGN.md, "Security model").

A row holds the connection's name, type and fields in clear, the names of
its secrets, and the secrets as one envelope of
`switchyard.connections.crypto` (AES-256-GCM, per-record data key wrapped
by a master key; the row's `kid` says which). The envelope's associated
data is the same as the local store's (name, type, fields, secret names),
so a row edited by hand or copied to another name fails to decrypt instead
of handing its secrets to the wrong place, and records can move between the
local store and the database unchanged.

Secrets are write-only: `describe` shows their names, never values; only
`resolve` (the worker's `DbConnections`) decrypts them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from switchyard import errors
from switchyard.connections import Connection
from switchyard.connections.crypto import CryptoError, Keyring, MasterKeyNotFound
from switchyard.connections.store import _aad, validate_name
from switchyard.connections.types import CONNECTION_TYPES, ConnectionType
from switchyard.control.db import Base, Database
from switchyard.control.timestamps import UtcDateTime, iso, now
from switchyard.errors import StepFailure

__all__ = [
    "ConnectionExists",
    "ConnectionInvalid",
    "ConnectionRecord",
    "DbConnections",
    "Unreadable",
    "create",
    "delete",
    "describe",
    "get_record",
    "list_records",
    "resolve",
    "rewrap_all",
    "update",
]


class ConnectionRecord(Base):
    __tablename__ = "connections"

    name: Mapped[str] = mapped_column(sa.String(63), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(64))
    fields: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    secret_names: Mapped[list[str]] = mapped_column(sa.JSON)
    #: The envelope of the secrets (a JSON object of name → value).
    secrets: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    #: The master key the data key is wrapped with (also inside the envelope).
    kid: Mapped[str] = mapped_column(sa.String(80), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    updated_by: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)


class ConnectionExists(Exception):
    """`create` of a name that is taken."""


class ConnectionInvalid(ValueError):
    """Fields or secrets that do not fit the type; `problems` are `(location, message)`."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


class Unreadable(Exception):
    """A stored record cannot be decrypted (tampered with, or its master key is missing)."""


_NAMED = re.compile(r"\b(field|secret) '([^']*)'")


def _located(message: str) -> tuple[str, str]:
    if message.startswith("'") and "is a secret" in message:
        return f"fields.{message.split(chr(39))[1]}", message
    found = _NAMED.search(message)
    if found:
        return f"{found.group(1)}s.{found.group(2)}", message
    return "body", message


def check(
    type_: str,
    fields: Mapping[str, Any],
    secrets: Mapping[str, Any],
    types: Mapping[str, ConnectionType] = CONNECTION_TYPES,
) -> None:
    """Raise `ConnectionInvalid` unless fields and secrets fit the connection type."""
    ctype = types.get(type_)
    if ctype is None:
        known = ", ".join(sorted(types)) or "none"
        raise ConnectionInvalid([("type", f"unknown connection type {type_!r} (known: {known})")])
    problems = [_located(m) for m in ctype.check(dict(fields), dict(secrets))]
    for key, value in secrets.items():
        if not isinstance(value, str):
            problems.append((f"secrets.{key}", f"secret {key!r} must be a string"))
    try:
        json.dumps(dict(fields), allow_nan=False)
    except (TypeError, ValueError) as exc:
        problems.append(("fields", f"fields must be JSON values: {exc}"))
    if problems:
        raise ConnectionInvalid(problems)


def _encrypt(
    keyring: Keyring, name: str, type_: str, fields: Mapping[str, Any], secrets: Mapping[str, Any]
) -> dict[str, Any]:
    plaintext = json.dumps(dict(secrets), sort_keys=True, ensure_ascii=False).encode()
    return keyring.encrypt(plaintext, _aad(name, type_, fields, sorted(secrets)))


def _decrypt(keyring: Keyring, record: ConnectionRecord) -> dict[str, Any]:
    aad = _aad(record.name, record.type, record.fields, record.secret_names)
    try:
        plaintext = keyring.decrypt(record.secrets, aad)
        secrets = json.loads(plaintext)
    except (CryptoError, ValueError) as exc:
        raise Unreadable(f"connection {record.name!r}: cannot decrypt its secrets: {exc}") from None
    if not isinstance(secrets, dict) or sorted(secrets) != sorted(record.secret_names):
        raise Unreadable(f"connection {record.name!r}: decrypted secrets are malformed")
    return secrets


async def get_record(session: AsyncSession, name: str) -> ConnectionRecord | None:
    return await session.get(ConnectionRecord, name)


async def list_records(
    session: AsyncSession, *, after: str | None, limit: int, type_: str | None = None
) -> list[ConnectionRecord]:
    """Connections by name (secrets still encrypted)."""
    stmt = select(ConnectionRecord).order_by(ConnectionRecord.name).limit(limit)
    if after is not None:
        stmt = stmt.where(ConnectionRecord.name > after)
    if type_ is not None:
        stmt = stmt.where(ConnectionRecord.type == type_)
    return list((await session.scalars(stmt)).all())


async def create(
    session: AsyncSession,
    keyring: Keyring,
    name: str,
    type_: str,
    fields: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
    *,
    actor: str | None = None,
) -> ConnectionRecord:
    """Store a new connection.

    Raises:
        ConnectionInvalid: bad name, unknown type, or fields/secrets that do not fit it.
        ConnectionExists: the name is taken.
        CryptoError: no usable master key.
    """
    try:
        validate_name(name)
    except ValueError as exc:
        raise ConnectionInvalid([("name", str(exc))]) from None
    fields, secrets = dict(fields or {}), dict(secrets or {})
    check(type_, fields, secrets)
    if await get_record(session, name) is not None:
        raise ConnectionExists(f"connection {name!r} already exists")
    envelope = _encrypt(keyring, name, type_, fields, secrets)
    current = now()
    record = ConnectionRecord(
        name=name,
        type=type_,
        fields=fields,
        secret_names=sorted(secrets),
        secrets=envelope,
        kid=Keyring.envelope_kid(envelope),
        created_at=current,
        updated_at=current,
        created_by=actor,
        updated_by=actor,
    )
    session.add(record)
    try:
        await session.flush()
    except IntegrityError:
        raise ConnectionExists(f"connection {name!r} already exists") from None
    return record


async def update(
    session: AsyncSession,
    keyring: Keyring,
    record: ConnectionRecord,
    *,
    fields: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str | None] | None = None,
    actor: str | None = None,
) -> ConnectionRecord:
    """Change a connection: `fields` (when given) replace all fields; each of `secrets`
    sets a secret, or removes it when None; secrets not named keep their values.

    Raises:
        ConnectionInvalid: the result does not fit the type.
        Unreadable: the stored secrets cannot be decrypted (they are needed to merge).
    """
    new_fields = dict(record.fields) if fields is None else dict(fields)
    new_secrets = _decrypt(keyring, record) if record.secret_names else {}
    for key, value in (secrets or {}).items():
        if value is None:
            new_secrets.pop(key, None)
        else:
            new_secrets[key] = value
    check(record.type, new_fields, new_secrets)
    envelope = _encrypt(keyring, record.name, record.type, new_fields, new_secrets)
    record.fields = new_fields
    record.secret_names = sorted(new_secrets)
    record.secrets = envelope
    record.kid = Keyring.envelope_kid(envelope)
    record.updated_at = now()
    record.updated_by = actor
    await session.flush()
    return record


async def delete(session: AsyncSession, name: str) -> bool:
    """Remove a connection; False when there is none."""
    record = await get_record(session, name)
    if record is None:
        return False
    await session.delete(record)
    await session.flush()
    return True


def describe(record: ConnectionRecord) -> dict[str, Any]:
    """A connection as the API shows it: secret names only, never values."""
    return {
        "name": record.name,
        "type": record.type,
        "fields": record.fields,
        "secrets": sorted(record.secret_names),
        "key_id": record.kid,
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
        "created_by": record.created_by,
        "updated_by": record.updated_by,
    }


async def resolve(session: AsyncSession, keyring: Keyring, name: str) -> Connection | None:
    """The connection with its secrets decrypted; None when there is none.

    Raises:
        Unreadable: its secrets cannot be decrypted.
    """
    record = await get_record(session, name)
    if record is None:
        return None
    secrets = _decrypt(keyring, record)
    return Connection(name=record.name, type=record.type, fields=record.fields, secrets=secrets)


async def rewrap_all(session: AsyncSession, keyring: Keyring) -> int:
    """Re-wrap every record's data key under the keyring's current master key.

    The ciphertext is unchanged. Returns how many records moved.

    Raises:
        Unreadable: a record cannot be unwrapped (its master key is missing):
            nothing is committed by the caller's transaction then.
    """
    if keyring.current_kid is None:
        return 0
    moved = 0
    rows = await session.scalars(
        select(ConnectionRecord).where(ConnectionRecord.kid != keyring.current_kid)
    )
    for record in rows.all():
        aad = _aad(record.name, record.type, record.fields, record.secret_names)
        try:
            envelope = keyring.rewrap(record.secrets, aad)
        except CryptoError as exc:
            raise Unreadable(f"connection {record.name!r}: {exc}") from None
        record.secrets = envelope
        record.kid = Keyring.envelope_kid(envelope)
        moved += 1
    await session.flush()
    return moved


class DbConnections:
    """`ConnectionResolver` over the database (what the worker of `switchyard up` uses).

    Args:
        db: The control-plane database.
        data_dir: Where the master keys are (`DATA_DIR/keys`, or
            `SWITCHYARD_MASTER_KEY`); reloaded when a record names a key the
            loaded keyring lacks (rotated by another process).
        keyring: A fixed keyring instead (tests).
    """

    def __init__(
        self, db: Database, data_dir: Path | None = None, *, keyring: Keyring | None = None
    ) -> None:
        if data_dir is None and keyring is None:
            raise ValueError("give data_dir or keyring")
        self.db = db
        self.data_dir = data_dir
        self._keyring = keyring

    def _keys(self, reload: bool = False) -> Keyring:
        if self._keyring is None or (reload and self.data_dir is not None):
            assert self.data_dir is not None
            self._keyring = Keyring.load(self.data_dir)
        return self._keyring

    async def get(self, name: str) -> Connection:
        try:
            async with self.db.session() as session:
                try:
                    found = await resolve(session, self._keys(), name)
                except Unreadable:
                    found = await resolve(session, self._keys(reload=True), name)
        except (Unreadable, CryptoError, MasterKeyNotFound) as exc:
            raise StepFailure(
                errors.ACTION_ERROR,
                str(exc),
                {"connection": name, "reason": "unreadable"},
                retryable=False,
            ) from None
        if found is None:
            raise StepFailure(
                errors.CONNECTION_NOT_FOUND,
                f"connection {name!r} not found",
                {"connection": name},
                retryable=False,
            )
        return found
