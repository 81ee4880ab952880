from sqlalchemy.orm import Session

from sessionerror import Base, ErrorCategory, SessionError, WorkflowSession, bind_session
from sessionerror.engines.sqlite import create_sqlite_engine

engine = create_sqlite_engine(":memory:")  # foreign keys on, like every kit engine
Base.metadata.create_all(engine)

with Session(engine) as db:
    session = WorkflowSession(name="Q3 invoices")
    error = SessionError(
        session=session,
        error_category=ErrorCategory.USER_FIXABLE,  # or "user_fixable"
        severity="blocking",
        operation_stage="upload",
        user_message="The file has no header row",
        recovery_actions={"actions": ["Add a header row", "Upload the file again"]},
        technical_details={"headers": {"Authorization": "Bearer abc"}},
    )
    db.add_all([session, error])
    db.flush()

    assert error.is_blocking()
    assert error.get_recovery_action_list() == ["Add a header row", "Upload the file again"]
    assert error.is_user_fixable and not error.requires_admin and error.age_minutes >= 0
    assert error.technical_details == {"headers": {"Authorization": "[REDACTED]"}}
    assert "technical_details" not in error.to_user_dict()  # user-facing view
    assert SessionError.find_by_category(session.id, "user_fixable", db=db) == [error]
    assert SessionError.has_blocking_errors(session.id, db=db)  # one EXISTS query
    with bind_session(db):  # or bind once for the class methods (and the factories)
        assert SessionError.has_blocking_errors(session.id)
