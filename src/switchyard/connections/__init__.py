"""Connections: named, typed sets of fields and secrets (spec, "Connections").

This is the minimal, in-memory side: the `Connection` value an action
receives, the `ConnectionResolver` protocol the activity uses to fetch one by
name, `StaticConnections` (tests, and the worker until the encrypted store
lands), and the registry of connection types (`switchyard.connections.types`).
Secrets are resolved only inside the activity that uses them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from switchyard import errors
from switchyard.errors import StepFailure

__all__ = [
    "Connection",
    "ConnectionResolver",
    "LocalConnectionStore",
    "StaticConnections",
    "StoreConnections",
]

# The encrypted store (`switchyard.connections.store`) is exported lazily: it
# imports this module, and most users of `Connection` never need it.
_LAZY = {
    "LocalConnectionStore": "switchyard.connections.store",
    "StoreConnections": "switchyard.connections.store",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


@dataclass
class Connection:
    """One resolved connection.

    Attributes:
        name: The connection's name, as steps refer to it.
        type: Its type (`http`, `webhook_secret`, ...).
        fields: Non-secret settings (base URL, auth mode, ...).
        secrets: Secret values by name; never shown by `repr`.
    """

    name: str
    type: str
    fields: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, Any] = field(default_factory=dict, repr=False)

    def secret_values(self) -> list[str]:
        """Every non-empty secret value, as text (what output masking looks for)."""
        return [str(v) for v in self.secrets.values() if v not in (None, "")]


@runtime_checkable
class ConnectionResolver(Protocol):
    """Finds a connection by name for the activity that uses it."""

    async def get(self, name: str) -> Connection:
        """Return the connection named `name`.

        Raises:
            StepFailure: type `ConnectionNotFound` when there is none.
        """
        ...


class StaticConnections:
    """A fixed set of connections held in memory.

    Args:
        connections: A mapping of name to connection, or an iterable of
            connections (keyed by their `name`).
    """

    def __init__(self, connections: Mapping[str, Connection] | Iterable[Connection] = ()) -> None:
        if isinstance(connections, Mapping):
            self._by_name = dict(connections)
        else:
            self._by_name = {c.name: c for c in connections}

    async def get(self, name: str) -> Connection:
        try:
            return self._by_name[name]
        except KeyError:
            raise StepFailure(
                errors.CONNECTION_NOT_FOUND,
                f"connection {name!r} not found",
                {"connection": name},
                retryable=False,
            ) from None
