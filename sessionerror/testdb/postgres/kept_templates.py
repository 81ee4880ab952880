"""The SQL of kept PostgreSQL templates: names, the build lock, rename, mark, stale drops.

A kept template is ``sessionerror_keep_<owner>_tpl_<fingerprint>`` (``owner`` as for every kept
database: a hash of the role and the project, see :mod:`sessionerror.testdb.postgres.kept`) with
the kit's ``kept by sessionerror`` comment. It is built under a throwaway name and renamed only
when complete, so a killed build never leaves a kept template behind; kept templates of the same
owner and another fingerprint are dropped when nobody uses them (never with FORCE).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sessionerror.testdb.postgres.kept import (
    KEEP_MARKER,
    KEEP_PREFIX,
    kept_lock_key,
    kept_owner_tag,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection

__all__ = [
    "KEPT_TEMPLATE_WORKER",
    "drop_stale_kept",
    "hold_shared",
    "kept_exists",
    "kept_template_prefix",
    "lock_build",
    "mark_kept",
    "unlock_build",
]

#: The worker part of kept template names: ``sessionerror_keep_<owner>_tpl_<fingerprint>``.
KEPT_TEMPLATE_WORKER = "tpl"


def kept_template_prefix(connection: Connection, project: str) -> str:
    """``sessionerror_keep_<owner>_tpl_``: the kept templates of this role and project."""
    user = connection.exec_driver_sql("SELECT current_user").scalar_one()
    return f"{KEEP_PREFIX}{kept_owner_tag(user, project)}_{KEPT_TEMPLATE_WORKER}_"


def lock_build(connection: Connection, name: str) -> None:
    """Wait for any other run building kept template ``name`` (session advisory lock)."""
    connection.exec_driver_sql("SELECT pg_advisory_lock(hashtext(%s))", (name,))


def unlock_build(connection: Connection, name: str) -> None:
    """Release :func:`lock_build`."""
    connection.exec_driver_sql("SELECT pg_advisory_unlock(hashtext(%s))", (name,))


def hold_shared(connection: Connection, name: str) -> None:
    """Hold kept template ``name`` for as long as ``connection`` lives: a shared advisory lock
    (its key as for kept databases). Held templates are never dropped as stale."""
    connection.exec_driver_sql("SELECT pg_advisory_lock_shared(%s)", (kept_lock_key(name),))


def kept_exists(connection: Connection, name: str) -> bool:
    """True if database ``name`` exists and carries the kit's kept comment."""
    comment = connection.exec_driver_sql(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        (name,),
    ).scalar()
    return comment == KEEP_MARKER


def mark_kept(connection: Connection, built: str, name: str) -> None:
    """Rename the complete build ``built`` to kept template ``name`` and mark it as kept."""
    quoted = connection.dialect.identifier_preparer.quote(name)
    source = connection.dialect.identifier_preparer.quote(built)
    connection.exec_driver_sql(f"ALTER DATABASE {source} RENAME TO {quoted}")
    connection.exec_driver_sql(
        f"COMMENT ON DATABASE {quoted} IS '{KEEP_MARKER}'"  # a constant, no quotes
    )


def drop_stale_kept(connection: Connection, *, prefix: str, keep: str) -> None:
    """Drop this owner's kept templates of other fingerprints that nobody uses.

    Only those carrying the kit's comment; never with FORCE. A template a run holds (see
    :func:`hold_shared`) or anyone is connected to is left alone, as
    :mod:`sessionerror.testdb.postgres.kept` does for kept databases.
    """
    from sqlalchemy.exc import DBAPIError

    rows = connection.exec_driver_sql(
        "SELECT d.datname FROM pg_database d WHERE starts_with(d.datname, %s) "
        "AND shobj_description(d.oid, 'pg_database') = %s "
        "AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)",
        (prefix, KEEP_MARKER),
    ).scalars()
    for name in list(rows):
        if name == keep:
            continue
        key = kept_lock_key(name)
        free = connection.exec_driver_sql("SELECT pg_try_advisory_lock(%s)", (key,)).scalar()
        if not free:
            continue  # a run holds it: a later run drops it
        try:
            quoted = connection.dialect.identifier_preparer.quote(name)
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted}")
        except DBAPIError:
            pass  # in use meanwhile: a later run drops it
        finally:
            connection.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (key,))
