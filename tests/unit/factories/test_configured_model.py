"""``sessionerror_model`` in process (issue 18): with a team's class configured, the kit's
factory classes, the repositories' default and ``load_dataset`` write the team's classes; unset
again, the reference ones. SQLite only (the pytester project runs both backends)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from team_schema import TeamBase, TeamError, TeamSession, TeamTicket

from sessionerror import SessionErrorRepository, bind_session
from sessionerror.datasets import load_dataset
from sessionerror.engines.sqlite import create_sqlite_engine
from sessionerror.factories import SessionErrorFactory, TicketFactory, WorkflowSessionFactory
from sessionerror.runtime.model_choice import configure_model, configured_model
from sessionerror.runtime.retention import session_model_or_reference
from sessionerror.scenarios.registry import run_example


@pytest.fixture
def team_db(tmp_path: Path) -> Iterator[Session]:
    engine = create_sqlite_engine(tmp_path / "team.sqlite3")
    TeamBase.metadata.create_all(engine)
    with Session(engine) as db, bind_session(db):
        yield db
    engine.dispose()


@pytest.fixture
def team_model() -> Iterator[None]:
    previous = configure_model(TeamError)
    yield
    assert configure_model(previous) is TeamError


@pytest.mark.usefixtures("team_model")
def test_the_kits_factory_classes_create_the_configured_classes(team_db: Session) -> None:
    error = SessionErrorFactory(blocking=True, with_ticket=True, review=True)
    assert type(error) is TeamError and type(error.session) is TeamSession
    assert type(team_db.get(TeamTicket, error.related_ticket_id)) is TeamTicket
    assert type(WorkflowSessionFactory()) is TeamSession and type(TicketFactory()) is TeamTicket
    assert SessionErrorRepository(team_db).model is TeamError
    assert session_model_or_reference(None) is TeamSession  # purge_expired_sessions' default


@pytest.mark.usefixtures("team_model")
def test_a_data_set_is_written_as_the_configured_classes(team_db: Session) -> None:
    loaded = load_dataset(team_db, "retention_mixed")
    assert {type(error) for error in loaded.errors.values()} == {TeamError}
    sessions = team_db.scalars(select(TeamSession)).all()
    assert len(sessions) == len(loaded.sessions)
    assert len({session.jira_user_id for session in sessions}) == len(sessions)  # filled, unique


def test_model_given_to_load_dataset_needs_no_setting(team_db: Session) -> None:
    assert configured_model() is None
    loaded = load_dataset(team_db, "upload_rejected", model=TeamError)
    assert {type(error) for error in loaded.errors.values()} == {TeamError}


@pytest.mark.usefixtures("team_model")
def test_the_scenarios_run_on_the_configured_schema() -> None:
    for name in ("cascade", "set_null", "blocking_gate"):
        result = run_example(name)
        assert result.ok, result.report()
    # The 7-day cleanup needs sessions.created_at, which this team's sessions do not have.
    cleanup = run_example("cleanup_7_day")
    assert not cleanup.ok and "has no attribute 'created_at'" in cleanup.report()
