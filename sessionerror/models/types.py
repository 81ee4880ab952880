"""Portable column types: native UUID/JSONB on PostgreSQL, equivalents on SQLite, UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, TypeDecorator, Uuid
from sqlalchemy.dialects.postgresql import JSONB

__all__ = ["GUID", "JSONDocument", "UTCDateTime", "utcnow"]

#: UUID stored natively on PostgreSQL and as CHAR(32) on SQLite; always ``uuid.UUID`` in Python.
GUID = Uuid(as_uuid=True)

#: JSON document: JSONB on PostgreSQL, JSON (text) elsewhere; always a ``dict`` in Python.
JSONDocument = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetime on every backend.

    PostgreSQL stores ``timestamptz``; SQLite has no offset, so values are stored as naive UTC
    and read back with ``tzinfo=UTC``. Naive input is refused: its meaning is ambiguous.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC (naive UTC on backends without offsets)."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} given; pass a timezone-aware value, "
                "e.g. datetime.now(UTC)"
            )
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime whatever the backend gave back."""
        if value is None:
            return None
        if isinstance(value, str):  # raw SQL CURRENT_TIMESTAMP text on SQLite
            value = datetime.fromisoformat(value)
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
