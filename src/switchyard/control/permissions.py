"""Permissions are `<resource>_<verb>` (StackStorm `rbac/types.py` style), granted by roles.

Roles are fixed sets of permissions; per-workflow and per-connection grants
add permissions on one resource (control/auth.py applies them).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ROLES", "Permission", "Role"]


class Permission(StrEnum):
    WORKFLOWS_READ = "workflows_read"
    WORKFLOWS_CREATE = "workflows_create"
    WORKFLOWS_UPDATE = "workflows_update"
    WORKFLOWS_DELETE = "workflows_delete"
    WORKFLOWS_PUBLISH = "workflows_publish"
    WORKFLOWS_RUN = "workflows_run"
    RUNS_READ = "runs_read"
    RUNS_CANCEL = "runs_cancel"
    RUNS_APPROVE = "runs_approve"
    CONNECTIONS_READ = "connections_read"
    CONNECTIONS_CREATE = "connections_create"
    CONNECTIONS_UPDATE = "connections_update"
    CONNECTIONS_DELETE = "connections_delete"
    CONNECTIONS_USE = "connections_use"
    ACTIONS_READ = "actions_read"
    EVENTS_READ = "events_read"
    EVENTS_CREATE = "events_create"
    USERS_READ = "users_read"
    USERS_CREATE = "users_create"
    USERS_UPDATE = "users_update"
    USERS_DELETE = "users_delete"
    TOKENS_CREATE = "tokens_create"
    TOKENS_DELETE = "tokens_delete"
    GRANTS_UPDATE = "grants_update"
    AUDIT_READ = "audit_read"
    RUNNERS_READ = "runners_read"


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    OPERATOR = "operator"
    VIEWER = "viewer"


P = Permission
_VIEW = frozenset(
    {
        P.WORKFLOWS_READ,
        P.RUNS_READ,
        P.CONNECTIONS_READ,
        P.ACTIONS_READ,
        P.EVENTS_READ,
        P.RUNNERS_READ,
    }
)
_OPERATE = _VIEW | {
    P.WORKFLOWS_RUN,
    P.RUNS_CANCEL,
    P.RUNS_APPROVE,
    P.CONNECTIONS_USE,
    P.EVENTS_CREATE,
}
_EDIT = _OPERATE | {
    P.WORKFLOWS_CREATE,
    P.WORKFLOWS_UPDATE,
    P.WORKFLOWS_DELETE,
    P.WORKFLOWS_PUBLISH,
    P.CONNECTIONS_CREATE,
    P.CONNECTIONS_UPDATE,
    P.CONNECTIONS_DELETE,
}

#: What each role may do everywhere (grants add to this per resource).
ROLES: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.EDITOR: frozenset(_EDIT),
    Role.OPERATOR: frozenset(_OPERATE),
    Role.VIEWER: _VIEW,
}
