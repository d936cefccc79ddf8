"""Users, API tokens and per-resource grants (DESIGN.md, "Security model").

Tokens are 256 bits from `secrets` and stored only as their SHA-256 hash.
Not argon2: a slow, salted hash protects *low-entropy* secrets (passwords)
against guessing, but nobody can guess a 256-bit random value, so a fast
unsalted hash loses nothing, and it lets the API find a token by an indexed
lookup of its hash on every request (argon2 would cost ~50 ms and a scan of
every token's salt per request).

A principal may do what its role allows everywhere (`permissions.ROLES`),
plus what grants on one workflow or connection add: a grant gives a list of
permissions on one resource to one user (`user:<id>`) or to everyone with a
role (`role:<role>`). The grants table is here (the `auth` migration branch);
reading and replacing grants is `control.grants` (also reachable from here).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ForeignKey, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from switchyard.control.db import Base
from switchyard.control.permissions import ROLES, Permission, Role
from switchyard.control.timestamps import UtcDateTime, now

__all__ = [
    "TOKEN_PREFIX",
    "USER_NAME_PATTERN",
    "Grant",
    "Token",
    "User",
    "UserExists",
    "allowed",
    "authenticate",
    "check_role",
    "create_token",
    "create_user",
    "ensure_admin",
    "find_user",
    "hash_token",
    "list_tokens",
    "list_users",
    "revoke_token",
    "role_allows",
    "update_user",
]

USER_NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.@-]{0,63}")
"""A user name: lower-case letters, digits, `_ . @ -`; 1 to 64 characters."""
TOKEN_PREFIX = "syt_"
"""Tokens look like `syt_<43 base64url characters>` (easy to spot in a leaked log)."""
_TOKEN_BYTES = 32
#: last_used_at is written at most this often per token (one write a minute, not per request).
LAST_USED_RESOLUTION = timedelta(seconds=60)


#: Grant functions live in `control.grants`; they are reachable from here too.
_GRANTS = {
    "GRANT_KINDS",
    "GRANT_PERMISSIONS",
    "GrantError",
    "GrantSpec",
    "delete_grants",
    "get_grants",
    "set_grants",
}


def __getattr__(name: str) -> Any:
    if name not in _GRANTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from switchyard.control import grants

    return getattr(grants, name)


def _new_id() -> str:
    return uuid.uuid4().hex


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=_new_id)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    disabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)


class Token(Base):
    __tablename__ = "tokens"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=_new_id)
    user_id: Mapped[str] = mapped_column(
        sa.String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    revoked: Mapped[bool] = mapped_column(sa.Boolean, default=False)


class Grant(Base):
    __tablename__ = "grants"
    __table_args__ = (sa.UniqueConstraint("kind", "resource", "subject", name="uq_grants_target"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    resource: Mapped[str] = mapped_column(sa.String(128))
    #: `user:<user id>` or `role:<role>`.
    subject: Mapped[str] = mapped_column(sa.String(48))
    permissions: Mapped[list[str]] = mapped_column(sa.JSON)


class UserExists(Exception):
    """`create_user` of a name that is taken."""


def hash_token(token: str) -> str:
    """The stored form of a token: SHA-256, hex (see the module docstring for why not argon2)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role {role!r} (roles: {known})") from None


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not USER_NAME_PATTERN.fullmatch(name):
        raise ValueError(
            f"invalid user name {name!r}: 1-64 lower-case letters, digits, '_', '.', '@' "
            "or '-', starting with a letter or digit"
        )
    return name


# -- users -----------------------------------------------------------------------


async def create_user(session: AsyncSession, name: str, role: str) -> User:
    """Add a user.

    Raises:
        ValueError: invalid name or unknown role.
        UserExists: the name is taken.
    """
    _check_name(name)
    check_role(role)
    if await session.scalar(select(User.id).where(User.name == name)) is not None:
        raise UserExists(f"user {name!r} already exists")
    user = User(id=_new_id(), name=name, role=role, created_at=now(), disabled=False)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:  # created concurrently
        raise UserExists(f"user {name!r} already exists") from None
    return user


async def find_user(session: AsyncSession, ref: str) -> User | None:
    """The user named `ref`, else the user whose id is `ref`, else None."""
    user = await session.scalar(select(User).where(User.name == ref))
    if user is None:
        user = await session.get(User, ref)
    return user


async def list_users(session: AsyncSession, *, after: str | None, limit: int) -> list[User]:
    """Users by name, the first `limit` after the name `after`."""
    query = select(User).order_by(User.name).limit(limit)
    if after is not None:
        query = query.where(User.name > after)
    return list((await session.scalars(query)).all())


async def update_user(
    session: AsyncSession, user: User, *, role: str | None = None, disabled: bool | None = None
) -> User:
    """Change a user's role or disable / re-enable it (a disabled user's tokens stop working)."""
    if role is not None:
        user.role = check_role(role).value
    if disabled is not None:
        user.disabled = disabled
    await session.flush()
    return user


# -- tokens ----------------------------------------------------------------------


