"""Input hygiene shared by the routers: text the database cannot store is a 400, not a 500.

PostgreSQL refuses the NUL character in text (SQLite takes it), so a `%00`
in a path or query parameter, compared with a text column, would fail deep
in the driver. `reject_nul` (a router dependency) turns it into a clear 400
before any handler runs; `check_text` does the same for body fields that are
looked up or stored as text.
"""

from __future__ import annotations

from fastapi import Request

from switchyard.api.errors import ApiError

__all__ = ["check_text", "reject_nul"]


async def reject_nul(request: Request) -> None:
    """400 when the path or a query parameter holds a NUL character."""
    if "\x00" in request.url.path or "\x00" in request.scope.get("path", ""):
        raise ApiError(400, "the path contains a NUL character")
    for key, value in request.query_params.multi_items():
        if "\x00" in key or "\x00" in value:
            raise ApiError(
                400,
                f"query parameter {key!r} contains a NUL character",
                problems=[{"location": f"query.{key}", "message": "contains a NUL character"}],
            )


def check_text(value: str | None, location: str) -> None:
    """422 when a body field holds a NUL character (stored or compared as text)."""
    if value is not None and "\x00" in value:
        raise ApiError(
            422,
            f"{location}: contains a NUL character",
            problems=[{"location": location, "message": "contains a NUL character"}],
        )
