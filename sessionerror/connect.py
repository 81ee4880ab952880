"""Open a user's database from a URL, an Engine or a Connection, with one-line errors.

Shared by the checker, the export, the summary and the scenarios. A URL is read once into a
:class:`~sessionerror.urls.DatabaseURL` (driver choice, sync form, masked text); every failure
here is a :class:`~sessionerror.errors.DatabaseUnavailableError` whose message names the
problem and the fix, passwords masked.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sessionerror.engines.kinds import async_kind
from sessionerror.errors import DatabaseUnavailableError, first_line
from sessionerror.redaction import hide_url_secrets
from sessionerror.urls import DatabaseURL, driver_package

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine

__all__ = [
    "CONNECT_TIMEOUT",
    "URL_EXAMPLE",
    "connect_url",
    "connection_for",
    "normalise_url",
    "sync_bind_for",
]


def normalise_url(url: str | DatabaseURL) -> tuple[str, dict[str, Any]]:
    """Return ``(url, engine_kwargs)``: a psycopg2 URL for bare ``postgres(ql)://`` URLs and
    the sync driver for an async one (``postgresql+asyncpg://`` -> psycopg2).

    ``?isolation_level=...`` is taken out of the query and passed to ``create_engine``. The
    returned URL holds the password: pass it to ``create_engine`` only.
    """
    parsed, kwargs = _engine_args(DatabaseURL(url))
    return parsed.render_as_string(hide_password=False), kwargs


def _engine_args(url: DatabaseURL) -> tuple[URL, dict[str, Any]]:
    """:func:`normalise_url` as SQLAlchemy's ``URL`` (``create_engine`` takes it as is)."""
    parsed = url.to_sync().parse()  # an async driver: its sync one
    kwargs: dict[str, Any] = {}
    level = parsed.query.get("isolation_level")
    if isinstance(level, str):
        kwargs["isolation_level"] = level.upper()
        parsed = parsed.difference_update_query(["isolation_level"])
    return parsed, kwargs


#: What a valid URL looks like, for the "Fix:" part of the messages.
URL_EXAMPLE = "postgresql://user@host:5432/dbname or sqlite:///path/to/file.db"
#: Seconds libpq waits for a server that does not answer, unless the URL sets connect_timeout.
CONNECT_TIMEOUT = 10


def _unavailable(url: DatabaseURL, message: str) -> DatabaseUnavailableError:
    return DatabaseUnavailableError(url.hide(message))


def _sqlite_file_problem(database: str | None) -> str | None:
    """Why a SQLite path cannot be checked (missing, a directory, unreadable), or None."""
    if database in (None, "", ":memory:") or database.startswith("file:"):
        return None
    if not os.path.exists(database):
        return f"file {database!r} does not exist (sessionerror never creates it)"
    if os.path.isdir(database):
        return f"{database!r} is a directory, not a SQLite database file"
    if not os.access(database, os.R_OK):
        return f"file {database!r} is not readable (permission denied)"
    return None


def connect_url(given: str | DatabaseURL) -> Engine:
    """Create an engine for ``given`` and prove it connects; raise DatabaseUnavailableError.

    Every message is one line that names the problem and the fix, with passwords masked.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    from sessionerror.engines.sqlite import enable_foreign_keys

    url = DatabaseURL(given)
    masked = str(url)
    if url.is_empty:
        raise _unavailable(url, f"the database URL is empty. Fix: pass e.g. {URL_EXAMPLE}")
    try:
        parsed, kwargs = _engine_args(url)
        backend = parsed.get_backend_name()
    except (ArgumentError, ValueError, TypeError) as exc:
        raise _unavailable(
            url, f"invalid database URL {masked}: {_first_line(exc)}. Fix: use e.g. {URL_EXAMPLE}"
        ) from None
    if backend not in ("sqlite", "postgresql"):
        raise _unavailable(
            url,
            f"unsupported database {masked}: only SQLite and PostgreSQL are supported. "
            f"Fix: use e.g. {URL_EXAMPLE}",
        )
    if backend == "postgresql" and "connect_timeout" not in parsed.query:
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise _unavailable(
            url,
            f"driver {parsed.drivername!r} of {masked} is not available ({_first_line(exc)}). "
            f"Fix: install {driver_package(parsed.drivername)}",
        ) from None
    except (ArgumentError, ValueError, TypeError) as exc:
        raise _unavailable(
            url, f"invalid database URL {masked}: {_first_line(exc)}. Fix: use e.g. {URL_EXAMPLE}"
        ) from None
    if engine.dialect.is_async:
        engine.dispose()
        raise _unavailable(
            url,
            f"{masked} names the async driver {parsed.drivername!r}; the checker is synchronous. "
            f"Fix: use {backend}:// (psycopg2 / sqlite3) for the same database",
        )
    if backend == "sqlite":
        problem = _sqlite_file_problem(engine.url.database)
        if problem:
            engine.dispose()
            raise _unavailable(
                url,
                f"cannot open {masked}: {problem}. Fix: pass the path of your existing "
                "SQLite database file",
            )
        # The team's application must do the same; see the sqlite.foreign_keys check.
        enable_foreign_keys(engine)
    try:
        with engine.connect() as conn:
            if backend == "sqlite":  # "file is not a database" shows at the first read
                conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
    except ArgumentError as exc:  # e.g. ?isolation_level=bogus, applied on connect
        engine.dispose()
        raise _unavailable(
            url, f"invalid database URL {masked}: {_first_line(exc)}. Fix: use e.g. {URL_EXAMPLE}"
        ) from None
    except DBAPIError as exc:
        engine.dispose()
        reason = _first_line(exc.orig if exc.orig is not None else exc)
        if backend == "sqlite":
            raise _unavailable(
                url, f"cannot open {masked}: {reason}. Fix: pass the path of a SQLite database file"
            ) from None
        fix = (
            "check that the server is running, the host/port, the user name and password, "
            "and the database name"
        )
        if url.reveal().count("@") > 1:
            fix += " (write @, / and : in a password as %40, %2F and %3A)"
        raise _unavailable(url, f"cannot connect to {masked}: {reason}. Fix: {fix}") from None
    return engine


def _first_line(exc: BaseException) -> str:
    return hide_url_secrets(first_line(exc))


@contextmanager
def connection_for(bind: Engine | Connection | str | DatabaseURL | Any) -> Iterator[Connection]:
    """Yield a connection for an Engine, a Connection (as is) or a URL (engine disposed after).

    An AsyncEngine is opened through the sync driver of the same database; an AsyncConnection
    is refused with the fix (``await assert_contract_async(conn)``).
    """
    from sqlalchemy.engine import Connection, Engine

    if isinstance(bind, Connection):
        yield bind
        return
    if not isinstance(bind, Engine | str | DatabaseURL):
        with sync_bind_for(bind) as conn:
            yield conn
        return
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            yield conn
        return
    engine = connect_url(bind)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


_USAGE = (
    "an Engine, Connection, AsyncEngine or URL string (for an AsyncConnection: "
    "`await assert_contract_async(conn)` or `await conn.run_sync(assert_contract)`)"
)


@contextmanager
def sync_bind_for(bind: Any) -> Iterator[Connection]:
    """A sync connection to the database of an AsyncEngine (its engine disposed after).

    An AsyncConnection cannot be driven from sync code: TypeError naming the async API.
    """
    kind = async_kind(bind)
    if kind == "AsyncConnection":
        raise TypeError(
            "the contract checker got an AsyncConnection, which sync code cannot use; "
            "use `await assert_contract_async(conn)` (or `await conn.run_sync(assert_contract)`)"
        )
    if kind != "AsyncEngine":
        raise TypeError(f"the contract checker needs {_USAGE}, got {type(bind).__name__}")
    engine = connect_url(DatabaseURL(bind.url))
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()
