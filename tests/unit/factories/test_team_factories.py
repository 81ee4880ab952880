"""factories_for(): the kit's factories on a team's own schema, sync and async, both backends.

The schema (``team_schema``) has its own Base, parents with NOT NULL columns the kit does not
know, and the mixin model with a NOT NULL column of its own. Each test runs in a transaction on
a SQLite file or on a throwaway PostgreSQL database, rolled back at the end.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session
from team_schema import Plan, TeamBase, TeamError, TeamFile, TeamSession, TeamTicket

from sessionerror import bind_async_session, bind_session
from sessionerror.engines.sqlite import create_sqlite_engine, install_sqlite_listeners
from sessionerror.factories import (
    ModelFactories,
    SessionErrorFactory,
    TicketFactory,
    UploadedFileFactory,
    WorkflowSessionFactory,
    factories_for,
    seed_factories,
)
from sessionerror.models import SessionError
from sessionerror.models.enums import ErrorCategory, ErrorSeverity, OperationStage
from sessionerror.testdb.postgres.janitor import DatabaseJanitor


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def team_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A database holding the team's schema: a SQLite file, or a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("team") / "team.sqlite3"
        engine = create_sqlite_engine(path)
        TeamBase.metadata.create_all(engine)
        engine.dispose()
        yield make_url(f"sqlite:///{path}")
        return
    server = request.getfixturevalue("server_url")
    with DatabaseJanitor(server, worker="teamfactories") as url:
        engine = create_engine(url)
        TeamBase.metadata.create_all(engine)
        engine.dispose()
        yield make_url(url)


@pytest.fixture(scope="module")
def team_engine(team_url: Any) -> Iterator[Engine]:
    engine = (
        create_sqlite_engine(team_url)
        if team_url.get_backend_name() == "sqlite"
        else create_engine(team_url)
    )
    yield engine
    engine.dispose()


@pytest.fixture
def team_db(team_engine: Engine) -> Iterator[Session]:
    """A session bound for the factories, in a transaction rolled back at the end."""
    with team_engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection) as db, bind_session(db):
            yield db
        transaction.rollback()


@pytest_asyncio.fixture
async def team_async_db(team_url: Any) -> AsyncIterator[AsyncSession]:
    """An AsyncSession (aiosqlite / asyncpg) bound for the factories, rolled back at the end."""
    driver = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
    engine = create_async_engine(team_url.set(drivername=driver[team_url.get_backend_name()]))
    if team_url.get_backend_name() == "sqlite":
        install_sqlite_listeners(engine.sync_engine)
    async with engine.connect() as connection:
        transaction = await connection.begin()
        async with AsyncSession(bind=connection) as db:
            with bind_async_session(db):
                yield db
        await transaction.rollback()
    await engine.dispose()


@pytest.fixture(scope="module")
def team() -> ModelFactories:
    return factories_for(TeamError)


def stored(db: Session, error: TeamError) -> dict[str, Any]:
    """The error's row as the database holds it."""
    table = TeamError.__table__
    return dict(db.execute(select(table).where(table.c.id == error.id)).mappings().one())


def test_an_error_alone_is_the_teams_class_with_a_parent_filled_by_type(
    team: ModelFactories, team_db: Session
) -> None:
    error = team.session_error()
    assert type(error) is TeamError and isinstance(error.session, TeamSession)
    row = stored(team_db, error)
    assert row["session_id"] == error.session.id and row["tenant"]
    assert error.get_recovery_action_list() and row["user_message"].strip()
    parent = team_db.execute(select(TeamSession.__table__)).mappings().one()
    assert isinstance(parent["jira_user_id"], str) and 0 < len(parent["jira_user_id"]) <= 24
    assert isinstance(parent["seats"], int) and parent["archived"] is False
    assert isinstance(parent["opened_at"], datetime)
    assert isinstance(parent["workspace_id"], uuid.UUID)
    assert parent["plan"] is Plan.FREE and parent["settings"] == {}


@pytest.mark.parametrize("severity", list(ErrorSeverity))
def test_severity_traits(team: ModelFactories, team_db: Session, severity: ErrorSeverity) -> None:
    error = team.session_error(**{severity.value: True})
    assert stored(team_db, error)["severity"] == severity
    assert TeamError.has_blocking_errors(error.session_id, db=team_db) is (
        severity is ErrorSeverity.BLOCKING
    )


@pytest.mark.parametrize("stage", list(OperationStage))
@pytest.mark.parametrize("category", list(ErrorCategory))
def test_stage_and_category_traits(
    team: ModelFactories, team_db: Session, stage: OperationStage, category: ErrorCategory
) -> None:
    error = team.session_error(**{stage.value: True, category.value: True})
    row = stored(team_db, error)
    assert (row["operation_stage"], row["error_category"]) == (stage.value, category)
    assert TeamError.find_by_category(error.session_id, category, db=team_db) == [error]


