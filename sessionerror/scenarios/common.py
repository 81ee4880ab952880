"""What the scenarios share: the result they report, a rolled-back session, row builders, and
the engine the command line opens."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, func, select
from sqlalchemy.orm import Session

from sessionerror.connect import normalise_url
from sessionerror.engines.sqlite import create_sqlite_engine
from sessionerror.errors import first_line
from sessionerror.models import (
    Base,
    SessionError,
    Ticket,
    UploadedFile,
    WorkflowSession,
)
from sessionerror.models.base import table_of
from sessionerror.models.enums import ErrorCategory, ErrorSeverity, OperationStage
from sessionerror.models.types import utcnow
from sessionerror.urls import DatabaseURL

__all__ = [
    "FK_HINT",
    "ScenarioResult",
    "count_rows",
    "engine_from_url",
    "fk_hint",
    "foreign_keys_enforced",
    "new_error",
    "new_jira_auth_error",
    "new_session",
    "plural",
    "rolled_back",
    "stored_row",
]


FK_HINT = (
    "foreign keys are not enforced on this connection: SQLite needs PRAGMA foreign_keys=ON "
    "on every connection (use sessionerror.engines.sqlite.create_sqlite_engine)"
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


def foreign_keys_enforced(connection: Connection) -> bool:
    """Whether ``connection`` enforces foreign keys (always on PostgreSQL; a PRAGMA on SQLite)."""
    if connection.dialect.name != "sqlite":
        return True
    return bool(connection.exec_driver_sql("PRAGMA foreign_keys").scalar())


def fk_hint(db: Session) -> str | None:
    """:data:`FK_HINT` when ``db``'s connection does not enforce foreign keys, else None."""
    return FK_HINT if not foreign_keys_enforced(db.connection()) else None


@contextmanager
def rolled_back(bind: Engine | Connection, result: ScenarioResult) -> Iterator[Session]:
    """A session in a transaction that is always rolled back; schema created if missing."""
    scope = bind.connect() if isinstance(bind, Engine) else nullcontext(bind)
    with scope as connection:
        backend = connection.dialect.name
        result.note(f"database: {backend} ({DatabaseURL(connection.engine.url)})")
        if not foreign_keys_enforced(connection):
            result.note(f"warning: {FK_HINT}")
        transaction = (
            connection.begin_nested() if connection.in_transaction() else connection.begin()
        )
        try:
            Base.metadata.create_all(connection, checkfirst=True)
            with Session(bind=connection) as db:
                yield db
        except Exception as exc:
            seen = f"{type(exc).__name__}: {first_line(exc, default='')}"
            result.check(False, "the scenario runs to the end", seen)
        finally:
            transaction.rollback()
        result.note("everything the scenario wrote was rolled back")


def count_rows(db: Session, model: type[Any], column: str, values: Sequence[uuid.UUID]) -> int:
    """How many rows of ``model`` have ``column`` in ``values``."""
    table = table_of(model)
    statement = select(func.count()).select_from(table).where(table.c[column].in_(values))
    return int(db.execute(statement).scalar_one())


def new_session(db: Session, name: str, *, created_at: datetime | None = None) -> WorkflowSession:
    """Add a workflow session named ``name`` (created now unless ``created_at``)."""
    moment = created_at or utcnow()
    workflow = WorkflowSession(name=name, created_at=moment, updated_at=moment)
    db.add(workflow)
    return workflow


def new_error(
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
    """Add an error of ``workflow`` with example content; keyword arguments vary it."""
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


def new_jira_auth_error(
    db: Session,
    workflow: WorkflowSession,
    message: str,
    *,
    file: UploadedFile | None = None,
    ticket: Ticket | None = None,
) -> SessionError:
    """Add the blocking, admin-required ``JIRA_AUTH_401`` error of the Jira export."""
    return new_error(
        db,
        workflow,
        category=ErrorCategory.ADMIN_REQUIRED,
        severity=ErrorSeverity.BLOCKING,
        stage=OperationStage.JIRA_EXPORT,
        message=message,
        code="JIRA_AUTH_401",
        file=file,
        ticket=ticket,
    )


def stored_row(db: Session, error_id: uuid.UUID) -> dict[str, Any] | None:
    """The stored row of error ``error_id`` as a dict (None when it is gone)."""
    table = table_of(SessionError)
    row = db.execute(select(table).where(table.c.id == error_id)).mappings().one_or_none()
    return dict(row) if row is not None else None


def plural(count: int, word: str) -> str:
    """``"1 error"`` / ``"2 errors"``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def engine_from_url(url: str | DatabaseURL, *, sqlite_foreign_keys: bool = True) -> Engine:
    """An engine for ``url``: SQLite with the kit's listeners, PostgreSQL via psycopg2.

    The URL is read as the checker reads it (:func:`sessionerror.connect.normalise_url`):
    ``postgres://`` and ``postgresql://`` mean ``postgresql+psycopg2://``. With
    ``sqlite_foreign_keys=False`` SQLite gets a plain engine (foreign keys off), to show what
    goes wrong.
    """
    real, engine_kwargs = normalise_url(url)
    if DatabaseURL(real).backend == "sqlite" and sqlite_foreign_keys:
        return create_sqlite_engine(real, **engine_kwargs)
    return create_engine(real, **engine_kwargs)
