"""Check a database against the SessionError contract: report model and public entry points.

The schema checks live in :mod:`sessionerror.check.schema`, the behaviour checks (run inside one
transaction that is always rolled back) in :mod:`sessionerror.check.behaviour`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from sessionerror.models.redaction import mask_url_password
from sessionerror.urls import explicit_driver, hide_url_secrets

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

__all__ = [
    "CheckResult",
    "CheckStatus",
    "ContractReport",
    "DatabaseUnavailableError",
    "Fix",
    "assert_contract",
    "check_reference_schema",
    "connect_url",
    "connection_for",
    "normalise_url",
    "run_checks",
]

#: The four tables of the contract: the error table and its parents.
TABLES = ("session_errors", "sessions", "uploaded_files", "tickets")


class CheckStatus(str, Enum):
    """Outcome of one check."""

    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True)
class Fix:
    """How to repair a failed check: DDL for the backend and the SQLAlchemy declaration."""

    ddl: str
    sqlalchemy: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"ddl": self.ddl, "sqlalchemy": self.sqlalchemy}


@dataclass(frozen=True)
class CheckResult:
    """One line of the report: what was found, what the contract wants, and the fix."""

    id: str
    title: str
    status: CheckStatus
    found: str = ""
    expected: str = ""
    fix: Fix | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "found": self.found,
            "expected": self.expected,
            "fix": self.fix.to_dict() if self.fix else None,
            "reason": self.reason,
        }

    def format(self) -> str:
        """Human-readable lines (one for PASS/SKIP, more for FAIL)."""
        head = f"{self.status.value:<4}  {self.id:<36} {self.title}"
        if self.status is CheckStatus.SKIP:
            return f"{head} (skipped: {self.reason})"
        if self.status is CheckStatus.PASS:
            return head
        lines = [head, f"      found:    {self.found}", f"      expected: {self.expected}"]
        if self.fix:
            lines.append(f"      fix (DDL):        {self.fix.ddl}")
            lines.append(f"      fix (SQLAlchemy): {self.fix.sqlalchemy}")
        return "\n".join(lines)


@dataclass(frozen=True)
class ContractReport:
    """All check results for one database."""

    database: str
    dialect: str
    results: tuple[CheckResult, ...] = field(default_factory=tuple)

    @property
    def failures(self) -> list[CheckResult]:
        """The failed checks."""
        return [r for r in self.results if r.status is CheckStatus.FAIL]

    @property
    def ok(self) -> bool:
        """True when no check failed (skips allowed)."""
        return not self.failures

    def counts(self) -> dict[str, int]:
        """Number of checks per status: ``{"pass": .., "fail": .., "skip": ..}``."""
        return {s.value.lower(): sum(r.status is s for r in self.results) for s in CheckStatus}

    def get(self, check_id: str) -> CheckResult:
        """The result of check ``check_id`` (KeyError if absent)."""
        for result in self.results:
            if result.id == check_id:
                return result
        raise KeyError(check_id)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: database, dialect, checks and summary counts."""
        return {
            "database": self.database,
            "dialect": self.dialect,
            "checks": [r.to_dict() for r in self.results],
            "summary": self.counts(),
        }

    def format(self) -> str:
        """The text report: one line per check and a summary line."""
        counts = self.counts()
        verdict = "contract satisfied" if self.ok else "contract VIOLATED"
        lines = [f"SessionError contract check: {self.database} ({self.dialect})"]
        lines += [r.format() for r in self.results]
        lines.append(
            f"{verdict}: {counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped"
        )
        return "\n".join(lines)


class DatabaseUnavailableError(Exception):
    """The database could not be reached or the URL is unusable; the message is safe to print."""


def normalise_url(url: str) -> tuple[str, dict[str, Any]]:
    """Return ``(url, engine_kwargs)``: a psycopg2 URL for bare ``postgres(ql)://`` URLs.

    ``?isolation_level=...`` is taken out of the query and passed to ``create_engine``.
    """
    from sqlalchemy.engine import make_url

    parsed = make_url(explicit_driver(url))
    kwargs: dict[str, Any] = {}
    level = parsed.query.get("isolation_level")
    if isinstance(level, str):
        kwargs["isolation_level"] = level.upper()
        parsed = parsed.difference_update_query(["isolation_level"])
    return parsed.render_as_string(hide_password=False), kwargs


