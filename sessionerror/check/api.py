"""The checker's entry points: run every contract check against a database and report.

The report types live in :mod:`sessionerror.check.report`, the schema checks in
:mod:`sessionerror.check.schema`, the behaviour checks (run inside one transaction that is
always rolled back) in :mod:`sessionerror.check.behaviour`; opening the database is
:mod:`sessionerror.connect`.
"""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING, Any

from sessionerror.check.behaviour import run_behaviour_checks
from sessionerror.check.report import ContractReport
from sessionerror.check.schema import run_schema_checks
from sessionerror.connect import connection_for
from sessionerror.engines.kinds import is_async_object
from sessionerror.urls import DatabaseURL

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

__all__ = ["assert_contract", "check_reference_schema", "run_checks"]


def run_checks(
    bind: Engine | Connection | str | DatabaseURL | Any, *, behaviour: bool = True
) -> ContractReport:
    """Run every contract check against ``bind`` (an Engine, a Connection or a URL).

    Schema checks only read. For a URL on SQLite the checker's own connection turns foreign
    keys on, so ``sqlite.foreign_keys`` is skipped: pass your application's engine to check it.
    Behaviour checks write test rows inside one transaction (a
    SAVEPOINT when ``bind`` is a Connection already in a transaction) that is always rolled
    back; they are skipped when the rollback cannot be guaranteed (autocommit).
    """
    url = DatabaseURL(bind) if isinstance(bind, str | DatabaseURL) else None  # read once
    with connection_for(url if url is not None else bind) as conn:
        opened = DatabaseURL(conn.engine.url)
        # A URL is shown as the user gave it (async driver included), masked.
        database = url.masked_with(opened) if url is not None else opened.masked_with()
        dialect = conn.dialect.name
        was_in_transaction = conn.in_transaction()
        # An AsyncEngine is checked through the kit's own sync engine, like a URL.
        own = url is not None or is_async_object(bind)
        results = run_schema_checks(conn, own_connection=own)
        if not was_in_transaction and conn.in_transaction():
            conn.rollback()  # end the read transaction the inspector began
        if behaviour:
            results += run_behaviour_checks(conn)
    return ContractReport(database=database, dialect=dialect, results=tuple(results))


def assert_contract(
    bind: Engine | Connection | str | Any, *, behaviour: bool = True
) -> ContractReport:
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

    from sessionerror.engines.sqlite import enable_foreign_keys
    from sessionerror.models import Base

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
