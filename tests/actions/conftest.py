"""Shared fixtures: run the real action activity in an ActivityEnvironment."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from switchyard.actions.http import _auth
from switchyard.connections import Connection, StaticConnections
from switchyard.engine.activities import ActionActivities, ActionCall, ActionResult
from switchyard.engine.blobs import BlobStore

RunAction = Callable[..., Awaitable[ActionResult]]


@pytest.fixture(autouse=True)
def _fresh_token_cache() -> None:
    from switchyard.actions.azure import _impl as azure

    _auth.clear_token_cache()
    azure.clear_token_cache()


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs", threshold=128 * 1024)


@pytest.fixture
def run_action(blobs: BlobStore) -> RunAction:
    """`await run_action(action, params, connection=..., connections=[...], attempt=1, timeout=10)`.

    Runs `ActionActivities.run_action` for real; raises the ApplicationError it raises.
    Heartbeats are collected in `run_action.heartbeats`.
    """
    heartbeats: list[tuple[Any, ...]] = []

    async def run(
        action: str,
        params: dict[str, Any],
        *,
        connection: str | None = None,
        connections: Iterable[Connection] = (),
        attempt: int = 1,
        timeout: float = 10.0,
        store: BlobStore | None = None,
    ) -> ActionResult:
        env = ActivityEnvironment()
        env.info = dataclasses.replace(
            env.info, attempt=attempt, start_to_close_timeout=timedelta(seconds=timeout)
        )
        env.on_heartbeat = lambda *d: heartbeats.append(d)
        acts = ActionActivities(StaticConnections(list(connections)), store or blobs)
        call = ActionCall(
            action=action,
            params=params,
            connection=connection,
            run_id="r1",
            workflow="wf",
            step="s",
        )
        return await env.run(acts.run_action, call)

    run.heartbeats = heartbeats  # type: ignore[attr-defined]
    return run


def error_detail(exc: ApplicationError) -> dict[str, Any]:
    """The `{type, message, details, attempt}` detail of a failed action."""
    assert exc.details, exc
    detail = exc.details[0]
    assert isinstance(detail, dict)
    return detail