#: What a valid URL looks like, for the "Fix:" part of the messages.
URL_EXAMPLE = "postgresql://user@host:5432/dbname or sqlite:///path/to/file.db"
#: Seconds libpq waits for a server that does not answer, unless the URL sets connect_timeout.
CONNECT_TIMEOUT = 10


def _unavailable(url: str, message: str) -> DatabaseUnavailableError:
    return DatabaseUnavailableError(hide_url_secrets(message, [url]))


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


def connect_url(url: str) -> Engine:
    """Create an engine for ``url`` and prove it connects; raise DatabaseUnavailableError.

    Every message is one line that names the problem and the fix, with passwords masked.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    from sessionerror.testdb.sqlite import enable_foreign_keys

    masked = hide_url_secrets(url, [url])
    if not url.strip():
        raise _unavailable(url, f"the database URL is empty. Fix: pass e.g. {URL_EXAMPLE}")
    try:
        real, kwargs = normalise_url(url)
        parsed = make_url(real)
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
        engine = create_engine(real, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise _unavailable(
            url,
            f"driver {parsed.drivername!r} of {masked} is not available ({_first_line(exc)}). "
            f"Fix: install it, or use {backend}:// (psycopg2 / sqlite3, installed with "
            "sessionerror)",
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
        if url.count("@") > 1:
            fix += " (write @, / and : in a password as %40, %2F and %3A)"
        raise _unavailable(url, f"cannot connect to {masked}: {reason}. Fix: {fix}") from None
    return engine


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return mask_url_password(text[0].strip()) if text else type(exc).__name__


@contextmanager
def connection_for(bind: Engine | Connection | str) -> Iterator[Connection]:
    """Yield a connection for an Engine, a Connection (as is) or a URL (engine disposed after)."""
    from sqlalchemy.engine import Connection, Engine

    if isinstance(bind, Connection):
        yield bind
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


def run_checks(bind: Engine | Connection | str, *, behaviour: bool = True) -> ContractReport:
    """Run every contract check against ``bind`` (an Engine, a Connection or a URL string).

    Schema checks only read. For a URL on SQLite the checker's own connection turns foreign
    keys on, so ``sqlite.foreign_keys`` is skipped: pass your application's engine to check it.
    Behaviour checks write test rows inside one transaction (a
    SAVEPOINT when ``bind`` is a Connection already in a transaction) that is always rolled
    back; they are skipped when the rollback cannot be guaranteed (autocommit).
    """
    from sessionerror.check.behaviour import run_behaviour_checks
    from sessionerror.check.schema import run_schema_checks

    with connection_for(bind) as conn:
        rendered = conn.engine.url.render_as_string(hide_password=False)
        database = hide_url_secrets(
            rendered, [bind, rendered] if isinstance(bind, str) else [rendered]
        )
        dialect = conn.dialect.name
        was_in_transaction = conn.in_transaction()
        results = run_schema_checks(conn, own_connection=isinstance(bind, str))
        if not was_in_transaction and conn.in_transaction():
            conn.rollback()  # end the read transaction the inspector began
        if behaviour:
            results += run_behaviour_checks(conn)
    return ContractReport(database=database, dialect=dialect, results=tuple(results))


def assert_contract(bind: Engine | Connection | str, *, behaviour: bool = True) -> ContractReport:
    """Raise AssertionError listing every failed check of :func:`run_checks`; else the report."""
    report = run_checks(bind, behaviour=behaviour)
    if report.failures:
        details = "\n".join(r.format() for r in report.failures)
        raise AssertionError(
            f"{report.database} violates the SessionError contract "
            f"({len(report.failures)} failed check(s)):\n{details}"
        )
    return report


def check_reference_schema(*, behaviour: bool = True) -> ContractReport:
    """Build the reference schema in a throwaway SQLite file and check it."""
    from sqlalchemy import create_engine

    from sessionerror.models.session_error import Base
    from sessionerror.testdb.sqlite import enable_foreign_keys

    with tempfile.TemporaryDirectory(prefix="sessionerror-check-") as tmp:
        path = os.path.join(tmp, "reference.db")
        engine = create_engine(f"sqlite:///{path}")
        enable_foreign_keys(engine)
        try:
            Base.metadata.create_all(engine)
            report = run_checks(engine, behaviour=behaviour)
        finally:
            engine.dispose()
    return ContractReport(
        database="reference schema (temporary SQLite file)",
        dialect=report.dialect,
        results=report.results,
    )
