"""Schedules follow the published version (the workflows router calls these).

Publishing (or rolling back) syncs the workflow's Temporal Schedules inside
the request's transaction: when Temporal cannot be reached the publish
fails with 503 and nothing changes, so the database and the schedules never
disagree. Deleting a workflow removes its schedules. At start-up the API
reconciles every workflow (a publish made while Temporal was not
configured, schedules left by a workflow deleted meanwhile).
"""

from __future__ import annotations

import logging
from typing import Any

from switchyard.api.app import AppState, on_startup
from switchyard.api.errors import ApiError
from switchyard.definition.model import Workflow
from switchyard.triggers import schedules

__all__ = ["reconcile", "schedules_published", "schedules_removed"]

log = logging.getLogger("switchyard.triggers")


def _unavailable(exc: Exception) -> ApiError:
    return ApiError(
        503,
        f"Temporal could not update the workflow's schedules ({type(exc).__name__}: {exc}); "
        "nothing was changed, try again",
        type="Unavailable",
    )


async def schedules_published(
    state: AppState, definition: dict[str, Any], version: int
) -> list[str]:
    """Sync the schedules of a just-published version; 503 when Temporal fails."""
    if state.temporal is None:
        return []
    wf = Workflow.model_validate(definition)
    try:
        return await schedules.sync_schedules(
            state.temporal, wf, version, task_queue=state.settings.task_queue
        )
    except schedules.ScheduleInputsError as exc:
        raise ApiError(422, str(exc)) from None
    except Exception as exc:
        raise _unavailable(exc) from None


async def schedules_removed(state: AppState, name: str) -> list[str]:
    """Remove a deleted workflow's schedules; 503 when Temporal fails."""
    if state.temporal is None:
        return []
    try:
        return await schedules.remove_schedules(state.temporal, name)
    except Exception as exc:
        raise _unavailable(exc) from None


@on_startup
async def reconcile(state: AppState) -> None:
    """Make every workflow's schedules match its published version (best effort)."""
    if state.temporal is None:
        return
    from switchyard.control.workflows import published_definitions

    try:
        async with state.db.session() as session:
            published = {v.workflow: v for v in await published_definitions(session)}
        for version in published.values():
            wf = Workflow.model_validate(version.definition)
            await schedules.sync_schedules(
                state.temporal, wf, version.number, task_queue=state.settings.task_queue
            )
        for sid in await schedules.list_schedules(state.temporal):
            name = sid.split(":")[1]
            if name not in published:
                await schedules.remove_schedules(state.temporal, name)
    except Exception:  # Temporal down at start-up: the next publish syncs
        log.exception("could not reconcile schedules at start-up")
