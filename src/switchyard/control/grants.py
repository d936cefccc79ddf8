"""Per-resource grants: permissions on one workflow or connection for a user or a role.

A grant adds to what a role gives everywhere (`permissions.ROLES`); the check
itself is `control.auth.allowed`. Subjects are stored as `user:<user id>`
(so renaming cannot move a grant) and shown as `user:<name>`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from switchyard.control.auth import Grant, User, check_role, find_user
from switchyard.control.permissions import Permission

__all__ = [
    "GRANT_KINDS",
    "GRANT_PERMISSIONS",
    "GrantError",
    "GrantSpec",
    "delete_grants",
    "get_grants",
    "set_grants",
]

GRANT_KINDS = ("workflow", "connection")
#: The permissions a grant on each kind of resource may give.
GRANT_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "workflow": frozenset(
        {
            Permission.WORKFLOWS_READ,
            Permission.WORKFLOWS_UPDATE,
            Permission.WORKFLOWS_DELETE,
            Permission.WORKFLOWS_PUBLISH,
            Permission.WORKFLOWS_RUN,
            Permission.RUNS_READ,
            Permission.RUNS_CANCEL,
            Permission.RUNS_APPROVE,
        }
    ),
    "connection": frozenset(
        {
            Permission.CONNECTIONS_READ,
            Permission.CONNECTIONS_UPDATE,
            Permission.CONNECTIONS_DELETE,
            Permission.CONNECTIONS_USE,
        }
    ),
}


class GrantError(ValueError):
    """A grant that cannot be given; `location` is the entry's place (`[2].permissions`)."""

    def __init__(self, location: str, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message


@dataclass(frozen=True)
class GrantSpec:
    """One grant as the API shows it: `user:<name>` or `role:<role>`, and permissions."""

    subject: str
    permissions: tuple[str, ...]


async def get_grants(session: AsyncSession, kind: str, name: str) -> list[GrantSpec]:
    """The grants on one resource, subjects by user name (`user:<name>`, `role:<role>`)."""
    rows = (
        await session.scalars(
            select(Grant).where(Grant.kind == kind, Grant.resource == name).order_by(Grant.subject)
        )
    ).all()
    out: list[GrantSpec] = []
    for grant in rows:
        subject = grant.subject
        if subject.startswith("user:"):
            user = await session.get(User, subject[len("user:") :])
            subject = f"user:{user.name}" if user is not None else subject
        out.append(GrantSpec(subject, tuple(sorted(grant.permissions))))
    return sorted(out, key=lambda g: g.subject)


async def set_grants(
    session: AsyncSession, kind: str, name: str, grants: Iterable[tuple[str, Iterable[str]]]
) -> list[GrantSpec]:
    """Replace the grants on one resource.

    Args:
        grants: `(subject, permissions)` pairs; subject `user:<name or id>` or
            `role:<role>`. A subject named twice has its permissions merged.

    Returns:
        The new grants, as `get_grants` shows them.

    Raises:
        GrantError: unknown kind, subject, user, role or permission; its
            `location` names the entry (`[2].subject`).
    """
    if kind not in GRANT_KINDS:
        raise GrantError("", f"grants are on {' or '.join(GRANT_KINDS)}, not {kind!r}")
    allowed_perms = GRANT_PERMISSIONS[kind]
    merged: dict[str, set[str]] = {}
    for index, (subject, perms) in enumerate(grants):
        stored = await _subject_key(session, subject, f"[{index}].subject")
        if isinstance(perms, str) or not all(isinstance(p, str) for p in perms):
            raise GrantError(f"[{index}].permissions", "must be a list of permission names")
        chosen = merged.setdefault(stored, set())
        for perm in perms:
            if perm not in {p.value for p in allowed_perms}:
                names = ", ".join(sorted(p.value for p in allowed_perms))
                raise GrantError(
                    f"[{index}].permissions",
                    f"{perm!r} cannot be granted on a {kind} (grantable: {names})",
                )
            chosen.add(perm)
    await session.execute(sa.delete(Grant).where(Grant.kind == kind, Grant.resource == name))
    for subject, perms in sorted(merged.items()):
        if perms:
            session.add(Grant(kind=kind, resource=name, subject=subject, permissions=sorted(perms)))
    await session.flush()
    return await get_grants(session, kind, name)


async def _subject_key(session: AsyncSession, subject: str, where: str) -> str:
    kind, sep, value = subject.partition(":") if isinstance(subject, str) else ("", "", "")
    if not sep or kind not in ("user", "role") or not value:
        raise GrantError(where, f"{subject!r} is not 'user:<name>' or 'role:<role>'")
    if kind == "role":
        try:
            check_role(value)
        except ValueError as exc:
            raise GrantError(where, str(exc)) from None
        return f"role:{value}"
    user = await find_user(session, value)
    if user is None:
        raise GrantError(where, f"user {value!r} not found")
    return f"user:{user.id}"


async def delete_grants(session: AsyncSession, kind: str, name: str) -> None:
    """Remove every grant on a resource (when it is deleted)."""
    await session.execute(sa.delete(Grant).where(Grant.kind == kind, Grant.resource == name))
