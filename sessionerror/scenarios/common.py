"""What the scenarios share: the result they report, a rolled-back session, row builders, and
the engine the command line opens.

The rows are of the reference schema, or of the team's when ``sessionerror_model`` names a class
(:func:`~sessionerror.runtime.model_choice.configure_model`): its parents are found from its
foreign keys and their NOT NULL columns filled as its factories fill them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, func, select
from sqlalchemy.orm import Session

from sessionerror.connect import normalise_url
from sessionerror.engines.sqlite import create_sqlite_engine
from sessionerror.errors import UsageError, first_line
from sessionerror.models import (
    Base,
    SessionError,
    Ticket,
    UploadedFile,
    WorkflowSession,
)
from sessionerror.models.base import table_of
from sessionerror.models.binding import bind_session
from sessionerror.models.enums import ErrorCategory, ErrorSeverity, OperationStage
from sessionerror.models.types import utcnow
from sessionerror.runtime.model_choice import configured_model
from sessionerror.urls import DatabaseURL

if TYPE_CHECKING:
    from sessionerror.factories import ModelFactories

__all__ = [
    "FK_HINT",
    "ScenarioClasses",
    "ScenarioResult",
    "count_rows",
    "engine_from_url",
    "fk_hint",
    "foreign_keys_enforced",
    "new_error",
    "new_file",
    "new_jira_auth_error",
    "new_session",
    "new_ticket",
    "plural",
    "rolled_back",
    "scenario_classes",
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


@dataclass(frozen=True)
class ScenarioClasses:
    """The classes a scenario writes; ``factories`` None for the reference schema."""

    error: type[Any]
    session: type[Any]
    file: type[Any]
    ticket: type[Any]
    metadata: MetaData
    factories: ModelFactories | None = None


def scenario_classes() -> ScenarioClasses:
    """The reference classes, or the ``sessionerror_model`` class and its parents."""
    model = configured_model()
    if model is None or model is SessionError:
        return ScenarioClasses(SessionError, WorkflowSession, UploadedFile, Ticket, Base.metadata)
    from sessionerror.factories import factories_for  # factory-boy: only for a team's model

    built = factories_for(model)
    if built.uploaded_file is None or built.ticket is None:
        raise UsageError(
            f"the scenarios need files and tickets: {model.__name__} (sessionerror_model) has "
            "no foreign key to uploaded_files or tickets"
        )
    return ScenarioClasses(
        model,
        built.session._meta.model,
        built.uploaded_file._meta.model,
        built.ticket._meta.model,
        model.metadata,
        built,
    )


def _create(db: Session, factory: Any, row: dict[str, Any], **parents: Any) -> Any:
    """One row of the team's schema: ``row`` where its class has the column, the rest filled."""
    from sessionerror.factories.dataset_rows import given_values

    with bind_session(db):
        return factory.create(**parents, **given_values(factory, row))


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
            scenario_classes().metadata.create_all(connection, checkfirst=True)
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


def new_session(db: Session, name: str, *, created_at: datetime | None = None) -> Any:
    """Add a workflow session named ``name`` (created now unless ``created_at``)."""
    moment = created_at or utcnow()
    row = {"name": name, "created_at": moment, "updated_at": moment}
    built = scenario_classes().factories
    if built is not None:
        return _create(db, built.session, row)
    workflow = WorkflowSession(**row)
    db.add(workflow)
    return workflow


def new_file(db: Session, workflow: Any, filename: str) -> Any:
    """Add an uploaded file of ``workflow``."""
    built = scenario_classes().factories
    if built is not None and built.uploaded_file is not None:
        return _create(db, built.uploaded_file, {"filename": filename}, session=workflow)
    file = UploadedFile(session=workflow, filename=filename)
    db.add(file)
    return file


def new_ticket(db: Session, workflow: Any, summary: str) -> Any:
    """Add a ticket of ``workflow`` (no Jira key yet)."""
    built = scenario_classes().factories
    if built is not None and built.ticket is not None:
        return _create(db, built.ticket, {"summary": summary, "title": summary}, session=workflow)
    ticket = Ticket(session=workflow, summary=summary)
    db.add(ticket)
    return ticket


def new_error(
    db: Session,
    workflow: Any,
    *,
    category: ErrorCategory = ErrorCategory.USER_FIXABLE,
    severity: ErrorSeverity = ErrorSeverity.WARNING,
    stage: OperationStage = OperationStage.PROCESSING,
    message: str = "Row 12 has a due date we cannot read.",
    code: str = "PARSE_INVALID_DATE",
    file: Any = None,
    ticket: Any = None,
    created_at: datetime | None = None,
) -> Any:
    """Add an error of ``workflow`` with example content; keyword arguments vary it."""
    row = {
        "error_category": category,
        "severity": severity,
        "operation_stage": stage.value,
        "user_message": message,
        "recovery_actions": {"actions": ["Correct the file.", "Upload it again."]},
        "technical_details": {"kind": "example", "stage": stage.value},
        "error_code": code,
        "created_at": created_at or utcnow(),
    }
    links = {"session": workflow, "related_file": file, "related_ticket": ticket}
    built = scenario_classes().factories
    if built is not None:
        return _create(db, built.session_error, row, **links)
    error = SessionError(**links, **row)
    db.add(error)
    return error


def new_jira_auth_error(
    db: Session,
    workflow: Any,
    message: str,
    *,
    file: Any = None,
    ticket: Any = None,
) -> Any:
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
    table = table_of(scenario_classes().error)
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
