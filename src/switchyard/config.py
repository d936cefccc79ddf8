"""Process settings, read from the environment.

Every setting has an embedded-mode default, so `switchyard up` works with no
configuration at all. Distributed deployments set the same names in the
environment (or a `.env` loaded by their process manager).

- `SWITCHYARD_DATA_DIR` (default `./.switchyard`): embedded state (Temporal
  SQLite file, server log, blobs, admin token).
- `TEMPORAL_ADDRESS` (default unset): `host:port` of an existing Temporal
  frontend; unset means "start the embedded dev server".
- `TEMPORAL_NAMESPACE` (default `default`): Temporal namespace for runs.
- `SWITCHYARD_TASK_QUEUE` (default `switchyard`): the engine worker's task queue.
- `SWITCHYARD_BLOB_THRESHOLD` (default `131072`, 128 KiB): step outputs larger
  than this many bytes go to the blob store.
- `SWITCHYARD_BLOB_DIR` (default `DATA_DIR/blobs`): the file-system blob store.

This module is imported by the CLI at start-up: it stays dependency-free
(no pydantic, no temporalio) so `switchyard --help` stays fast.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DEFAULT_BLOB_THRESHOLD", "Settings", "SettingsError", "get_settings"]

DEFAULT_BLOB_THRESHOLD = 128 * 1024
"""Bytes above which a step output is stored outside Temporal payloads."""


class SettingsError(ValueError):
    """An environment variable holds a value that cannot be used."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Switchyard's process settings.

    Build one with :meth:`from_env` (or :func:`get_settings`); construct it
    directly in tests. Paths are kept as given (relative paths resolve against
    the working directory when used).

    Attributes:
        data_dir: Directory for embedded-mode state (Temporal SQLite file,
            server log, blobs, admin token).
        temporal_address: ``host:port`` of an existing Temporal frontend, or
            ``None`` to run the embedded dev server
            (:class:`switchyard.engine.devserver.DevServer`).
        temporal_namespace: Temporal namespace that runs live in.
        task_queue: Task queue the engine worker polls.
        blob_threshold: Step outputs larger than this many bytes are stored in
            the blob store and referenced by key.
        blob_dir: Directory of the file-system blob store.
    """

    data_dir: Path = Path(".switchyard")
    temporal_address: str | None = None
    temporal_namespace: str = "default"
    task_queue: str = "switchyard"
    blob_threshold: int = DEFAULT_BLOB_THRESHOLD
    blob_dir: Path = field(default=None)  # type: ignore[assignment]  # set in __post_init__

    def __post_init__(self) -> None:
        if self.blob_dir is None:
            # The blob directory follows the data directory unless set on its own.
            object.__setattr__(self, "blob_dir", self.data_dir / "blobs")
        if self.blob_threshold < 0:
            raise SettingsError(f"blob threshold must be >= 0, got {self.blob_threshold}")

    @property
    def embedded(self) -> bool:
        """True when Switchyard starts its own Temporal dev server."""
        return self.temporal_address is None

    @property
    def temporal_db_file(self) -> Path:
        """SQLite file of the embedded Temporal dev server."""
        return self.data_dir / "temporal.sqlite"

    @property
    def temporal_log_file(self) -> Path:
        """Log file of the embedded Temporal dev server."""
        return self.data_dir / "temporal.log"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from environment variables (see the module docstring).

        Args:
            environ: The mapping to read; ``os.environ`` when omitted.

        Returns:
            The settings, with defaults for every unset or empty variable.

        Raises:
            SettingsError: A variable is set to an unusable value.
        """
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        data_dir = Path(get("SWITCHYARD_DATA_DIR") or ".switchyard")
        blob_dir = get("SWITCHYARD_BLOB_DIR")
        threshold_raw = get("SWITCHYARD_BLOB_THRESHOLD")
        try:
            threshold = DEFAULT_BLOB_THRESHOLD if threshold_raw is None else int(threshold_raw)
        except ValueError:
            raise SettingsError(
                f"SWITCHYARD_BLOB_THRESHOLD must be a number of bytes, got {threshold_raw!r}"
            ) from None
        return cls(
            data_dir=data_dir,
            temporal_address=get("TEMPORAL_ADDRESS"),
            temporal_namespace=get("TEMPORAL_NAMESPACE") or "default",
            task_queue=get("SWITCHYARD_TASK_QUEUE") or "switchyard",
            blob_threshold=threshold,
            blob_dir=Path(blob_dir) if blob_dir else data_dir / "blobs",
        )


def get_settings() -> Settings:
    """Settings from the current environment.

    Not cached: each call re-reads ``os.environ``, so tests can change it
    with ``monkeypatch.setenv``. Read it once per process entry point and pass
    the result down.
    """
    return Settings.from_env()
