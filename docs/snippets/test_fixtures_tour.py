import pytest
from sqlalchemy import func, select

from sessionerror import SessionError
from sessionerror.factories import SessionErrorFactory


def test_blocking(sessionerror_db):  # runs once per selected backend
    error = SessionErrorFactory(blocking=True)  # persisted into sessionerror_db
    sessionerror_db.commit()  # allowed: rolled back after the test
    assert SessionError.has_blocking_errors(error.session_id)


@pytest.mark.sessionerror(committed=True)  # real commits; the template's state comes back after
def test_two_connections(sessionerror_db, sessionerror_engine):
    SessionErrorFactory()
    sessionerror_db.commit()
    with sessionerror_engine.connect() as other:  # a second connection sees the commit
        assert other.execute(select(func.count()).select_from(SessionError)).scalar() == 1


@pytest.mark.sessionerror(backends=["postgresql"])  # only where it applies
def test_jsonb_only(sessionerror_db):
    assert sessionerror_db.get_bind().dialect.name == "postgresql"


@pytest.mark.sessionerror_data("jira_export_blocked")  # load a data set first
def test_gate(sessionerror_db, sessionerror_assert_max_queries):
    session_id = sessionerror_db.scalars(select(SessionError.session_id)).first()
    with sessionerror_assert_max_queries(1):
        assert SessionError.has_blocking_errors(session_id)
