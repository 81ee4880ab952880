"""Behaviour checks of the SessionError contract, run inside one transaction that is rolled back.

Test rows are written with Core statements on lightweight ``table()`` constructs (the team's
schema may differ from the reference model). Each check runs in its own SAVEPOINT so a refused
statement does not end the outer transaction, which is always rolled back at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import column, exists, func, inspect, literal, select, table
from sqlalchemy.exc import DBAPIError

from sessionerror.check.catalog import read_catalog
from sessionerror.check.contract_checks import enum_fix
from sessionerror.check.probe_rows import (
    ProbeRows,
    RowWriter,
    errors_table,
    insert_parent_rows,
    new_id,
)
from sessionerror.check.report import CheckResult, CheckStatus, Fix
from sessionerror.check.schema import blank_message_fix
from sessionerror.models.contract import (
    FOREIGN_KEYS,
    SESSION_ERRORS_TABLE,
    SESSIONS_TABLE,
    TABLES,
    ForeignKeyRule,
    column_rule,
)
from sessionerror.models.ddl import foreign_key_sqlalchemy_argument
from sessionerror.models.enums import ErrorSeverity
from sessionerror.redaction import mask_url_password

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

__all__ = ["BEHAVIOUR_CHECKS", "autocommit_reason", "run_behaviour_checks"]

T = TypeVar("T")

#: (id, title) of every behaviour check, in report order.
BEHAVIOUR_CHECKS: tuple[tuple[str, str], ...] = (
    ("behaviour.insert_valid", "a valid error row is accepted"),
    ("behaviour.cascade_session", "deleting a session deletes its errors"),
    ("behaviour.set_null_file", "deleting a file keeps the error, link set to NULL"),
    ("behaviour.set_null_ticket", "deleting a ticket keeps the error, link set to NULL"),
    ("behaviour.blocking_query", "has_blocking_errors (EXISTS) finds blocking errors only"),
    ("behaviour.rejects_blank_message", "the database refuses a blank user_message"),
    ("behaviour.rejects_unknown_category", "the database refuses an unknown error_category"),
    ("behaviour.rejects_orphan", "the database refuses an error of an unknown session"),
)
_TITLES = dict(BEHAVIOUR_CHECKS)
_ERRORS = SESSION_ERRORS_TABLE
_FK = {rule.column: rule for rule in FOREIGN_KEYS}
_BLOCKING = ErrorSeverity.BLOCKING.value
_FK_PRAGMA = (
    "if this is SQLite, turn foreign keys on: "
    "@event.listens_for(engine, 'connect') -> PRAGMA foreign_keys=ON"
)


def _skip_all(reason: str, start: int = 0) -> list[CheckResult]:
    return [
        CheckResult(check_id, title, CheckStatus.SKIP, reason=reason)
        for check_id, title in BEHAVIOUR_CHECKS[start:]
    ]


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return mask_url_password(lines[0].strip()) if lines else type(orig).__name__


def autocommit_reason(conn: Connection, *, after_begin: bool) -> str | None:
    """Why a rollback cannot be guaranteed on ``conn``, or None when it can."""
    if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return "the connection uses isolation_level=AUTOCOMMIT, so a rollback cannot be guaranteed"
    dbapi = conn.connection.driver_connection  # aiosqlite: its own in_transaction
    if getattr(dbapi, "autocommit", None) is True:
        return "the driver connection is in autocommit mode, so a rollback cannot be guaranteed"
    if (
        after_begin
        and conn.dialect.name == "sqlite"
        and getattr(dbapi, "isolation_level", "") is None
        and not getattr(dbapi, "in_transaction", False)
    ):
        return (
            "the sqlite3 connection has isolation_level=None and no BEGIN was sent "
            "(driver autocommit), so a rollback cannot be guaranteed; add a 'begin' event "
            "that emits BEGIN"
        )
    return None


def _attempt(conn: Connection, action: Callable[[], T]) -> tuple[T | None, DBAPIError | None]:
    """Run ``action`` in a SAVEPOINT that is always rolled back; return (value, error)."""
    savepoint = conn.begin_nested()
    try:
        return action(), None
    except DBAPIError as exc:
        return None, exc
    finally:
        savepoint.rollback()


# -- the checks --------------------------------------------------------------------------------


def _fail(check_id: str, found: str, expected: str, fix: Fix) -> CheckResult:
    return CheckResult(check_id, _TITLES[check_id], CheckStatus.FAIL, found, expected, fix)


def _pass(check_id: str, expected: str) -> CheckResult:
    return CheckResult(check_id, _TITLES[check_id], CheckStatus.PASS, expected=expected)


def _fk_fix(dialect: str, rule: ForeignKeyRule) -> Fix:
    column_name, target, on_delete = rule.column, rule.table, rule.on_delete
    references = f"REFERENCES {target} ({rule.target_column}) ON DELETE {on_delete}"
    if dialect == "postgresql":
        ddl = (
            f"ALTER TABLE {_ERRORS} DROP CONSTRAINT <fk on {column_name}>; ALTER TABLE "
            f"{_ERRORS} ADD FOREIGN KEY ({column_name}) {references}"
        )
    else:
        ddl = (
            f"rebuild {_ERRORS} with {column_name} {references}, "
            "and PRAGMA foreign_keys=ON in the engine's connect event"
        )
    return Fix(ddl, foreign_key_sqlalchemy_argument(rule))


def _check_cascade(conn: Connection, rows: ProbeRows) -> CheckResult:
    check_id, expected = "behaviour.cascade_session", "the session's errors are deleted"
    sessions = table(SESSIONS_TABLE, column("id"))
    errors = errors_table()

    def action() -> int:
        conn.execute(sessions.delete().where(sessions.c.id == rows.session_2))
        left = select(func.count()).select_from(errors).where(errors.c.id == rows.error_2)
        return int(conn.execute(left).scalar_one())

    left, error = _attempt(conn, action)
    fix = _fk_fix(conn.dialect.name, _FK["session_id"])
    if error is not None:
        return _fail(check_id, f"deleting the session was refused: {_reason(error)}", expected, fix)
    if left:
        found = f"the error survived its session (orphan row); {_FK_PRAGMA}"
        return _fail(check_id, found, expected, fix)
    return _pass(check_id, expected)


def _check_set_null(conn: Connection, rows: ProbeRows, kind: str) -> CheckResult:
    rule, parent_id = (
        (_FK["related_file_id"], rows.file_1)
        if kind == "file"
        else (_FK["related_ticket_id"], rows.ticket_1)
    )
    parent, link = rule.table, rule.column
    check_id = f"behaviour.set_null_{kind}"
    expected = f"the error is kept with {link} = NULL"
    target = table(parent, column("id"))
    errors = errors_table()

    def action() -> tuple[bool, Any]:
        conn.execute(target.delete().where(target.c.id == parent_id))
        query = select(errors.c[link]).where(errors.c.id == rows.error_1)
        found = conn.execute(query).first()
        return (found is not None, found[0] if found is not None else None)

    outcome, error = _attempt(conn, action)
    fix = _fk_fix(conn.dialect.name, rule)
    if error is not None or outcome is None:
        found = f"deleting the {kind} was refused: {_reason(error or Exception())}"
        return _fail(check_id, found, expected, fix)
    kept, value = outcome
    if not kept:
        return _fail(check_id, f"the error was deleted with its {kind} (CASCADE)", expected, fix)
    if value is not None:
        found = f"{link} still points at the deleted {kind}; {_FK_PRAGMA}"
        return _fail(check_id, found, expected, fix)
    return _pass(check_id, expected)


def _check_blocking(conn: Connection, rows: ProbeRows, writer: RowWriter) -> CheckResult:
    check_id = "behaviour.blocking_query"
    expected = "EXISTS finds the blocking error of session 1 and none in session 2"
    errors = errors_table()
    # The parameter carries the column's own (reflected) type: asyncpg casts every parameter
    # explicitly, and an untyped one becomes VARCHAR, which a native enum cannot be compared
    # with ("operator does not exist: error_severity = character varying").
    blocking = literal(_BLOCKING, type_=writer.column_type(_ERRORS, "severity"))

    def has_blocking(session_id: Any) -> bool:
        query = select(
            exists().where(errors.c.session_id == session_id, errors.c.severity == blocking)
        )
        return bool(conn.execute(query).scalar())

    outcome, error = _attempt(
        conn, lambda: (has_blocking(rows.session_1), has_blocking(rows.session_2))
    )
    fix = Fix(
        f"SELECT EXISTS (SELECT 1 FROM {_ERRORS} WHERE session_id = :id "
        f"AND severity = '{_BLOCKING}')",
        "select(exists().where(SessionError.session_id == id, "
        "SessionError.severity == ErrorSeverity.BLOCKING))",
    )
    if error is not None or outcome is None:
        return _fail(check_id, f"the query failed: {_reason(error or Exception())}", expected, fix)
    if outcome != (True, False):
        found = f"session 1 -> {outcome[0]}, session 2 -> {outcome[1]}"
        return _fail(check_id, found, expected, fix)
    return _pass(check_id, expected)


def _check_refused(
    conn: Connection, writer: RowWriter, rows: ProbeRows, check_id: str, **values: Any
) -> CheckResult:
    values.setdefault("session_id", rows.session_1)
    stored, error = _attempt(conn, lambda: writer.error(**values))
    dialect = conn.dialect.name
    if check_id == "behaviour.rejects_blank_message":
        expected = "a blank user_message is refused by a CHECK constraint"
        fix = blank_message_fix(dialect)
    elif check_id == "behaviour.rejects_unknown_category":
        expected = "an unknown error_category is refused (enum type or CHECK)"
        fix = _unknown_category_fix(conn)
    else:
        expected = "an error whose session does not exist is refused (foreign key enforced)"
        fix = _fk_fix(dialect, _FK["session_id"])
    if error is None and stored is not None:
        found = "the row was stored"
        if check_id == "behaviour.rejects_orphan":
            found += f"; {_FK_PRAGMA}"
        return _fail(check_id, found, expected, fix)
    return _pass(check_id, expected)


def _unknown_category_fix(conn: Connection) -> Fix:
    """The very fix ``schema.enum.error_category`` prints (one type name, one DDL)."""
    return enum_fix(conn, read_catalog(conn), column_rule("error_category"))


def _run(conn: Connection) -> list[CheckResult]:
    try:
        writer = RowWriter(conn)
        rows = insert_parent_rows(writer)
    except DBAPIError as exc:
        return _skip_all(f"could not insert minimal parent rows: {_reason(exc)}")
    dbapi = conn.connection.driver_connection  # aiosqlite: its own in_transaction
    if conn.dialect.name == "sqlite" and not getattr(dbapi, "in_transaction", True):
        raise RuntimeError("sqlite3 is not in a transaction after INSERT; refusing to go on")

    def insert_errors() -> tuple[Any, Any]:
        error_1 = writer.error(
            session_id=rows.session_1,
            severity=_BLOCKING,
            related_file_id=rows.file_1,
            related_ticket_id=rows.ticket_1,
        )
        warning = ErrorSeverity.WARNING.value
        return error_1, writer.error(session_id=rows.session_2, severity=warning)

    savepoint = conn.begin_nested()
    try:
        rows.error_1, rows.error_2 = insert_errors()
    except DBAPIError as exc:
        savepoint.rollback()
        found = f"a valid row was refused: {_reason(exc)}"
        failed = _fail(
            "behaviour.insert_valid",
            found,
            "a row with spec values (user_fixable, warning, upload...) is stored",
            Fix("see the schema.* checks above", "see the schema.* checks above"),
        )
        return [failed, *_skip_all("no valid error row could be inserted", start=1)]
    savepoint.commit()  # released into the outer transaction, which is rolled back
    return [
        _pass("behaviour.insert_valid", "a row with spec values is stored"),
        _check_cascade(conn, rows),
        _check_set_null(conn, rows, "file"),
        _check_set_null(conn, rows, "ticket"),
        _check_blocking(conn, rows, writer),
        _check_refused(conn, writer, rows, "behaviour.rejects_blank_message", user_message="   "),
        _check_refused(
            conn, writer, rows, "behaviour.rejects_unknown_category", error_category="bogus"
        ),
        _check_refused(
            conn, writer, rows, "behaviour.rejects_orphan", session_id=new_id(conn.dialect.name)
        ),
    ]


def run_behaviour_checks(conn: Connection) -> list[CheckResult]:
    """Run the behaviour checks in one transaction on ``conn`` that is always rolled back.

    When ``conn`` is already in a transaction a SAVEPOINT is used instead. Nothing is run (every
    check is skipped with the reason) when the rollback cannot be guaranteed.
    """
    was_in_transaction = conn.in_transaction()
    missing = set(TABLES) - set(inspect(conn).get_table_names())
    if not was_in_transaction and conn.in_transaction():
        conn.rollback()  # end the read transaction the inspector began
    if missing:
        return _skip_all(f"missing table(s): {', '.join(sorted(missing))}")
    reason = autocommit_reason(conn, after_begin=False)
    if reason:
        return _skip_all(reason + "; schema checks only")
    outer = conn.begin_nested() if conn.in_transaction() else conn.begin()
    try:
        reason = autocommit_reason(conn, after_begin=True)
        if reason:
            return _skip_all(reason + "; schema checks only")
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
            conn.exec_driver_sql("SET LOCAL statement_timeout = '30s'")
        return _run(conn)
    finally:
        outer.rollback()
