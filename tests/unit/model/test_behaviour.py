"""Instance methods and properties of SessionError (spec §4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from sessionerror.models import SessionError
from sessionerror.models.enums import ErrorCategory, ErrorSeverity
from sessionerror.models.types import utcnow

from .conftest import MakeError, Parents, valid_fields


@pytest.mark.parametrize(
    ("severity", "blocking"),
    [
        (ErrorSeverity.BLOCKING, True),
        (ErrorSeverity.WARNING, False),
        (ErrorSeverity.INFO, False),
        ("blocking", True),
        ("info", False),
    ],
)
def test_is_blocking(make_error: MakeError, severity: object, blocking: bool) -> None:
    assert make_error(severity=severity).is_blocking() is blocking


@pytest.mark.parametrize(
    ("category", "user_fixable", "admin"),
    [
        (ErrorCategory.USER_FIXABLE, True, False),
        (ErrorCategory.ADMIN_REQUIRED, False, True),
        (ErrorCategory.TEMPORARY, False, False),
        ("admin_required", False, True),
    ],
)
def test_category_properties(
    sessionerror_db: Session,
    make_error: MakeError,
    category: object,
    user_fixable: bool,
    admin: bool,
) -> None:
    error = make_error(error_category=category)
    sessionerror_db.expire(error)  # read back from the database
    assert error.is_user_fixable is user_fixable
    assert error.requires_admin is admin


@pytest.mark.parametrize(
    "actions",
    [[], ["Retry"], ["Check the file", "Fix row 3", "Upload again"]],
)
def test_get_recovery_action_list(
    sessionerror_db: Session, make_error: MakeError, actions: list[str]
) -> None:
    error = make_error(recovery_actions={"actions": actions, "help_url": "https://x.test"})
    sessionerror_db.expire(error)
    result = error.get_recovery_action_list()
    assert result == actions
    assert isinstance(result, list)


def test_get_recovery_action_list_returns_a_copy(make_error: MakeError) -> None:
    error = make_error(recovery_actions={"actions": ["Retry"]})
    error.get_recovery_action_list().append("mutated")
    assert error.get_recovery_action_list() == ["Retry"]


def test_age_minutes(sessionerror_db: Session, make_error: MakeError) -> None:
    error = make_error(created_at=utcnow() - timedelta(minutes=90))
    sessionerror_db.expire(error)
    assert error.age_minutes == pytest.approx(90, abs=0.5)


def test_age_minutes_of_a_fresh_error_is_near_zero(make_error: MakeError) -> None:
    assert 0 <= make_error().age_minutes < 0.5


def test_age_minutes_before_flush_is_zero(parents: Parents) -> None:
    assert SessionError(**valid_fields(parents.session.id)).age_minutes == 0.0


def test_to_user_dict_never_includes_technical_details(
    sessionerror_db: Session, make_error: MakeError, parents: Parents
) -> None:
    error = make_error(
        technical_details={"stack": "Traceback ... secret internals", "query": "SELECT 1"},
        error_category="temporary",
        severity="warning",
        operation_stage="jira_export",
    )
    sessionerror_db.expire(error)
    view = error.to_user_dict()
    assert "technical_details" not in view
    assert "secret internals" not in repr(view)
    assert "SELECT 1" not in repr(view)
    assert view["id"] == str(error.id)
    assert view["session_id"] == str(parents.session.id)
    assert view["error_category"] == "temporary"
    assert view["severity"] == "warning"
    assert view["operation_stage"] == "jira_export"
    assert view["user_message"] == "The file has no header row"
    assert view["recovery_actions"] == ["Add a header row", "Upload again"]
    assert view["error_code"] == "UPLOAD_NO_HEADER"
    assert view["is_blocking"] is False
    assert view["created_at"].endswith("+00:00")


def test_repr_shows_values(make_error: MakeError) -> None:
    text = repr(make_error(error_category="temporary", severity="info"))
    assert "temporary/info" in text
    assert "upload" in text
