"""Keyset pagination of lists: `?limit=` (default 50, max 500) and an opaque `?cursor=`.

A cursor is the sort key of the last item of a page, as base64url JSON: the
next page starts strictly after it, so pages stay stable while items are
added. Answers are `{"items": [...], "next_cursor": "..." | null}`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query

from switchyard.api.errors import ApiError
from switchyard.control.timestamps import parse_time

__all__ = ["Cursor", "Limit", "decode_cursor", "encode_cursor", "page", "query_time"]

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"page size (1-{MAX_LIMIT})")]
Cursor = Annotated[
    str | None,
    Query(max_length=1024, description="`next_cursor` of the previous page"),
]


def encode_cursor(key: list[Any]) -> str:
    """The cursor of a sort key (a list of JSON values)."""
    raw = json.dumps(key, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str | None, types: tuple[type, ...]) -> list[Any] | None:
    """The sort key in a cursor, checked against the expected types; 400 when malformed."""
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError):
        key = None
    if (
        not isinstance(key, list)
        or len(key) != len(types)
        or not all(_fits(v, t) for v, t in zip(key, types, strict=True))
    ):
        raise ApiError(400, "invalid cursor: pass the next_cursor of a previous page")
    return key


def _fits(value: Any, kind: type) -> bool:
    """A cursor value the database can compare: right type, a 64-bit int, text without NUL."""
    if kind is int:
        return type(value) is int and -(2**63) <= value < 2**63
    if kind is str:
        return isinstance(value, str) and "\x00" not in value
    return isinstance(value, kind)


def page(
    rows: list[Any],
    limit: int,
    key: Callable[[Any], list[Any]],
    render: Callable[[Any], Any] = lambda row: row,
) -> dict[str, Any]:
    """`{items, next_cursor}` from up to `limit + 1` fetched rows.

    Args:
        rows: The page's rows, one more than `limit` when there is a next page.
        key: A row's sort key (a list of JSON values): what the cursor holds.
        render: A row as the answer shows it.
    """
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [render(row) for row in rows],
        "next_cursor": encode_cursor(key(rows[-1])) if more and rows else None,
    }


def query_time(value: str | None, name: str) -> datetime | None:
    """A query parameter (or cursor part) `name` as an RFC 3339 time; a located 422 if not."""
    if value is None:
        return None
    try:
        return parse_time(value)
    except (ValueError, OverflowError):
        raise ApiError(
            422,
            f"{name}: not an RFC 3339 time: {value!r}",
            problems=[{"location": name, "message": f"not an RFC 3339 time: {value!r}"}],
        ) from None
