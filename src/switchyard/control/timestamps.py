"""Timestamps of the control plane: always timezone-aware UTC, on SQLite too.

SQLite has no time-zone-aware type: SQLAlchemy stores the wall-clock digits
and hands back naive datetimes. `UtcDateTime` stores UTC and reads back
aware UTC values on every backend, so comparisons and JSON are the same on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

__all__ = ["UtcDateTime", "iso", "now", "parse_time"]


class UtcDateTime(TypeDecorator[datetime]):
    """`DateTime(timezone=True)` that refuses naive values and reads back aware UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give a time zone (UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def now() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    """RFC 3339 text in UTC (`2025-01-31T12:00:00.123456Z`), None for None."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """An RFC 3339 / ISO 8601 time as aware UTC (a time without zone is read as UTC).

    Raises:
        ValueError: `text` is not a date or date-time.
    """
    value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
