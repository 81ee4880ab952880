"""Committed mode on a team's own schema (issue 15): their Base, a parent with an extra NOT NULL
column, SessionErrorMixin, rows seeded by their schema-setup callable; both backends."""

from __future__ import annotations

from collections.abc import Callable

import pytest

RunPytest = Callable[..., pytest.RunResult]

TEAM = """
import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from sessionerror.models import SessionErrorMixin
from sessionerror.models.types import GUID


PARENT = "sessions.id"


class TeamBase(DeclarativeBase):
    pass


class Workspace(TeamBase):
    __tablename__ = "sessions"
    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(String(50))  # NOT NULL: the kit's parent has no title
    session_errors: Mapped[list["TeamError"]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True
    )


class File(TeamBase):
    __tablename__ = "uploaded_files"
    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey(PARENT, ondelete="CASCADE"))


class Ticket(TeamBase):
    __tablename__ = "tickets"
    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey(PARENT, ondelete="CASCADE"))


class TeamError(SessionErrorMixin, TeamBase):
    sessionerror_session_model = "Workspace"


SEEDED = uuid.UUID(int=1)


def error(session_id, message):
    return TeamError(
        session_id=session_id, error_category="user_fixable", severity="blocking",
        operation_stage="review", user_message=message,
        recovery_actions={"actions": ["Write a summary"]}, technical_details={},
    )


def build(connection):
    TeamBase.metadata.create_all(connection)
    with Session(bind=connection) as db:  # the team's seed: one workspace with one error
        db.add(Workspace(id=SEEDED, title="seeded"))
        db.flush()
        db.add(error(SEEDED, "seeded error"))
        db.flush()
"""

SUITE = """
import pytest
from sqlalchemy import select
from team import SEEDED, TeamError, Workspace, error


def rows(db):
    workspaces = db.execute(select(Workspace.id, Workspace.title)).all()
    errors = db.scalars(select(TeamError.user_message)).all()
    return sorted(map(tuple, workspaces)), sorted(errors)


TEMPLATE = ([(SEEDED, "seeded")], ["seeded error"])


def test_1_seeded(sessionerror_db):
    assert rows(sessionerror_db) == TEMPLATE


@pytest.mark.sessionerror(committed=True)
def test_2_committed(sessionerror_db):
    sessionerror_db.delete(sessionerror_db.get(Workspace, SEEDED))  # its error cascades
    sessionerror_db.commit()
    new = Workspace(title="the test's")
    sessionerror_db.add(new)
    sessionerror_db.flush()
    sessionerror_db.add(error(new.id, "the test's error"))
    sessionerror_db.commit()
    assert rows(sessionerror_db)[1] == ["the test's error"]


def test_3_seeded_again(sessionerror_db):
    assert rows(sessionerror_db) == TEMPLATE
"""


def test_committed_test_on_a_team_schema_leaves_its_seed(
    pytester: pytest.Pytester, run_inprocess: RunPytest, server_url: str
) -> None:
    pytester.makepyfile(team=TEAM, test_team=SUITE)
    pytester.syspathinsert()
    pytester.makeini(
        "[pytest]\nsessionerror_metadata = team:TeamBase.metadata\n"
        "sessionerror_schema_setup = team:build\nasyncio_default_fixture_loop_scope = function\n"
    )
    result = run_inprocess(
        "-W", "error",
        "--sessionerror-backend", "all", "--sessionerror-postgres-url", server_url,
        "--sessionerror-require-postgres",
    )  # fmt: skip
    result.assert_outcomes(passed=6)