def test_with_file_and_with_ticket_link_rows_of_the_errors_own_session(
    team: ModelFactories, team_db: Session
) -> None:
    error = team.session_error(with_file=True, with_ticket=True, review=True)
    row = stored(team_db, error)
    file = team_db.get_one(TeamFile, row["related_file_id"])
    ticket = team_db.get_one(TeamTicket, row["related_ticket_id"])
    assert file.session_id == ticket.session_id == error.session_id
    assert file.storage_key and ticket.title and ticket.summary and ticket.priority >= 1
    assert ticket.summary in error.user_message  # the review message names the ticket
    assert team_db.scalars(select(TeamSession)).all() == [error.session]


def test_create_batch_on_one_parent_and_parents_alone(
    team: ModelFactories, team_db: Session
) -> None:
    parent = team.session()
    errors = team.session_error.create_batch(5, session=parent, blocking=True)
    assert {type(e) for e in errors} == {TeamError} and {e.session_id for e in errors} == {
        parent.id
    }
    assert len({row.jira_user_id for row in team.session.create_batch(3)}) == 3
    assert isinstance(team.ticket(session_id=parent.id), TeamTicket)
    assert isinstance(team.uploaded_file(), TeamFile)
    assert team.session_error(session_id=parent.id).session_id == parent.id


@pytest.mark.asyncio
async def test_create_async_and_create_batch_async(
    team: ModelFactories, team_async_db: AsyncSession
) -> None:
    error = await team.session_error.create_async(blocking=True, with_file=True, with_ticket=True)
    assert type(error) is TeamError and error.is_blocking()
    assert error.related_file_id is not None and error.related_ticket_id is not None
    batch = await team.session_error.create_batch_async(3, session_id=error.session_id)
    assert [type(e) for e in batch] == [TeamError] * 3
    found = await team_async_db.scalars(
        select(TeamError).where(TeamError.session_id == error.session_id)
    )
    assert len(found.all()) == 4


def test_factories_are_built_once_per_model_and_the_reference_keeps_its_own() -> None:
    assert factories_for(TeamError) is factories_for(TeamError)
    assert factories_for(TeamError).session_error is factories_for(TeamError).session_error
    reference = factories_for(SessionError)
    assert reference == ModelFactories(
        SessionErrorFactory, WorkflowSessionFactory, UploadedFileFactory, TicketFactory
    )


def test_seeding_makes_the_teams_content_reproducible(
    team: ModelFactories, team_db: Session
) -> None:
    def content() -> list[tuple[Any, ...]]:
        seed_factories(7)
        errors = team.session_error.create_batch(4, with_ticket=True)
        return [(e.error_category, e.operation_stage, e.user_message) for e in errors]

    assert content() == content()


def _record_fields(session_id: uuid.UUID) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "category": "user_fixable",
        "severity": "blocking",
        "stage": "upload",
        "user_message": "The file could not be read.",
        "recovery_actions": ["Upload it again"],
    }


def test_the_repository_records_the_teams_own_columns(
    team: ModelFactories, team_db: Session
) -> None:
    from sessionerror import SessionErrorRepository

    parent = team.session()
    repo = SessionErrorRepository(team_db, model=TeamError)
    error = repo.record(**_record_fields(parent.id), columns={"tenant": "acme"})
    assert stored(team_db, error)["tenant"] == "acme"
    assert repo.has_blocking_errors(parent.id)


def test_columns_refuses_a_name_that_is_not_the_models_own(
    team: ModelFactories, team_db: Session
) -> None:
    from sessionerror import SessionErrorRepository

    parent = team.session()
    repo = SessionErrorRepository(team_db, model=TeamError)
    with pytest.raises(TypeError) as unknown:
        repo.record(**_record_fields(parent.id), columns={"tennant": "acme"})
    assert str(unknown.value) == (
        "SessionErrorRepository.record(): columns={'tennant': ...} is not a column of TeamError "
        "(its own columns: tenant)"
    )
    with pytest.raises(TypeError, match=r"columns=\{'severity': \.\.\.\} is a field of the spec"):
        repo.record(**_record_fields(parent.id), columns={"severity": "info"})
    assert team_db.scalars(select(TeamError)).all() == []  # nothing was written


@pytest.mark.asyncio
async def test_the_async_repository_records_the_teams_own_columns(
    team: ModelFactories, team_async_db: AsyncSession
) -> None:
    from sessionerror import AsyncSessionErrorRepository

    parent = await team.session.create_async()
    repo = AsyncSessionErrorRepository(team_async_db, model=TeamError)
    error = await repo.record(**_record_fields(parent.id), columns={"tenant": "globex"})
    table = TeamError.__table__
    row = (await team_async_db.execute(select(table.c.tenant).where(table.c.id == error.id))).one()
    assert row.tenant == "globex"
