"""The 7-day cleanup: old sessions go with their errors; recent errors stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from sessionerror.models import SessionError, Ticket, UploadedFile, WorkflowSession
from sessionerror.models.types import utcnow
from sessionerror.runtime.retention import DEFAULT_RETENTION_DAYS, purge_expired_sessions

from .conftest import Parents, make_parents, valid_fields


def _aged(db: Session, name: str, days: float) -> Parents:
    parents = make_parents(db, name)
    parents.session.created_at = utcnow() - timedelta(days=days)
    db.add_all(
        [
            SessionError(
                **valid_fields(
                    parents.session.id,
                    related_file_id=parents.file.id,
                    related_ticket_id=parents.ticket.id,
                )
            ),
            SessionError(**valid_fields(parents.session.id, severity="info")),
        ]
    )
    db.flush()
    return parents


def _errors_of(db: Session, session_id: object) -> list[SessionError]:
    return list(db.scalars(select(SessionError).where(SessionError.session_id == session_id)))


def test_default_is_seven_days() -> None:
    assert DEFAULT_RETENTION_DAYS == 7


def test_purge_removes_old_sessions_with_their_errors_and_keeps_recent_ones(
    sessionerror_db: Session,
) -> None:
    old = _aged(sessionerror_db, "old", days=8)
    older = _aged(sessionerror_db, "older", days=30)
    recent = _aged(sessionerror_db, "recent", days=6)
    ids = {name: p.session.id for name, p in [("old", old), ("older", older), ("recent", recent)]}
    # the recent session's file and ticket were cleaned up already
    sessionerror_db.execute(delete(UploadedFile).where(UploadedFile.id == recent.file.id))
    sessionerror_db.execute(delete(Ticket).where(Ticket.id == recent.ticket.id))

    assert purge_expired_sessions(sessionerror_db) == 2

    remaining = set(sessionerror_db.scalars(select(WorkflowSession.id)))
    assert ids["old"] not in remaining and ids["older"] not in remaining
    assert ids["recent"] in remaining
    assert _errors_of(sessionerror_db, ids["old"]) == []
    assert _errors_of(sessionerror_db, ids["older"]) == []
    kept = _errors_of(sessionerror_db, ids["recent"])
    assert len(kept) == 2
    assert all(e.related_file_id is None and e.related_ticket_id is None for e in kept)
    for model in (UploadedFile, Ticket):
        assert (
            sessionerror_db.scalar(
                select(func.count()).select_from(model).where(model.session_id == ids["old"])
            )
            == 0
        )


@pytest.mark.parametrize(("days", "purged"), [(1, 3), (7, 1), (10, 0), (0, 3)])
def test_purge_threshold(sessionerror_db: Session, days: float, purged: int) -> None:
    now = utcnow()
    for age in (2, 5, 9):
        _aged(sessionerror_db, f"s{age}", days=age)
    assert purge_expired_sessions(sessionerror_db, older_than_days=days, now=now) == purged
    assert sessionerror_db.scalar(select(func.count()).select_from(WorkflowSession)) == 3 - purged


def test_purge_does_not_commit(sessionerror_db: Session) -> None:
    _aged(sessionerror_db, "old", days=9)
    nested = sessionerror_db.begin_nested()
    assert purge_expired_sessions(sessionerror_db) == 1
    nested.rollback()
    assert sessionerror_db.scalar(select(func.count()).select_from(SessionError)) == 2


def test_negative_days_are_refused(sessionerror_db: Session) -> None:
    with pytest.raises(ValueError, match="older_than_days"):
        purge_expired_sessions(sessionerror_db, older_than_days=-1)
