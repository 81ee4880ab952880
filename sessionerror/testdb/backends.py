"""The registry of database kinds: backend name -> the class that provides its databases.

Adding a backend is one folder under ``testdb/`` holding a
:class:`~sessionerror.testdb.backend.DatabaseBackend` subclass (and all of its SQL), one entry
here, and its name in :data:`sessionerror.testdb.settings.BACKENDS`.
"""

from __future__ import annotations

from collections.abc import Mapping

from sessionerror.testdb.backend import Availability, DatabaseBackend
from sessionerror.testdb.postgres.backend import PostgresBackend
from sessionerror.testdb.schema import Schema
from sessionerror.testdb.sqlite.backend import SqliteBackend

__all__ = ["BACKEND_TYPES", "create_backend"]

#: Every database kind the kit provides, by name.
BACKEND_TYPES: Mapping[str, type[DatabaseBackend]] = {
    SqliteBackend.name: SqliteBackend,
    PostgresBackend.name: PostgresBackend,
}


def create_backend(
    name: str,
    schema: Schema,
    availability: Availability | None = None,
    *,
    warnings: list[str] | None = None,
) -> DatabaseBackend:
    """A new backend object of kind ``name`` (KeyError names the known kinds)."""
    try:
        kind = BACKEND_TYPES[name]
    except KeyError:
        raise KeyError(f"unknown backend {name!r}: one of {', '.join(BACKEND_TYPES)}") from None
    return kind(schema, availability, warnings=warnings)
