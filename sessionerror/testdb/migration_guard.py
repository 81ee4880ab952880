"""Keep a team's migrations on the kit's database, whatever their ``env.py`` does.

The kit hands its connection to ``env.py`` through ``config.attributes["connection"]``. An
``env.py`` that ignores it (the stock ``alembic init`` templates, or one that builds its engine
from ``DATABASE_URL`` or the app's settings) would migrate, and the round trip would downgrade,
the database *it* names: the team's own. While the kit runs migrations, :func:`kit_database_only`
therefore refuses every SQLAlchemy connection to another database *before* the driver connects
(``do_connect``, on every engine, the sync engine behind an ``AsyncEngine`` included) and every
statement sent on a connection to another database (``before_cursor_execute``, for connections
an engine had already pooled).

:func:`require_kit_database` is the second lock: nothing is upgraded or downgraded unless the
database says the kit created it (PostgreSQL: the janitor's or the kept-database comment;
SQLite: the kit's ``application_id`` in the file header, or an in-memory database).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sessionerror.errors import SessionErrorKitError

# MigrationError lives here, below the runner that re-exports it, so the guard's refusal is one.

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Dialect

__all__ = [
    "SQLITE_APPLICATION_ID",
    "ForeignDatabaseError",
    "MigrationError",
    "env_py_lines_to_add",
    "is_kit_database",
    "kit_database_only",
    "mark_sqlite_file",
    "require_kit_database",
]

#: ``PRAGMA application_id`` of every SQLite file the kit creates ("SeEr").
SQLITE_APPLICATION_ID = 0x53654572
_LOCAL_HOSTS = frozenset({"", "localhost", "127.0.0.1", "::1"})
_MEMORY = ":memory:"
_DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306, "mssql": 1433}


class MigrationError(SessionErrorKitError):
    """The migrations could not be loaded or run; the message is one line naming the fix."""


class ForeignDatabaseError(MigrationError):
    """A team's migrations reached for a database the kit did not create; nothing ran there."""


def env_py_lines_to_add() -> str:
    """The lines that make an ``env.py`` use the connection the kit hands it, on one line."""
    return (
        'connection = config.attributes.get("connection"); if connection is not None: '
        "context.configure(connection=connection, target_metadata=target_metadata); "
        "with context.begin_transaction(): context.run_migrations(); return "
        "(at the top of run_migrations_online(); the README's 'Using your own migrations' "
        "shows them as a block)"
    )


@dataclass(frozen=True)
class _Identity:
    """Which database a URL or a driver's connect arguments point at (never the password)."""

    backend: str
    host: str
    port: int | None
    database: str

    def describe(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite database {self.database}"
        where = f"{self.host or 'localhost'}:{self.port}" if self.port else self.host or "local"
        return f"{self.backend} database {self.database!r} on {where}"


def _sqlite_path(name: str | None) -> str:
    if not name or name == _MEMORY or name.startswith("file::memory:"):
        return _MEMORY
    name = name.removeprefix("file:").split("?", 1)[0]
    return str(Path(name).expanduser().resolve())


def _normalised(backend: str, host: Any, port: Any, database: Any) -> _Identity:
    if backend == "sqlite":
        return _Identity("sqlite", "", None, _sqlite_path(database))
    text_host = str(host or "").strip("[]").lower()
    if text_host in _LOCAL_HOSTS or text_host.startswith("/"):
        text_host = "local"  # loopback names and the Unix socket reach the same server
    number = int(port) if port not in (None, "") else _DEFAULT_PORTS.get(backend)
    return _Identity(backend, text_host, number, str(database or ""))


def _identity_of_url(url: URL) -> _Identity:
    return _normalised(url.get_backend_name(), url.host, url.port, url.database)


def _identity_of_connect_args(
    dialect: Dialect, cargs: list[Any] | tuple[Any, ...], cparams: dict[str, Any]
) -> _Identity:
    if dialect.name == "sqlite":
        return _normalised("sqlite", None, None, cargs[0] if cargs else cparams.get("database"))
    database = cparams.get("dbname", cparams.get("database", cparams.get("db")))
    return _normalised(dialect.name, cparams.get("host"), cparams.get("port"), database)


def _refusal(env_py: str, seen: _Identity, kit: _Identity) -> ForeignDatabaseError:
    return ForeignDatabaseError(
        f"{env_py} opened its own connection to the {seen.describe()} instead of the kit's "
        f"{kit.describe()}; nothing ran there and the run stops. Make env.py use the connection "
        f"the kit hands it: {env_py_lines_to_add()}"
    )


@contextmanager
def kit_database_only(connection: Connection, env_py: str | Path) -> Iterator[None]:
    """Refuse, while the block runs, any SQLAlchemy connection or statement to a database other
    than the one behind ``connection`` (raising :class:`ForeignDatabaseError`)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    kit = _identity_of_url(connection.engine.url)
    where = str(env_py)

    def before_connect(
        dialect: Dialect, _record: Any, cargs: list[Any], cparams: dict[str, Any]
    ) -> None:
        seen = _identity_of_connect_args(dialect, cargs, cparams)
        if seen != kit:
            raise _refusal(where, seen, kit)

    def before_statement(conn: Connection, *_args: Any) -> None:
        if conn is connection:
            return
        seen = _identity_of_url(conn.engine.url)
        if seen != kit:
            raise _refusal(where, seen, kit)

    event.listen(Engine, "do_connect", before_connect)
    event.listen(Engine, "before_cursor_execute", before_statement)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", before_statement)
        event.remove(Engine, "do_connect", before_connect)


def mark_sqlite_file(path: str | Path) -> None:
    """Write the kit's ``application_id`` into a SQLite file (created empty if missing)."""
    import sqlite3

    handle = sqlite3.connect(str(path))
    try:
        handle.execute(f"PRAGMA application_id = {SQLITE_APPLICATION_ID}")
        handle.commit()
    finally:
        handle.close()


def is_kit_database(connection: Connection) -> bool:
    """Whether the database behind ``connection`` says it was created by the kit."""
    from sqlalchemy import text

    dialect = connection.dialect.name
    if dialect == "sqlite":
        if _identity_of_url(connection.engine.url).database == _MEMORY:
            return True
        found = connection.exec_driver_sql("PRAGMA application_id").scalar()
        return found == SQLITE_APPLICATION_ID
    if dialect == "postgresql":
        from sessionerror.testdb.postgres.janitor import parse_marker
        from sessionerror.testdb.postgres.kept import is_kept_comment

        comment = connection.execute(
            text(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                "WHERE datname = current_database()"
            )
        ).scalar()
        return is_kept_comment(comment) or parse_marker(comment) is not None
    return False


def require_kit_database(connection: Connection, action: str) -> None:
    """Raise :class:`ForeignDatabaseError` unless the kit created the database behind
    ``connection``; ``action`` names what was refused (e.g. ``"downgrade to base"``)."""
    if not is_kit_database(connection):
        seen = _identity_of_url(connection.engine.url)
        raise ForeignDatabaseError(
            f"refusing to {action} the {seen.describe()}: the kit did not create it (no "
            "sessionerror marker) and only ever migrates its own throwaway databases; pass "
            "the engine of sessionerror_engine or of sessionerror_empty_database_url"
        )
