# Run with: sessionerror_model = own_model_app:AppError (ini, --sessionerror-model or env)
import pytest
from own_model_app import AppError, AppSession, AppTicket
from sqlalchemy import func, select

from sessionerror import SessionErrorRepository
from sessionerror.factories import SessionErrorFactory


def test_the_row_fixtures_are_your_classes(session_error, workflow_session):
    assert isinstance(session_error, AppError)
    assert isinstance(workflow_session, AppSession)
    assert workflow_session.jira_user_id  # NOT NULL, filled by type


def test_the_factories_and_the_repository_too(sessionerror_db, session_error_factory):
    error = session_error_factory(blocking=True, with_ticket=True)
    assert sessionerror_db.get(AppTicket, error.related_ticket_id).title
    assert isinstance(SessionErrorFactory(), AppError)  # the kit's class, your model
    repo = SessionErrorRepository(sessionerror_db)  # model=AppError by default
    assert repo.has_blocking_errors(error.session_id)


@pytest.mark.sessionerror_data("jira_export_blocked")
def test_data_sets_load_your_rows(sessionerror_db):
    assert sessionerror_db.scalar(select(func.count()).select_from(AppError)) == 2
