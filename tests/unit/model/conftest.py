"""Shared helpers of the model tests: parent rows and a valid-error builder."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from sessionerror.models import SessionError, Ticket, UploadedFile, WorkflowSession
from sessionerror.models.enums import ErrorCategory, ErrorSeverity, OperationStage

#: The 12 columns of the spec, in the spec's order (written out here, not taken from the code).
SPEC_COLUMNS = [
    "id",
    "session_id",
    "error_category",
    "severity",
    "operation_stage",
    "related_file_id",
    "related_ticket_id",
    "user_message",
    "recovery_actions",
    "technical_details",
    "error_code",
    "created_at",
]


@dataclass
class Parents:
    """A committed-or-flushed session with one file and one ticket."""

    session: WorkflowSession
    file: UploadedFile
    ticket: Ticket

    @property
    def ids(self) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
        return self.session.id, self.file.id, self.ticket.id


def make_parents(db: Session, name: str = "batch") -> Parents:
    """Add a workflow session with a file and a ticket, and flush."""
    session = WorkflowSession(name=name)
    file = UploadedFile(session=session, filename=f"{name}.csv")
    ticket = Ticket(session=session, summary=f"{name} ticket")
    db.add_all([session, file, ticket])
    db.flush()
    return Parents(session, file, ticket)


def valid_fields(session_id: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments of a valid SessionError."""
    fields: dict[str, Any] = {
        "session_id": session_id,
        "error_category": ErrorCategory.USER_FIXABLE,
        "severity": ErrorSeverity.BLOCKING,
        "operation_stage": OperationStage.UPLOAD.value,
        "user_message": "The file has no header row",
        "recovery_actions": {"actions": ["Add a header row", "Upload again"]},
        "technical_details": {"row": 1},
        "error_code": "UPLOAD_NO_HEADER",
    }
    fields.update(overrides)
    return fields


def count_errors(db: Session) -> int:
    """Rows in session_errors, counted by the database."""
    return int(db.execute(text("SELECT count(*) FROM session_errors")).scalar_one())


@pytest.fixture
def parents(sessionerror_db: Session) -> Parents:
    return make_parents(sessionerror_db)


MakeError = Callable[..., SessionError]


@pytest.fixture
def make_error(sessionerror_db: Session, parents: Parents) -> MakeError:
    """Build, add and flush a valid SessionError of ``parents.session`` (fields overridable)."""

    def build(**overrides: Any) -> SessionError:
        error = SessionError(**valid_fields(parents.session.id, **overrides))
        sessionerror_db.add(error)
        sessionerror_db.flush()
        return error

    return build


def raw_id(db: Session, value: uuid.UUID | None) -> str | None:
    """``value`` as the database stores it (hex CHAR(32) on SQLite, uuid text on PostgreSQL)."""
    if value is None:
        return None
    assert db.bind is not None
    return value.hex if db.bind.dialect.name == "sqlite" else str(value)


def raw_insert(db: Session, session_id: uuid.UUID, **overrides: Any) -> uuid.UUID:
    """INSERT one row with raw SQL (no ORM validation); columns overridable as SQL literals."""
    new_id = uuid.uuid4()
    values: dict[str, Any] = {
        "id": raw_id(db, new_id),
        "session_id": raw_id(db, session_id),
        "error_category": "user_fixable",
        "severity": "blocking",
        "operation_stage": "upload",
        "user_message": "Something went wrong",
        "recovery_actions": '{"actions": ["Retry"]}',
        "technical_details": "{}",
    }
    values.update(overrides)
    columns = ", ".join(values)
    params = ", ".join(f":{name}" for name in values)
    db.execute(
        text(
            f"INSERT INTO session_errors ({columns}, created_at) "
            f"VALUES ({params}, CURRENT_TIMESTAMP)"
        ),
        values,
    )
    return new_id
