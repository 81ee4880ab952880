"""The factories: traits, parents, links, redaction, seeding, binding and the bulk path."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sessionerror import NoSessionBoundError
from sessionerror.factories import (
    SessionErrorFactory,
    TicketFactory,
    UploadedFileFactory,
    WorkflowSessionFactory,
    bulk_create_history,
    error_template,
    seed_factories,
)
from sessionerror.models import SessionError, Ticket, UploadedFile, WorkflowSession
from sessionerror.models.enums import ErrorCategory, ErrorSeverity, OperationStage
from sessionerror.models.validation import ERROR_FIELD_VALIDATORS
from sessionerror.redaction import REDACTED

SECRET = "hunter2SECRETvalue0123456"


def stored(db: Session, error: SessionError) -> dict[str, Any]:
    """The error's row as the database holds it (not the identity map)."""
    table = SessionError.__table__
    row = db.execute(select(table).where(table.c.id == error.id)).mappings().one()
    return dict(row)


def count(db: Session, model: type[Any]) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_session_error_alone_creates_a_valid_row_with_its_parent(sessionerror_db: Session) -> None:
    error = SessionErrorFactory()
    row = stored(sessionerror_db, error)
    assert row["session_id"] == error.session.id
    parent = sessionerror_db.get(WorkflowSession, row["session_id"])
    assert parent is not None and parent.name
    assert row["user_message"].strip()
    assert error.get_recovery_action_list()
    assert row["related_file_id"] is None and row["related_ticket_id"] is None


@pytest.mark.parametrize("severity", list(ErrorSeverity))
def test_severity_traits(sessionerror_db: Session, severity: ErrorSeverity) -> None:
    error = SessionErrorFactory(**{severity.value: True})
    assert stored(sessionerror_db, error)["severity"] == severity
    assert error.is_blocking() is (severity is ErrorSeverity.BLOCKING)
    assert SessionError.has_blocking_errors(error.session_id) is (
        severity is ErrorSeverity.BLOCKING
    )


@pytest.mark.parametrize("category", list(ErrorCategory))
def test_category_traits(sessionerror_db: Session, category: ErrorCategory) -> None:
    error = SessionErrorFactory(**{category.value: True})
    assert stored(sessionerror_db, error)["error_category"] == category
    assert SessionError.find_by_category(error.session_id, category) == [error]


@pytest.mark.parametrize("stage", list(OperationStage))
@pytest.mark.parametrize("category", list(ErrorCategory))
def test_stage_traits_with_matching_content(
    sessionerror_db: Session, stage: OperationStage, category: ErrorCategory
) -> None:
    error = SessionErrorFactory(**{stage.value: True, category.value: True}, secret=SECRET)
    row = stored(sessionerror_db, error)
    template = error_template(stage, category)
    assert row["operation_stage"] == stage.value
    assert row["error_code"] == template.error_code
    assert len(row["recovery_actions"]["actions"]) == len(template.recovery_actions)
    assert "{" not in row["user_message"]  # every placeholder was filled
    # The raw details carried the secret; nothing of it may reach the database.
    assert SECRET not in json.dumps(row["technical_details"])
    assert REDACTED in json.dumps(row["technical_details"]) or "***" in json.dumps(
        row["technical_details"]
    )


def test_jira_details_look_like_a_jira_response_with_the_header_redacted(
    sessionerror_db: Session,
) -> None:
    error = SessionErrorFactory(jira_export=True, admin_required=True, blocking=True)
    details = stored(sessionerror_db, error)["technical_details"]
    assert details["response"]["status"] == 401
    assert "X-AREQUESTID" in details["response"]["headers"]
    assert details["request"]["headers"]["Authorization"] == REDACTED


def test_parser_details_carry_a_stack_trace(sessionerror_db: Session) -> None:
    error = SessionErrorFactory(processing=True, user_fixable=True, secret=SECRET)
    details = stored(sessionerror_db, error)["technical_details"]
    assert details["stack_trace"].startswith("Traceback (most recent call last):")
    assert details["source_url"].endswith(f"token={REDACTED}")


