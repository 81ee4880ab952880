"""Python types of the stored values: the same on every backend."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from sessionerror.models import SessionError
from sessionerror.models.enums import ErrorCategory, ErrorSeverity
from sessionerror.models.types import utcnow

from .conftest import MakeError, Parents, raw_id, raw_insert


def _reload(db: Session, error_id: uuid.UUID) -> SessionError:
    db.expire_all()
    return db.execute(select(SessionError).where(SessionError.id == error_id)).scalar_one()


def test_ids_come_back_as_uuid(
    sessionerror_db: Session, make_error: MakeError, parents: Parents
) -> None:
    error = make_error(related_file_id=parents.file.id, related_ticket_id=parents.ticket.id)
    loaded = _reload(sessionerror_db, error.id)
    for name, expected in [
        ("id", error.id),
        ("session_id", parents.session.id),
        ("related_file_id", parents.file.id),
        ("related_ticket_id", parents.ticket.id),
    ]:
        value = getattr(loaded, name)
        assert isinstance(value, uuid.UUID), name
        assert value == expected


def test_id_is_generated_at_construction(parents: Parents) -> None:
    error = SessionError(
        session_id=parents.session.id,
        error_category="temporary",
        severity="info",
        operation_stage="review",
        user_message="x",
        recovery_actions={"actions": []},
    )
    assert isinstance(error.id, uuid.UUID)
    assert error.technical_details == {}


def test_json_fields_come_back_as_dicts(sessionerror_db: Session, make_error: MakeError) -> None:
    details = {"status": 502, "body": {"errors": ["bad gateway"], "ok": False}, "ratio": 0.5}
    actions = {"actions": ["Wait", "Retry"], "docs": "https://example.test/help"}
    error = make_error(technical_details=details, recovery_actions=actions)
    loaded = _reload(sessionerror_db, error.id)
    assert loaded.technical_details == details
    assert loaded.recovery_actions == actions
    assert isinstance(loaded.technical_details, dict)  # a MutableDict: changes are tracked
    assert isinstance(loaded.recovery_actions, dict)


def test_enums_come_back_as_members(sessionerror_db: Session, make_error: MakeError) -> None:
    error = make_error(error_category="temporary", severity="warning")
    loaded = _reload(sessionerror_db, error.id)
    assert loaded.error_category is ErrorCategory.TEMPORARY
    assert loaded.severity is ErrorSeverity.WARNING


def test_created_at_is_aware_utc_and_set_at_insert(
    sessionerror_db: Session, make_error: MakeError
) -> None:
    before = utcnow()
    error = make_error()
    after = utcnow()
    loaded = _reload(sessionerror_db, error.id)
    assert loaded.created_at.tzinfo is not None
    assert loaded.created_at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= loaded.created_at <= after + timedelta(seconds=1)


def test_created_at_of_raw_insert_reads_back_aware(
    sessionerror_db: Session, parents: Parents
) -> None:
    """The server default / CURRENT_TIMESTAMP text also comes back aware."""
    new_id = raw_insert(sessionerror_db, parents.session.id)
    loaded = _reload(sessionerror_db, new_id)
    assert loaded.created_at.utcoffset() == timedelta(0)
    assert abs(loaded.created_at - utcnow()) < timedelta(minutes=5)


def test_other_offsets_are_normalised_to_utc(
    sessionerror_db: Session, make_error: MakeError
) -> None:
    plus_two = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    error = make_error(created_at=plus_two)
    loaded = _reload(sessionerror_db, error.id)
    assert loaded.created_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert loaded.created_at.tzinfo == UTC
    stored = sessionerror_db.execute(
        text("SELECT created_at FROM session_errors WHERE id = :id"),
        {"id": raw_id(sessionerror_db, error.id)},
    ).scalar_one()
    assert "10:00" in str(stored)


def test_naive_datetimes_are_refused(sessionerror_db: Session, make_error: MakeError) -> None:
    before = sessionerror_db.execute(text("SELECT count(*) FROM session_errors")).scalar_one()
    with pytest.raises(StatementError, match="naive datetime"), sessionerror_db.begin_nested():
        make_error(created_at=datetime(2024, 5, 1, 12, 0))
    after = sessionerror_db.execute(text("SELECT count(*) FROM session_errors")).scalar_one()
    assert after == before
