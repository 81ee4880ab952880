"""Run every clause against a class: on a throwaway SQLite file, or on a database rolled back.

Without a database the schema is created from the class's own metadata in a temporary SQLite
file (foreign keys on). With one (an Engine, a Connection or a URL), everything runs in one
transaction that is always rolled back, as ``sessionerror check`` does; nothing runs when the
rollback cannot be guaranteed (autocommit).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect

from sessionerror.check.behaviour import autocommit_reason
from sessionerror.conformance.async_clauses import run_async_clauses
from sessionerror.conformance.delete_rules import check_delete_rules
from sessionerror.conformance.fields import check_enum_storage, check_fields
from sessionerror.conformance.harness import Harness, parent_table
from sessionerror.conformance.loading import load_model, model_name
from sessionerror.conformance.log_lines import check_log_lines
from sessionerror.conformance.methods import check_methods
from sessionerror.conformance.queries import check_queries
from sessionerror.conformance.redaction import check_redaction
from sessionerror.conformance.report import ClauseResult, ConformanceReport, fail, skipped
from sessionerror.conformance.validation import check_validation
from sessionerror.connect import connection_for
from sessionerror.engines.sqlite import create_sqlite_engine, sqlite_url
from sessionerror.errors import UsageError, first_line
from sessionerror.redaction import mask_url_password
from sessionerror.urls import DatabaseURL

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection

__all__ = ["CLAUSES", "assert_conforms", "run_conformance"]

#: Every clause the suite reports, in order: (clause id, group run by).
CLAUSES: tuple[tuple[str, str], ...] = (
    ("§4.fields", "fields"),
    ("§4.is_blocking", "methods"),
    ("§4.get_recovery_action_list", "methods"),
    ("§4.is_user_fixable", "methods"),
    ("§4.requires_admin", "methods"),
    ("§4.age_minutes", "methods"),
    ("§4.enums", "enums"),
    ("§4.find_by_category", "queries"),
    ("§4.find_by_category.statements", "queries"),
    ("§4.has_blocking_errors", "queries"),
    ("§4.has_blocking_errors.statements", "queries"),
    ("§8.user_message", "validation"),
    ("§8.recovery_actions", "validation"),
    ("§7.info", "logging"),
    ("§7.debug", "logging"),
    ("kit.redaction", "redaction"),
    ("§6.session_id", "delete_rules"),
    ("§6.related_file_id", "delete_rules"),
    ("§6.related_ticket_id", "delete_rules"),
    ("async.write", "async"),
    ("async.validation", "async"),
)


def _group(name: str, run: Callable[[], list[ClauseResult]]) -> list[ClauseResult]:
    """The group's results; a clause that cannot run is skipped, one that crashes fails."""
    clauses = [clause for clause, group in CLAUSES if group == name]
    try:
        return run()
    except LookupError as exc:
        return [skipped(clause, "could not write its rows", str(exc)) for clause in clauses]
    except Exception as exc:
        found = f"stopped with {type(exc).__name__}: {mask_url_password(first_line(exc))[:300]}"
        return [
            fail(clause, "the clause could not run", found, "the clause runs", "see found")
            for clause in clauses
        ]


def _clauses(model: type[Any], conn: Connection) -> list[ClauseResult]:
    harness = Harness(model, conn)
    return [
        check_fields(model),
        *_group("methods", lambda: check_methods(harness.new_error)),
        *_group("enums", lambda: [check_enum_storage(harness)]),
        *_group("queries", lambda: check_queries(harness)),
        *_group("validation", lambda: check_validation(harness)),
        *_group("logging", lambda: check_log_lines(harness)),
        *_group("redaction", lambda: [check_redaction(harness)]),
        *_group("delete_rules", lambda: check_delete_rules(harness)),
    ]


def _require_tables(model: type[Any], conn: Connection, database: str) -> None:
    tables = [model.__table__] + [
        table
        for link in ("session_id", "related_file_id", "related_ticket_id")
        if (table := parent_table(model, link)) is not None
    ]
    present = set(inspect(conn).get_table_names())
    missing = sorted(table.name for table in tables if table.name not in present)
    if missing:
        raise UsageError(
            f"conformance: {database} has no table(s) {', '.join(missing)}. Fix: create the "
            "schema (run your migrations), or leave out --db to use a throwaway SQLite file"
        )


@contextmanager
def _throwaway(model: type[Any]) -> Iterator[tuple[Connection, URL]]:
    with tempfile.TemporaryDirectory(prefix="sessionerror-conformance-") as folder:
        path = os.path.join(folder, "conformance.db")
        engine = create_sqlite_engine(path, throwaway=True)
        try:
            model.metadata.create_all(engine)
            with engine.connect() as conn:
                yield conn, sqlite_url(path)
        finally:
            engine.dispose()


def _async_group(model: type[Any], url: URL, *, throwaway: bool) -> list[ClauseResult]:
    return _group("async", lambda: run_async_clauses(model, url, throwaway=throwaway))


def _run(model: type[Any], conn: Connection, database: str) -> list[ClauseResult]:
    was_in_transaction = conn.in_transaction()
    _require_tables(model, conn, database)
    if not was_in_transaction and conn.in_transaction():
        conn.rollback()  # end the read transaction the inspector began
    reason = autocommit_reason(conn, after_begin=False)
    outer = conn.begin_nested() if conn.in_transaction() else conn.begin()
    try:
        reason = reason or autocommit_reason(conn, after_begin=True)
        if reason:
            raise UsageError(f"conformance: {reason}. Fix: pass a connection in a transaction")
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
            conn.exec_driver_sql("SET LOCAL statement_timeout = '30s'")
        return _clauses(model, conn)
    finally:
        outer.rollback()


def run_conformance(model: type[Any] | str, db: Any = None) -> ConformanceReport:
    """Run the specification's behaviour against ``model`` (a class or ``"module:Class"``).

    ``db``: None for a throwaway SQLite file with the schema from the class's metadata, or an
    Engine, Connection or URL whose schema is used inside one transaction rolled back after.
    """
    cls = load_model(model) if isinstance(model, str) else model
    if db is None:
        with _throwaway(cls) as (conn, path):
            database = "a throwaway SQLite file (schema from the class's metadata)"
            results = _run(cls, conn, database)
            results += _async_group(cls, path, throwaway=True)
            return ConformanceReport(model_name(cls), database, "sqlite", tuple(results))
    url = DatabaseURL(db) if isinstance(db, str | DatabaseURL) else None
    with connection_for(url if url is not None else db) as conn:
        opened = DatabaseURL(conn.engine.url)
        database = url.masked_with(opened) if url is not None else opened.masked_with()
        results = _run(cls, conn, database)
        dialect, engine_url = conn.dialect.name, conn.engine.url
    results += _async_group(cls, engine_url, throwaway=False)
    return ConformanceReport(model_name(cls), database, dialect, tuple(results))


def assert_conforms(model: type[Any] | str, db: Any = None) -> ConformanceReport:
    """Raise AssertionError naming every violated clause of :func:`run_conformance`."""
    report = run_conformance(model, db)
    if report.failures:
        details = "\n".join(result.format() for result in report.failures)
        raise AssertionError(
            f"{report.model} does not conform to the SessionError specification "
            f"({len(report.failures)} violated clause(s)):\n{details}"
        )
    return report