def test_with_file_and_with_ticket_link_rows_of_the_same_session(sessionerror_db: Session) -> None:
    # upload: its messages name the file (a default error's stage varies)
    error = SessionErrorFactory(with_file=True, with_ticket=True, upload=True)
    row = stored(sessionerror_db, error)
    file = sessionerror_db.get(UploadedFile, row["related_file_id"])
    ticket = sessionerror_db.get(Ticket, row["related_ticket_id"])
    assert file is not None and ticket is not None
    assert file.session_id == ticket.session_id == row["session_id"]
    assert file.filename in error.user_message  # the message names the linked file
    assert count(sessionerror_db, WorkflowSession) >= 1


def test_with_ticket_names_the_ticket_in_the_message(sessionerror_db: Session) -> None:
    error = SessionErrorFactory(jira_export=True, with_ticket=True)
    assert error.related_ticket is not None
    assert error.related_ticket.summary in error.user_message


def test_explicit_session_id_is_kept_and_no_extra_parent_is_made(sessionerror_db: Session) -> None:
    parent = WorkflowSessionFactory()
    before = count(sessionerror_db, WorkflowSession)
    error = SessionErrorFactory(session_id=parent.id, with_file=True)
    assert stored(sessionerror_db, error)["session_id"] == parent.id
    assert error.related_file is not None and error.related_file.session_id == parent.id
    assert count(sessionerror_db, WorkflowSession) == before


def test_child_factories_make_their_parent(sessionerror_db: Session) -> None:
    file = UploadedFileFactory()
    ticket = TicketFactory(exported=True)
    assert file.session_id is not None and ticket.session_id is not None
    assert ticket.jira_key is not None and ticket.jira_key.startswith("OPS-")


def test_model_fixtures(
    sessionerror_db: Session,
    session_error: SessionError,
    uploaded_file: UploadedFile,
    ticket: Ticket,
    workflow_session: WorkflowSession,
    session_error_factory: Any,
) -> None:
    assert session_error_factory is SessionErrorFactory
    assert session_error.session_id == uploaded_file.session_id == ticket.session_id
    assert session_error.session_id == workflow_session.id
    assert stored(sessionerror_db, session_error)["id"] == session_error.id
    # the documented kind, whatever a default factory error draws
    assert (session_error.severity, session_error.error_category) == ("warning", "user_fixable")
    assert session_error.operation_stage == "upload"


def _snapshot() -> list[tuple[Any, ...]]:
    errors = [
        SessionErrorFactory(),
        SessionErrorFactory(jira_export=True, temporary=True, with_ticket=True),
        SessionErrorFactory(processing=True, with_file=True),
    ]
    return [
        (
            e.session.name,
            e.user_message,
            e.recovery_actions,
            e.technical_details,
            e.error_code,
            e.related_file.filename if e.related_file else None,
            e.related_ticket.summary if e.related_ticket else None,
        )
        for e in errors
    ]


def test_same_seed_gives_identical_data(sessionerror_db: Session) -> None:
    seed_factories(1234)
    first = _snapshot()
    seed_factories(1234)
    second = _snapshot()
    seed_factories(4321)
    other = _snapshot()
    assert first == second
    assert first != other


