"""Dropping the kit's kept databases on request (``pytest --sessionerror-drop-kept``).

Only databases named ``sessionerror_keep_…`` that carry the kit's ``kept by sessionerror`` comment
and belong to a role the connecting user has are considered; one a run holds (its advisory lock)
or anyone is connected to is left alone and named, never dropped with FORCE. A team's database
never matches both the name and the comment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sessionerror.testdb.postgres.kept import (
    KEEP_MARKER,
    KEEP_PREFIX,
    kept_lock_key,
    kept_owner_tag,
)
from sessionerror.urls import DatabaseURL

__all__ = ["DroppedKept", "drop_kept_databases"]


@dataclass
class DroppedKept:
    """What :func:`drop_kept_databases` did: the names it dropped and the ones it left."""

    dropped: list[str] = field(default_factory=list)
    #: Kept databases left alone, with why (held by a run, in use).
    left: list[str] = field(default_factory=list)


def drop_kept_databases(
    server_url: str | DatabaseURL, *, project: str | None = None
) -> DroppedKept:
    """Drop the kit's kept databases on ``server_url`` (of ``project`` only, when given)."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    result = DroppedKept()
    engine = create_engine(
        DatabaseURL(server_url).require_postgres().reveal(),
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
    )
    try:
        with engine.connect() as connection:
            prefix = KEEP_PREFIX
            if project is not None:
                user = connection.exec_driver_sql("SELECT current_user").scalar_one()
                prefix = f"{KEEP_PREFIX}{kept_owner_tag(user, project)}_"
            names = connection.exec_driver_sql(
                "SELECT d.datname FROM pg_database d WHERE starts_with(d.datname, %s) "
                "AND starts_with(shobj_description(d.oid, 'pg_database'), %s) "
                "AND pg_has_role(d.datdba, 'USAGE') ORDER BY d.datname",
                (prefix, KEEP_MARKER),
            ).scalars()
            for name in list(names):
                key = kept_lock_key(name)
                free = connection.exec_driver_sql(
                    "SELECT pg_try_advisory_lock(%s)", (key,)
                ).scalar()
                if not free:
                    result.left.append(f"{name} (held by a running test run)")
                    continue
                try:
                    quoted = connection.dialect.identifier_preparer.quote(name)
                    connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted}")
                    result.dropped.append(name)
                except DBAPIError:
                    result.left.append(f"{name} (in use)")
                finally:
                    connection.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (key,))
    finally:
        engine.dispose()
    return result
