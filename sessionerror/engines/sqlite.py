"""SQLite engines that honour the contract: foreign keys on, and SAVEPOINTs that really isolate.

The bottom layer: connect, check, scenarios and testdb all build their SQLite engines here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

__all__ = [
    "MEMORY",
    "create_sqlite_engine",
    "enable_foreign_keys",
    "install_sqlite_listeners",
    "sqlite_url",
]

#: Path value that selects an in-memory database (one shared connection).
MEMORY = ":memory:"


def sqlite_url(path: str | Path) -> URL:
    """Return the SQLAlchemy URL of the SQLite database at ``path`` (or ``:memory:``)."""
    if str(path) == MEMORY:
        return make_url("sqlite://")
    return make_url(f"sqlite:///{Path(path)}")


def create_sqlite_engine(
    target: str | Path | URL, *, throwaway: bool = False, **engine_kwargs: Any
) -> Engine:
    """Create a SQLite engine with ``PRAGMA foreign_keys=ON`` on every connection.

    ``target`` is a ``sqlite://`` URL, a file path or ``":memory:"``. The engine also takes
    transaction control away from Python's sqlite3 module (which sends no BEGIN and so lets the
    first RELEASE SAVEPOINT commit): SQLAlchemy emits BEGIN itself, so nested transactions and
    the rollback isolation of the pytest fixtures behave as on PostgreSQL.

    ``throwaway=True`` (test databases deleted after the run) keeps the rollback journal in
    memory and skips fsync: durability is worth nothing there, and the journal file's
    create/delete per transaction was most of the per-test cost.
    """
    if isinstance(target, URL):
        url = target
    elif isinstance(target, str) and target.startswith("sqlite"):
        url = make_url(target)
    else:
        url = sqlite_url(target)
    if url.get_backend_name() != "sqlite":
        raise ValueError(
            f"create_sqlite_engine() needs a SQLite URL or path, got a {url.get_backend_name()} "
            "URL; use sqlalchemy.create_engine() for other databases"
        )
    if url.database in (None, "", MEMORY):
        engine_kwargs.setdefault("poolclass", StaticPool)
        engine_kwargs.setdefault("connect_args", {"check_same_thread": False})
    engine = create_engine(url, **engine_kwargs)
    install_sqlite_listeners(engine)
    if throwaway:
        event.listen(engine, "connect", _throwaway_pragmas)
    return engine


def _throwaway_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=MEMORY")
        cursor.execute("PRAGMA synchronous=OFF")
    finally:
        cursor.close()


def enable_foreign_keys(engine: Engine) -> None:
    """Turn on ``PRAGMA foreign_keys`` for every new connection of the SQLite ``engine``.

    Only this: no change to transaction handling (see :func:`install_sqlite_listeners`).
    """
    event.listen(engine, "connect", _foreign_keys_on)


def _foreign_keys_on(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def install_sqlite_listeners(engine: Engine) -> None:
    """Attach the foreign-key PRAGMA and the explicit-BEGIN fix to one SQLite ``engine``."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level: the "begin" listener below emits BEGIN itself.
        dbapi_connection.isolation_level = None
        _foreign_keys_on(dbapi_connection, _record)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA busy_timeout=5000")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Straight to the driver: BEGIN needs none of SQLAlchemy's execution machinery.
        connection.connection.dbapi_connection.execute("BEGIN")
