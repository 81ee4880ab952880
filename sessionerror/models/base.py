"""Declarative base of the schema: naming convention, timestamp columns, planner statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import MetaData, Table, func
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sessionerror.models.contract import INDEXES
from sessionerror.models.types import UTCDateTime, utcnow

__all__ = [
    "NAMING_CONVENTION",
    "Base",
    "created_at_column",
    "seed_sqlite_planner_statistics",
    "table_of",
    "updated_at_column",
]

#: Stable constraint names on every backend (``ck_session_errors_user_message_not_blank`` ...).
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of the reference schema, with a constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def created_at_column(**options: Any) -> Mapped[datetime]:
    """A ``created_at`` column: timezone-aware UTC, set by Python and by the server default."""
    return mapped_column(UTCDateTime, default=utcnow, server_default=func.now(), **options)


def updated_at_column(**options: Any) -> Mapped[datetime]:
    """An ``updated_at`` column: like ``created_at``, and refreshed on every ORM update."""
    return mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, server_default=func.now(), **options
    )


def seed_sqlite_planner_statistics(table: Table, connection: Connection, **_: Any) -> None:
    """On SQLite, tell the query planner that ``session_id`` is the selective index.

    Without statistics SQLite breaks the tie between the three single-column indexes by
    creation order, which ``create_all`` does not fix: half the time it answered
    ``has_blocking_errors`` through the ``severity`` index, reading a third of the table.
    Seeded ``sqlite_stat1`` rows (overwritten by any later ``ANALYZE``) make the choice stable.
    """
    if connection.dialect.name != "sqlite":
        return
    name = table.name
    stats = {index.name_for(name): index.sqlite_stat for index in INDEXES}
    connection.exec_driver_sql(f'ANALYZE "{name}"')  # creates sqlite_stat1 if missing
    connection.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE tbl = ?", (name,))
    connection.exec_driver_sql(
        "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)",
        [(name, index, stat) for index, stat in stats.items()],
    )
    connection.exec_driver_sql("ANALYZE sqlite_schema")  # reload the statistics


def table_of(model: type[Any]) -> Table:
    """The Core ``Table`` a declarative model is mapped to (for ``insert``/``delete`` in bulk)."""
    table = model.__table__
    if not isinstance(table, Table):  # pragma: no cover - every model here maps a plain Table
        raise TypeError(f"{model.__name__} is not mapped to a Table")
    return table
