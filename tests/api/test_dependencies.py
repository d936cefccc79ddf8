"""Every dependency of every route is a coroutine: FastAPI runs a plain `def`
dependency on its thread pool, a thread hand-off on every request."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute


def _sync_calls(dependant: Any, seen: set[int]) -> list[str]:
    out = []
    for dep in dependant.dependencies:
        call = dep.call
        if call is not None and id(call) not in seen:
            seen.add(id(call))
            target = call if inspect.isfunction(call) else type(call).__call__
            if not (inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)):
                out.append(getattr(call, "__qualname__", repr(call)))
        out += _sync_calls(dep, seen)
    return out


def _routes(routes: list[Any]) -> list[APIRoute]:
    out = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.append(route)
        elif hasattr(route, "original_router"):  # an included router
            out += _routes(route.original_router.routes)
    return out


async def test_no_route_depends_on_a_plain_function(app: FastAPI) -> None:
    routes = _routes(app.routes)
    assert len(routes) > 40
    seen: set[int] = set()
    sync = [name for route in routes for name in _sync_calls(route.dependant, seen)]
    assert sync == []