def test_each_field_is_validated_once_per_error(
    sessionerror_db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Construction validates every field once; the flush does not validate them again."""
    calls: Counter[str] = Counter()
    for field, validate in dict(ERROR_FIELD_VALIDATORS).items():

        def counted(value: object, field: str = field, validate: Any = validate) -> Any:
            calls[field] += 1
            return validate(value)

        monkeypatch.setitem(ERROR_FIELD_VALIDATORS, field, counted)
    error = SessionErrorFactory(blocking=True, jira_export=True)
    sessionerror_db.flush()
    assert calls == dict.fromkeys(ERROR_FIELD_VALIDATORS, 1)
    assert REDACTED in json.dumps(stored(sessionerror_db, error)["technical_details"])
    error.user_message = "Changed after creation"
    sessionerror_db.flush()
    assert calls["user_message"] == 2


def test_factories_without_a_trait_equal_factories_with_it_off(sessionerror_db: Session) -> None:
    """Unused traits are passed as False for speed; passing them yourself changes nothing."""
    seed_factories(7)
    implicit = SessionErrorFactory.build()
    seed_factories(7)
    explicit = SessionErrorFactory.build(blocking=False, with_file=False, review=False)
    assert implicit.user_message == explicit.user_message
    assert (implicit.severity, implicit.operation_stage) == (
        explicit.severity,
        explicit.operation_stage,
    )
    assert implicit.related_file is None and explicit.related_file is None


def test_unbound_use_raises_a_clear_error() -> None:
    with pytest.raises(NoSessionBoundError, match=r"bind_session\(db\)"):
        SessionErrorFactory()


def test_documented_binding_outside_pytest(tmp_path: Any) -> None:
    script = textwrap.dedent(
        """
        import sys
        from sqlalchemy import func, select
        from sqlalchemy.orm import Session
        import sessionerror
        from sessionerror.engines.sqlite import create_sqlite_engine
        from sessionerror.factories import SessionErrorFactory
        from sessionerror.models import Base, SessionError

        engine = create_sqlite_engine(sys.argv[1])
        Base.metadata.create_all(engine)
        try:
            SessionErrorFactory()
        except sessionerror.NoSessionBoundError as exc:
            print("unbound:", exc)
        with Session(engine) as db, sessionerror.bind_session(db):
            SessionErrorFactory(blocking=True, with_file=True)
            db.commit()
        with Session(engine) as db:
            print("stored:", db.scalar(select(func.count()).select_from(SessionError)))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "outside.db")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "unbound: sessionerror factories need a database session" in done.stdout
    assert "stored: 1" in done.stdout


def test_bulk_history_inserts_exact_counts(sessionerror_db: Session) -> None:
    sessions_before = count(sessionerror_db, WorkflowSession)
    errors_before = count(sessionerror_db, SessionError)
    stats = bulk_create_history(
        sessionerror_db, sessions=50, errors_per_session=10, seed=5, batch_size=64
    )
    assert (stats.sessions, stats.errors) == (50, 500)
    assert count(sessionerror_db, WorkflowSession) - sessions_before == 50
    assert count(sessionerror_db, SessionError) - errors_before == 500
    blocking = sessionerror_db.scalar(
        select(func.count())
        .select_from(SessionError)
        .where(SessionError.severity == ErrorSeverity.BLOCKING)
    )
    assert blocking == stats.blocking_errors
    assert stats.elapsed_seconds > 0


def test_bulk_rows_are_valid_redacted_and_reproducible(sessionerror_db: Session) -> None:
    first = bulk_create_history(sessionerror_db, sessions=20, errors_per_session=5, seed=9)
    second = bulk_create_history(sessionerror_db, sessions=20, errors_per_session=5, seed=9)
    assert first.blocking_errors == second.blocking_errors
    errors = sessionerror_db.scalars(select(SessionError).limit(50)).all()
    assert errors
    for error in errors:
        before = json.dumps(error.technical_details, sort_keys=True)
        error.validate()  # the model's own checks pass on bulk rows; redaction is a no-op
        assert json.dumps(error.technical_details, sort_keys=True) == before
        assert error.session is not None
        assert error.session.created_at <= error.created_at


def test_bulk_history_respects_the_blocking_ratio_bounds(sessionerror_db: Session) -> None:
    none = bulk_create_history(
        sessionerror_db, sessions=5, errors_per_session=4, blocking_ratio=0.0
    )
    every = bulk_create_history(
        sessionerror_db, sessions=5, errors_per_session=4, blocking_ratio=1.0
    )
    assert (none.blocking_errors, every.blocking_errors) == (0, 20)
    with pytest.raises(ValueError, match="blocking_ratio"):
        bulk_create_history(sessionerror_db, sessions=1, errors_per_session=1, blocking_ratio=2)


def test_bulk_path_stays_in_the_callers_transaction(sessionerror_db: Session) -> None:
    sessionerror_db.commit()  # a savepoint boundary under the rolled-back fixture
    before = count(sessionerror_db, SessionError)
    bulk_create_history(sessionerror_db, sessions=3, errors_per_session=2)
    assert count(sessionerror_db, SessionError) == before + 6
    sessionerror_db.rollback()  # nothing was committed by the bulk path
    assert count(sessionerror_db, SessionError) == before
