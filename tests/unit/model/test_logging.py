"""Logging of the error lifecycle (spec §7)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.orm import Session

from sessionerror.errors import ErrorDataValidationError
from sessionerror.models import SessionError
from sessionerror.models.audit import (
    AUDIT,
    LOGGER_NAME,
    audit_resolution_attempt,
    audit_user_action,
)

from .conftest import MakeError, Parents, valid_fields


def _records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER_NAME and r.levelno == level]


@pytest.fixture(autouse=True)
def _capture_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)


def test_info_line_exactly_once_per_persisted_error(
    sessionerror_db: Session,
    caplog: pytest.LogCaptureFixture,
    make_error: MakeError,
    parents: Parents,
) -> None:
    caplog.clear()
    error = make_error(error_category="admin_required", user_message="Jira rejected the token")
    error.error_code = "JIRA_401"  # an UPDATE is not a creation
    sessionerror_db.flush()
    sessionerror_db.flush()
    infos = _records(caplog, logging.INFO)
    assert [r.getMessage() for r in infos] == [
        f"SessionError created for session {parents.session.id}: "
        "admin_required - Jira rejected the token"
    ]


def test_info_line_per_error_in_a_batch(
    sessionerror_db: Session, caplog: pytest.LogCaptureFixture, parents: Parents
) -> None:
    caplog.clear()
    messages = ["first problem", "second problem", "third problem"]
    sessionerror_db.add_all(
        [SessionError(**valid_fields(parents.session.id, user_message=m)) for m in messages]
    )
    sessionerror_db.flush()
    got = sorted(r.getMessage() for r in _records(caplog, logging.INFO))
    assert got == sorted(
        f"SessionError created for session {parents.session.id}: user_fixable - {m}"
        for m in messages
    )


def test_debug_line_names_stage_file_and_ticket(
    caplog: pytest.LogCaptureFixture, make_error: MakeError, parents: Parents
) -> None:
    caplog.clear()
    make_error(
        operation_stage="review",
        related_file_id=parents.file.id,
        related_ticket_id=parents.ticket.id,
    )
    make_error(operation_stage="processing")
    debugs = [r.getMessage() for r in _records(caplog, logging.DEBUG)]
    assert debugs == [
        f"Error linked to review stage, file: {parents.file.id}, ticket: {parents.ticket.id}",
        "Error linked to processing stage, file: None, ticket: None",
    ]


def test_no_creation_log_when_validation_fails(
    sessionerror_db: Session, caplog: pytest.LogCaptureFixture, parents: Parents
) -> None:
    caplog.clear()
    error = SessionError(**valid_fields(parents.session.id))
    error.recovery_actions.pop("actions")
    with pytest.raises(ErrorDataValidationError), sessionerror_db.begin_nested():
        sessionerror_db.add(error)
        sessionerror_db.flush()
    assert _records(caplog, logging.INFO) == []


def test_no_enum_names_in_log_lines(
    caplog: pytest.LogCaptureFixture, make_error: MakeError
) -> None:
    caplog.clear()
    make_error(error_category="temporary")
    text = " ".join(r.getMessage() for r in caplog.records)
    assert "ErrorCategory" not in text
    assert "TEMPORARY" not in text
    assert ": temporary - " in text


def test_audit_level_is_registered() -> None:
    assert AUDIT == 25
    assert logging.getLevelName(25) == "AUDIT"
    assert logging.INFO < AUDIT < logging.WARNING


def test_audit_resolution_attempt(caplog: pytest.LogCaptureFixture, make_error: MakeError) -> None:
    error = make_error()
    caplog.clear()
    audit_resolution_attempt(error, action="re-uploaded file", succeeded=False, actor="alice")
    audit_resolution_attempt(error, action="retry export", succeeded=True)
    records = _records(caplog, AUDIT)
    assert [r.levelname for r in records] == ["AUDIT", "AUDIT"]
    assert records[0].getMessage() == (
        f"Resolution attempt for error {error.id} in session {error.session_id} by alice: "
        "re-uploaded file (failed)"
    )
    assert "by system: retry export (succeeded)" in records[1].getMessage()
    assert records[0].sessionerror == {  # type: ignore[attr-defined]
        "error_id": str(error.id),
        "session_id": str(error.session_id),
        "action": "re-uploaded file",
        "outcome": "failed",
        "actor": "alice",
    }


def test_audit_user_action(caplog: pytest.LogCaptureFixture, make_error: MakeError) -> None:
    error = make_error()
    caplog.clear()
    audit_user_action(error, action="dismissed warning")
    (record,) = _records(caplog, AUDIT)
    assert record.levelname == "AUDIT"
    assert record.getMessage() == (
        f"User action on error {error.id} in session {error.session_id} by user: dismissed warning"
    )


def test_audit_passes_an_info_level_handler(
    caplog: pytest.LogCaptureFixture, make_error: MakeError
) -> None:
    error = make_error()
    caplog.clear()
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    audit_user_action(error, action="x")
    assert len(_records(caplog, AUDIT)) == 1
