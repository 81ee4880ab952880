"""Deep nesting through the application's path: a clear error, no RecursionError, no row."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from sessionerror.errors import ErrorDataValidationError
from sessionerror.models import WorkflowSession
from sessionerror.models.enums import ErrorCategory
from sessionerror.models.validation import MAX_NESTING_DEPTH
from sessionerror.redaction import redact
from sessionerror.runtime.repository import SessionErrorRepository


def _nested(depth: int, as_dict: bool) -> Any:
    value: Any = "password=s3cr3t-pw"
    for _ in range(depth):
        value = {"k": value} if as_dict else [value]
    return value


def _rows(db: Session) -> int:
    return int(db.execute(text("SELECT count(*) FROM session_errors")).scalar_one())


@pytest.mark.parametrize("depth", [500, 10_000])
@pytest.mark.parametrize("as_dict", [True, False], ids=["dicts", "lists"])
@pytest.mark.parametrize("field", ["technical_details", "recovery_actions"])
def test_record_refuses_deep_nesting(
    sessionerror_db: Session, field: str, as_dict: bool, depth: int
) -> None:
    session = WorkflowSession(name="deep")
    sessionerror_db.add(session)
    sessionerror_db.flush()
    before = _rows(sessionerror_db)
    deep = {"actions": ["Retry"], "deep": _nested(depth, as_dict)}
    fields: dict[str, Any] = {"technical_details": None, "recovery_actions": ["Retry"]}
    fields[field] = deep
    with pytest.raises(ErrorDataValidationError) as info:
        SessionErrorRepository(sessionerror_db).record(
            session_id=session.id,
            category="user_fixable",
            severity="blocking",
            stage="upload",
            user_message="The file is nested too deeply",
            recovery_actions=fields["recovery_actions"],
            technical_details=fields["technical_details"],
        )
    assert info.value.category is ErrorCategory.ADMIN_REQUIRED
    assert f"nested more than {MAX_NESTING_DEPTH} levels deep" in info.value.message
    assert "flatten" in info.value.message  # says how to fix it
    assert _rows(sessionerror_db) == before


def test_redact_handles_any_depth_without_recursion() -> None:
    cleaned = redact({"deep": _nested(10_000, True)})
    node = cleaned["deep"]
    for _ in range(10_000):
        node = node["k"]
    assert node == "password=[REDACTED]"
