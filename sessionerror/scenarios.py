"""Runnable scenarios that show (and check) how the database treats SessionErrors.

Each scenario takes an Engine or a Connection, creates the reference schema if it is missing,
does its work inside one transaction that is rolled back at the end (so it leaves the database
as it found it), and returns a :class:`ScenarioResult`: ``ok`` plus the lines of what it checked
and saw. ``examples/*.py`` are thin command-line wrappers around :func:`main`.

On SQLite, pass an engine from :func:`sessionerror.testdb.sqlite.create_sqlite_engine`: a plain
``create_engine("sqlite://...")`` leaves foreign keys off, and the scenarios say so and fail.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, delete, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from sessionerror.models import (
    Base,
    SessionError,
    Ticket,
    UploadedFile,
    WorkflowSession,
)
from sessionerror.models.audit import AUDIT, audit_resolution_attempt, get_logger
from sessionerror.models.enums import ErrorCategory, ErrorSeverity, OperationStage
from sessionerror.models.redaction import mask_url_password
from sessionerror.models.types import utcnow
from sessionerror.runtime.retention import DEFAULT_RETENTION_DAYS, purge_expired_sessions
from sessionerror.testdb.sqlite import create_sqlite_engine
from sessionerror.urls import explicit_driver, hide_url_secrets

__all__ = [
    "SCENARIOS",
    "ScenarioResult",
    "engine_from_url",
    "jira_export_allowed",
    "main",
    "run_blocking_gate",
    "run_cascade",
    "run_cleanup_7_day",
    "run_set_null",
]

_FK_HINT = (
    "foreign keys are not enforced on this connection: SQLite needs PRAGMA foreign_keys=ON "
    "on every connection (use sessionerror.testdb.sqlite.create_sqlite_engine)"
)


@dataclass
class ScenarioResult:
    """Outcome of one scenario: ``ok`` and the plain-words ``lines`` of what it checked and saw."""

    name: str
    title: str
    ok: bool = True
    lines: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        """Record something the scenario did or saw."""
        self.lines.append(f"  {text}")

    def check(self, passed: bool, expectation: str, seen: str, hint: str | None = None) -> bool:
        """Record an expectation and what was seen; a failed check makes ``ok`` False."""
        self.lines.append(f"  [{'ok' if passed else 'FAILED'}] {expectation} - saw: {seen}")
        if not passed:
            self.ok = False
            if hint:
                self.lines.append(f"      why: {hint}")
        return passed

    def report(self) -> str:
        """The full text printed by the example scripts."""
        verdict = "PASSED" if self.ok else "FAILED"
        return "\n".join([f"Scenario: {self.title}", *self.lines, f"Result: {verdict}"])


# -- shared plumbing ------------------------------------------------------------------------


def _table(model: type[Any]) -> Table:
    table = model.__table__
    if not isinstance(table, Table):  # pragma: no cover - mapped to a plain Table
        raise TypeError(f"{model.__name__} is not mapped to a Table")
    return table


def _foreign_keys_enforced(connection: Connection) -> bool:
    if connection.dialect.name != "sqlite":
        return True
    return bool(connection.exec_driver_sql("PRAGMA foreign_keys").scalar())


@contextmanager
def _rolled_back(bind: Engine | Connection, result: ScenarioResult) -> Iterator[Session]:
    """A session in a transaction that is always rolled back; schema created if missing."""
    scope = bind.connect() if isinstance(bind, Engine) else nullcontext(bind)
    with scope as connection:
        backend = connection.dialect.name
        result.note(f"database: {backend} ({mask_url_password(str(connection.engine.url))})")
        if not _foreign_keys_enforced(connection):
            result.note(f"warning: {_FK_HINT}")
        transaction = (
            connection.begin_nested() if connection.in_transaction() else connection.begin()
        )
        try:
            Base.metadata.create_all(connection, checkfirst=True)
            with Session(bind=connection) as db:
                yield db
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            result.check(False, "the scenario runs to the end", f"{type(exc).__name__}: {first}")
        finally:
            transaction.rollback()
        result.note("everything the scenario wrote was rolled back")


def _count(db: Session, model: type[Any], column: str, values: Sequence[uuid.UUID]) -> int:
    table = _table(model)
    statement = select(func.count()).select_from(table).where(table.c[column].in_(values))
    return int(db.execute(statement).scalar_one())


def _new_session(db: Session, name: str, *, created_at: datetime | None = None) -> WorkflowSession:
    moment = created_at or utcnow()
    workflow = WorkflowSession(name=name, created_at=moment, updated_at=moment)
    db.add(workflow)
    return workflow


def _new_error(
    db: Session,
    workflow: WorkflowSession,
    *,
    category: ErrorCategory = ErrorCategory.USER_FIXABLE,
    severity: ErrorSeverity = ErrorSeverity.WARNING,
    stage: OperationStage = OperationStage.PROCESSING,
    message: str = "Row 12 has a due date we cannot read.",
    code: str = "PARSE_INVALID_DATE",
    file: UploadedFile | None = None,
    ticket: Ticket | None = None,
    created_at: datetime | None = None,
) -> SessionError:
    error = SessionError(
        session=workflow,
        error_category=category,
        severity=severity,
        operation_stage=stage.value,
        user_message=message,
        recovery_actions={"actions": ["Correct the file.", "Upload it again."]},
        technical_details={"kind": "example", "stage": stage.value},
        error_code=code,
        related_file=file,
        related_ticket=ticket,
        created_at=created_at or utcnow(),
    )
    db.add(error)
    return error


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


# -- the scenarios --------------------------------------------------------------------------


def run_cascade(bind: Engine | Connection) -> ScenarioResult:
    """Deleting a session (plain SQL DELETE) removes its errors, files and tickets."""
    result = ScenarioResult("cascade", "deleting a session removes its errors, files and tickets")
    with _rolled_back(bind, result) as db:
        doomed = _new_session(db, "Session to delete")
        file = UploadedFile(session=doomed, filename="tickets.xlsx")
        db.add(file)
        ticket = Ticket(session=doomed, summary="Replace the badge reader")
        _new_error(db, doomed, file=file, ticket=ticket)
        _new_error(db, doomed, severity=ErrorSeverity.BLOCKING, stage=OperationStage.UPLOAD)
        kept = _new_session(db, "Session to keep")
        _new_error(db, kept)
        db.flush()
        ids = [doomed.id]
        result.note("created a session with 1 file, 1 ticket and 2 errors, plus another session")
        db.execute(delete(_table(WorkflowSession)).where(_table(WorkflowSession).c.id == doomed.id))
        db.expire_all()
        result.note("deleted the first session with DELETE FROM sessions (no ORM cascade)")
        hint = _FK_HINT if not _foreign_keys_enforced(db.connection()) else None
        errors = _count(db, SessionError, "session_id", ids)
        result.check(errors == 0, "its errors are gone", f"{_plural(errors, 'error')} left", hint)
        files = _count(db, UploadedFile, "session_id", ids)
        result.check(files == 0, "its files are gone", f"{_plural(files, 'file')} left", hint)
        tickets = _count(db, Ticket, "session_id", ids)
        result.check(
            tickets == 0, "its tickets are gone", f"{_plural(tickets, 'ticket')} left", hint
        )
        other = _count(db, SessionError, "session_id", [kept.id])
        result.check(other == 1, "the other session's error stays", _plural(other, "error"))
    return result


def _audit_fields(db: Session, error_id: uuid.UUID) -> dict[str, Any] | None:
    table = _table(SessionError)
    row = db.execute(select(table).where(table.c.id == error_id)).mappings().one_or_none()
    return dict(row) if row is not None else None


def run_set_null(bind: Engine | Connection) -> ScenarioResult:
    """Deleting a file or ticket keeps the error: the link becomes NULL, the context stays."""
    result = ScenarioResult(
        "set_null", "deleting a file or ticket keeps the error, with the link set to NULL"
    )
    with _rolled_back(bind, result) as db:
        workflow = _new_session(db, "Session with linked error")
        file = UploadedFile(session=workflow, filename="tickets.xlsx")
        db.add(file)
        ticket = Ticket(session=workflow, summary="Enable MFA for the VPN portal")
        error = _new_error(
            db,
            workflow,
            category=ErrorCategory.ADMIN_REQUIRED,
            severity=ErrorSeverity.BLOCKING,
            stage=OperationStage.JIRA_EXPORT,
            message="Jira rejected our credentials.",
            code="JIRA_AUTH_401",
            file=file,
            ticket=ticket,
        )
        db.flush()
        before = _audit_fields(db, error.id)
        assert before is not None
        result.note("created an error linked to a file and a ticket of its session")
        hint = _FK_HINT if not _foreign_keys_enforced(db.connection()) else None

        db.execute(delete(_table(UploadedFile)).where(_table(UploadedFile).c.id == file.id))
        after_file = _audit_fields(db, error.id)
        result.note("deleted the file with DELETE FROM uploaded_files")
        result.check(after_file is not None, "the error still exists", str(after_file is not None))
        if after_file is not None:
            link = after_file["related_file_id"]
            result.check(link is None, "related_file_id is NULL", repr(link), hint)
            result.check(
                after_file["related_ticket_id"] == ticket.id,
                "the ticket link is untouched",
                repr(after_file["related_ticket_id"]),
            )

        db.execute(delete(_table(Ticket)).where(_table(Ticket).c.id == ticket.id))
        after = _audit_fields(db, error.id)
        result.note("deleted the ticket with DELETE FROM tickets")
        result.check(after is not None, "the error still exists", str(after is not None))
        if after is not None:
            link = after["related_ticket_id"]
            result.check(link is None, "related_ticket_id is NULL", repr(link), hint)
            context = [k for k in before if k not in ("related_file_id", "related_ticket_id")]
            changed = [k for k in context if before[k] != after[k]]
            result.check(
                not changed,
                "message, category, severity, stage, details, code and time are unchanged",
                ", ".join(changed) + " changed" if changed else "all unchanged",
            )
    return result


def jira_export_allowed(db: Session, session_id: uuid.UUID) -> bool:
    """The gate of the Jira export: allowed only while the session has no blocking error."""
    return not SessionError.has_blocking_errors(session_id, db=db)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=AUDIT)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == AUDIT:
            self.records.append(record)


@contextmanager
def _audit_records() -> Iterator[list[logging.LogRecord]]:
    logger = get_logger()
    handler = _Collect()
    previous = logger.level
    if not logger.isEnabledFor(AUDIT):
        logger.setLevel(AUDIT)
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def run_blocking_gate(bind: Engine | Connection) -> ScenarioResult:
    """The Jira export is refused while a blocking error exists and allowed once it is resolved.

    Resolution here: an administrator renews the Jira token and the blocking error is downgraded
    to ``info`` (the row stays, for the audit trail); each attempt is logged at AUDIT level.
    """
    result = ScenarioResult(
        "blocking_gate", "Jira export is refused while the session has blocking errors"
    )
    with _rolled_back(bind, result) as db, _audit_records() as audit:
        workflow = _new_session(db, "Security findings ready for Jira")
        ticket = Ticket(session=workflow, summary="Rotate the file server admin password")
        db.add(ticket)
        blocker = _new_error(
            db,
            workflow,
            category=ErrorCategory.ADMIN_REQUIRED,
            severity=ErrorSeverity.BLOCKING,
            stage=OperationStage.JIRA_EXPORT,
            message="Your tickets could not be sent to Jira: Jira rejected our credentials.",
            code="JIRA_AUTH_401",
            ticket=ticket,
        )
        _new_error(db, workflow, severity=ErrorSeverity.WARNING, stage=OperationStage.REVIEW)
        db.flush()
        audited: Any = blocker  # audit's protocol wants settable ids; the model's are read-only
        result.note("created a session with a blocking JIRA_AUTH_401 error and a warning")

        allowed = jira_export_allowed(db, workflow.id)
        result.check(not allowed, "the export is refused", "refused" if not allowed else "allowed")
        audit_resolution_attempt(audited, action="retry Jira export", succeeded=allowed)

        blocker.severity = ErrorSeverity.INFO
        blocker.technical_details = {
            **blocker.technical_details,
            "resolution": "Jira API token renewed by an administrator",
        }
        db.flush()
        audit_resolution_attempt(
            audited,
            action="Jira token renewed; error downgraded from blocking to info",
            succeeded=True,
            actor="admin",
        )
        result.note("an administrator renewed the token; the error was downgraded to info")

        allowed = jira_export_allowed(db, workflow.id)
        result.check(allowed, "the export is allowed", "allowed" if allowed else "refused")
        if allowed:
            ticket.jira_key = "OPS-5001"
            db.flush()
            result.note("exported the ticket as OPS-5001")
        kept = _audit_fields(db, blocker.id)
        result.check(
            kept is not None and kept["severity"] == ErrorSeverity.INFO,
            "the resolved error is kept (as info) for the audit trail",
            "kept" if kept is not None else "missing",
        )
        result.check(
            len(audit) == 2,
            "each resolution attempt was logged at AUDIT level",
            "; ".join(record.getMessage() for record in audit) or "no AUDIT records",
        )
    return result


def run_cleanup_7_day(bind: Engine | Connection) -> ScenarioResult:
    """The 7-day cleanup deletes old sessions with their errors; recent ones stay."""
    result = ScenarioResult(
        "cleanup_7_day", "the 7-day cleanup removes old sessions and their errors only"
    )
    now = utcnow()
    with _rolled_back(bind, result) as db:
        ages = {"30 days": 30.0, "8 days": 8.0, "6 days": 6.0, "1 hour": 1 / 24}
        sessions: dict[str, WorkflowSession] = {}
        for label, days in ages.items():
            created = now - timedelta(days=days)
            workflow = _new_session(db, f"Session created {label} ago", created_at=created)
            db.add(UploadedFile(session=workflow, filename=f"import-{label}.xlsx"))
            _new_error(db, workflow, created_at=created)
            _new_error(db, workflow, severity=ErrorSeverity.BLOCKING, created_at=created)
            sessions[label] = workflow
        db.flush()
        result.note("created sessions 30 days, 8 days, 6 days and 1 hour old, 2 errors each")
        old = [sessions["30 days"].id, sessions["8 days"].id]
        recent = [sessions["6 days"].id, sessions["1 hour"].id]

        removed = purge_expired_sessions(db, now=now)
        result.note(
            f"purge_expired_sessions(older_than_days={DEFAULT_RETENTION_DAYS}) "
            f"removed {_plural(removed, 'session')}"
        )
        hint = _FK_HINT if not _foreign_keys_enforced(db.connection()) else None
        gone = _count(db, WorkflowSession, "id", old)
        result.check(gone == 0, "the 30- and 8-day-old sessions are gone", f"{gone} left")
        old_errors = _count(db, SessionError, "session_id", old)
        result.check(
            old_errors == 0, "their errors are gone", f"{_plural(old_errors, 'error')} left", hint
        )
        stay = _count(db, WorkflowSession, "id", recent)
        result.check(stay == 2, "the 6-day and 1-hour-old sessions stay", f"{stay} of 2")
        recent_errors = _count(db, SessionError, "session_id", recent)
        result.check(recent_errors == 4, "their errors stay", f"{recent_errors} of 4")
    return result


SCENARIOS: dict[str, Callable[[Engine | Connection], ScenarioResult]] = {
    "cascade": run_cascade,
    "set_null": run_set_null,
    "blocking_gate": run_blocking_gate,
    "cleanup_7_day": run_cleanup_7_day,
}


# -- command line ---------------------------------------------------------------------------


def engine_from_url(url: str, *, sqlite_foreign_keys: bool = True) -> Engine:
    """An engine for ``url``: SQLite with the kit's listeners, PostgreSQL via psycopg2.

    ``postgres://`` and ``postgresql://`` mean ``postgresql+psycopg2://``. With
    ``sqlite_foreign_keys=False`` SQLite gets a plain engine (foreign keys off), to show what
    goes wrong.
    """
    parsed = make_url(explicit_driver(url))
    if parsed.get_backend_name() == "sqlite":
        if sqlite_foreign_keys:
            return create_sqlite_engine(parsed)
        return create_engine(parsed)
    return create_engine(parsed)


def main(name: str, argv: Sequence[str] | None = None) -> int:
    """Run scenario ``name`` from the command line and return the exit status.

    0: the database behaves; 1: it does not (a check failed); 2: the scenario cannot run (bad
    usage, unusable or unreachable ``--db``), one line on stderr with the password masked;
    130 / 143: interrupted by SIGINT / SIGTERM, everything rolled back and nothing left behind.
    """
    from sessionerror.cli import Interrupted, UsageError, interrupt_on_signals, one_line_parser
    from sessionerror.connect import connect_url
    from sessionerror.errors import DatabaseUnavailableError

    scenario = SCENARIOS[name]
    arguments = list(sys.argv[1:] if argv is None else argv)

    def fail(message: str, code: int = 2) -> int:
        line = " ".join(hide_url_secrets(message, arguments).split())
        print(f"{name}.py: error: {line}", file=sys.stderr, flush=True)
        return code

    parser = one_line_parser(
        prog=f"{name}.py", description=(scenario.__doc__ or "").splitlines()[0]
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL (default: a temporary SQLite file); e.g. postgresql://user@host/db. "
        "Nothing is left behind: the scenario's transaction is rolled back.",
    )
    # For demonstrations and tests: a SQLite engine without PRAGMA foreign_keys=ON.
    parser.add_argument("--sqlite-foreign-keys-off", action="store_true", help=argparse.SUPPRESS)
    try:
        args = parser.parse_args(arguments)
        with (
            interrupt_on_signals(),
            tempfile.TemporaryDirectory(prefix="sessionerror-example-") as tmp,
        ):
            if args.db is not None:
                # One clear line (exit 2) for a bad URL, a missing file or an unreachable server,
                # before the scenario starts; SQLite files are never created.
                connect_url(args.db).dispose()
            url = args.db if args.db is not None else f"sqlite:///{Path(tmp) / 'example.db'}"
            engine = engine_from_url(url, sqlite_foreign_keys=not args.sqlite_foreign_keys_off)
            try:
                result = scenario(engine)
            finally:
                engine.dispose()
    except SystemExit as exc:  # --help
        return 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 2
    except (UsageError, DatabaseUnavailableError) as exc:
        return fail(str(exc))
    except SQLAlchemyError as exc:
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        return fail(
            f"cannot run on the database: {first.strip()}. Fix: check the --db URL "
            "(sessionerror check --db URL shows what differs from the contract)"
        )
    except Interrupted as exc:
        signame = signal.Signals(exc.signum).name
        return fail(
            f"interrupted by {signame}; everything the scenario wrote was rolled back",
            128 + exc.signum,
        )
    print(result.report())
    return 0 if result.ok else 1
