"""Where the worker finds `call:` targets and connections when the control plane runs.

- `DbDefinitions`: the engine's `DefinitionSource` over the workflows table
  (`call: x` runs x's published version, else its latest; `version: N` that
  version).
- `FirstFound`: sources tried in order (the database, then the
  `DATA_DIR/definitions` directory `switchyard up` always read).
- `ChainedConnections`: resolvers tried in order (the database, then the
  local encrypted store the `switchyard connection` commands write without
  `--server`).

The engine calls `DefinitionSource.get` synchronously from its
`load_definition` local activity, so `DbDefinitions` runs its queries on a
loop of its own in a background thread, with its own engine, and waits for
the answer (a primary-key lookup: milliseconds). If the engine ever awaits
an async `get`, this thread can go.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from switchyard import errors
from switchyard.connections import Connection, ConnectionResolver
from switchyard.errors import StepFailure

if TYPE_CHECKING:
    from switchyard.control.db import Database

__all__ = ["ChainedConnections", "DbDefinitions", "FirstFound", "worker_sources"]

T = TypeVar("T")
#: How long a definition look-up may take before the local activity fails (and retries).
LOOKUP_TIMEOUT = 20.0


class DbDefinitions:
    """`DefinitionSource` over the control-plane database at `url`.

    Call `close()` when the worker is done (it stops the thread).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="switchyard-definitions", daemon=True
        )
        self._thread.start()
        self._db: Any = None

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(LOOKUP_TIMEOUT)

    async def _lookup(self, name: str, version: int | None) -> tuple[dict[str, Any], int] | None:
        from switchyard.control.db import Database
        from switchyard.control.workflows import resolve_version

        if self._db is None:
            self._db = Database(self.url)
        async with self._db.session() as session:
            try:
                found = await resolve_version(session, name, version)
            except LookupError:
                return None
        return found.definition, found.number

    def get(self, name: str, version: int | None) -> tuple[dict[str, Any], int | None] | None:
        """The definition to run for `call: name` (and its version number), or None."""
        return self._run(self._lookup(name, version))

    async def _close(self) -> None:
        if self._db is not None:
            await self._db.close()

    def close(self) -> None:
        """Dispose of the engine and stop the thread (idempotent)."""
        if not self._loop.is_running():
            return
        self._run(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


class FirstFound:
    """`DefinitionSource`s tried in order: the first that knows the name answers."""

    def __init__(self, sources: Sequence[Any]) -> None:
        self.sources = list(sources)

    def get(self, name: str, version: int | None) -> tuple[dict[str, Any], int | None] | None:
        for source in self.sources:
            found = source.get(name, version)
            if found is not None:
                return found  # type: ignore[no-any-return]
        return None


class ChainedConnections:
    """`ConnectionResolver`s tried in order: `ConnectionNotFound` moves on to the next."""

    def __init__(self, resolvers: Sequence[ConnectionResolver]) -> None:
        self.resolvers = list(resolvers)

    async def get(self, name: str) -> Connection:
        for resolver in self.resolvers:
            try:
                return await resolver.get(name)
            except StepFailure as exc:
                if exc.type != errors.CONNECTION_NOT_FOUND:
                    raise
        raise StepFailure(
            errors.CONNECTION_NOT_FOUND,
            f"connection {name!r} not found",
            {"connection": name},
            retryable=False,
        )


def worker_sources(
    db: Database, data_dir: Path, definitions_dir: Path | None = None
) -> tuple[ChainedConnections, FirstFound, DbDefinitions]:
    """What an engine worker next to the control plane resolves from, for `build_worker`.

    Returns:
        `(connections, definitions, db_definitions)`: connections from the
        database then the data directory's local store; `call:` targets from
        the database then `definitions_dir` (when given). Close
        `db_definitions` when the worker stops.
    """
    from switchyard.connections import LocalConnectionStore, StoreConnections
    from switchyard.control.connections import DbConnections
    from switchyard.engine.local import DirectorySource

    connections = ChainedConnections(
        [DbConnections(db, data_dir), StoreConnections(LocalConnectionStore(data_dir))]
    )
    from_db = DbDefinitions(db.url)
    sources: list[Any] = [from_db]
    if definitions_dir is not None:
        sources.append(DirectorySource(definitions_dir))
    return connections, FirstFound(sources), from_db
