"""The FastAPI application: `create_app(...)` wires storage, Temporal and the routers."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, FastAPI

from switchyard.api.errors import install_error_handlers
from switchyard.api.inputs import reject_nul
from switchyard.config import Settings
from switchyard.control.db import Database

__all__ = ["ROUTERS", "AppState", "create_app"]

#: Router modules (each has `router`), included in this order.
ROUTERS: tuple[str, ...] = (
    "switchyard.api.routers.health",
    "switchyard.api.routers.workflows",
    "switchyard.api.routers.runs",
    "switchyard.api.routers.actions",
    "switchyard.api.routers.connections",
    "switchyard.api.routers.events",
    "switchyard.api.routers.hooks",
    "switchyard.api.routers.schedules",
    "switchyard.api.routers.users",
    "switchyard.api.routers.audit",
    "switchyard.api.routers.runners",
)


@dataclass
class AppState:
    """What request handlers reach through `request.app.state.switchyard`."""

    settings: Settings
    db: Database
    #: A connected `temporalio.client.Client`, or None when Temporal is not
    #: configured (the API then answers run endpoints with 503).
    temporal: Any = None
    #: Background services started with the app (run recorder, ...).
    extras: dict[str, Any] = field(default_factory=dict)


def create_app(
    settings: Settings,
    db: Database,
    *,
    temporal: Any = None,
    migrate: bool = True,
) -> FastAPI:
    """The API application over `db` (migrated on start-up when `migrate`)."""
    state = AppState(settings=settings, db=db, temporal=temporal)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate:
            await db.migrate()
        for hook in _STARTUP:
            await hook(state)
        try:
            yield
        finally:
            for hook in reversed(_SHUTDOWN):
                await hook(state)

    app = FastAPI(
        title="Switchyard",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.switchyard = state
    install_error_handlers(app)
    for name in ROUTERS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a router not written yet
            if exc.name != name:
                raise
            continue
        # Text the database cannot store (NUL) is a 400 on every route, not a 500.
        app.include_router(module.router, dependencies=[Depends(reject_nul)])
    return app


_STARTUP: list[Any] = []
_SHUTDOWN: list[Any] = []


def on_startup(hook: Any) -> Any:
    """Register `async hook(state)` to run when the app starts (after migrations)."""
    _STARTUP.append(hook)
    return hook


def on_shutdown(hook: Any) -> Any:
    """Register `async hook(state)` to run when the app stops."""
    _SHUTDOWN.append(hook)
    return hook