async def create_token(
    session: AsyncSession,
    user_id: str,
    expires_in: int | None = None,
    *,
    not_after: datetime | None = None,
) -> tuple[str, str]:
    """A new token for a user: (token id, token text). The text is not stored: show it once.

    Args:
        expires_in: Seconds until it expires; None = never.
        not_after: An upper bound on the expiry (the API passes the expiry of
            the token a user creates their own token with, so a leaked
            short-lived token cannot mint a permanent one).

    Raises:
        ValueError: `expires_in` is not positive.
        LookupError: no such user.
    """
    if expires_in is not None and expires_in <= 0:
        raise ValueError("expires_in must be a positive number of seconds")
    if await session.get(User, user_id) is None:
        raise LookupError(f"user {user_id!r} not found")
    created = now()
    expires_at = created + timedelta(seconds=expires_in) if expires_in is not None else None
    if not_after is not None and (expires_at is None or expires_at > not_after):
        expires_at = not_after
    text = TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)
    token = Token(
        id=_new_id(),
        user_id=user_id,
        hash=hash_token(text),
        created_at=created,
        expires_at=expires_at,
        revoked=False,
    )
    session.add(token)
    await session.flush()
    return token.id, text


async def authenticate(session: AsyncSession, text: str) -> tuple[User, Token] | None:
    """The user and token of a bearer token, or None when it is unknown, expired,
    revoked, or its user is disabled. Records the use (at most once a minute).
    """
    found = (await lookup_tokens(session, [text]))[0]
    if found is not None and use_is_stale(found[1]):
        await record_use(session, found[1].id)
    return found


async def lookup_tokens(session: AsyncSession, texts: list[str]) -> list[tuple[User, Token] | None]:
    """`authenticate` for many tokens in one query, without recording their use."""
    hashes = [hash_token(text) for text in texts]
    rows = await session.execute(
        select(Token, User).join(User, User.id == Token.user_id).where(Token.hash.in_(set(hashes)))
    )
    by_hash = {token.hash: (user, token) for token, user in rows}
    current = now()
    out: list[tuple[User, Token] | None] = []
    for digest in hashes:
        found = by_hash.get(digest)
        if found is not None:
            user, token = found
            expired = token.expires_at is not None and token.expires_at <= current
            if token.revoked or user.disabled or expired:
                found = None
        out.append(found)
    return out


def use_is_stale(token: Token) -> bool:
    """True when the token's `last_used_at` is older than its resolution (a minute)."""
    return token.last_used_at is None or now() - token.last_used_at >= LAST_USED_RESOLUTION


async def record_use(session: AsyncSession, token_id: str) -> None:
    """Set `last_used_at`; conditional, so concurrent requests of one token write once."""
    current = now()
    await session.execute(
        update(Token)
        .where(Token.id == token_id)
        .where(
            sa.or_(
                Token.last_used_at.is_(None),
                Token.last_used_at <= current - LAST_USED_RESOLUTION,
            )
        )
        .values(last_used_at=current)
    )


async def list_tokens(session: AsyncSession, user_id: str | None) -> list[Token]:
    """Tokens (never their text) of one user, or of everyone, newest first."""
    query = select(Token).order_by(Token.created_at.desc(), Token.id)
    if user_id is not None:
        query = query.where(Token.user_id == user_id)
    return list((await session.scalars(query)).all())


async def revoke_token(session: AsyncSession, token_id: str) -> Token | None:
    """Revoke a token (it stays listed, revoked); None when there is no such token."""
    token = await session.get(Token, token_id)
    if token is None:
        return None
    token.revoked = True
    await session.flush()
    return token


async def ensure_admin(session: AsyncSession, token: str | None = None) -> str | None:
    """On first start, create user `admin` (role admin) and a token for it.

    Args:
        token: The admin token to accept (`SWITCHYARD_ADMIN_TOKEN`); a new
            one is generated when omitted.

    Returns:
        The token text when the admin was created now, else None (an enabled
        admin exists). With an explicit `token` and an existing admin, that
        token is still registered for user `admin` when it is unknown, so
        changing `SWITCHYARD_ADMIN_TOKEN` takes effect on restart (a token
        revoked through the API stays revoked).
    """
    existing = await session.scalar(
        select(User.id).where(User.role == Role.ADMIN.value, User.disabled.is_(False)).limit(1)
    )
    if existing is not None:
        if token:
            admin = await session.scalar(select(User).where(User.name == "admin"))
            known = await session.scalar(select(Token.id).where(Token.hash == hash_token(token)))
            if admin is not None and admin.role == Role.ADMIN.value and known is None:
                session.add(Token(id=_new_id(), user_id=admin.id, hash=hash_token(token)))
                await session.flush()
        return None
    user = await session.scalar(select(User).where(User.name == "admin"))
    if user is None:
        user = await create_user(session, "admin", Role.ADMIN.value)
    else:  # only an admin can add users, so none could have taken the name on purpose
        user.role = Role.ADMIN.value
        user.disabled = False
    if token:
        if await session.scalar(select(Token.id).where(Token.hash == hash_token(token))) is None:
            session.add(Token(id=_new_id(), user_id=user.id, hash=hash_token(token)))
        await session.flush()
        return token
    _, text = await create_token(session, user.id)
    return text


# -- grants and permission checks ----------------------------------------------


def role_allows(role: str, perm: Permission) -> bool:
    """True when the role gives `perm` everywhere."""
    try:
        return perm in ROLES[Role(role)]
    except ValueError:
        return False


async def allowed(
    session: AsyncSession, user_id: str, perm: Permission, kind: str, name: str
) -> bool:
    """May the user do `perm` on the `kind` resource `name`? Its role, else a grant."""
    user = await session.get(User, user_id)
    if user is None or user.disabled:
        return False
    if role_allows(user.role, perm):
        return True
    rows = await session.scalars(
        select(Grant.permissions).where(
            Grant.kind == kind,
            Grant.resource == name,
            Grant.subject.in_((f"user:{user.id}", f"role:{user.role}")),
        )
    )
    return any(perm.value in (perms or []) for perms in rows)
