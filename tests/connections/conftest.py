"""Fixtures of the connection-store tests: a data directory, a store on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchyard.connections.crypto import ENV_MASTER_KEY, ENV_PREVIOUS_MASTER_KEYS
from switchyard.connections.store import LocalConnectionStore


@pytest.fixture(autouse=True)
def _no_env_master_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's SWITCHYARD_MASTER_KEY must not change what these tests see.
    monkeypatch.delenv(ENV_MASTER_KEY, raising=False)
    monkeypatch.delenv(ENV_PREVIOUS_MASTER_KEYS, raising=False)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path) -> LocalConnectionStore:
    return LocalConnectionStore(data_dir)
