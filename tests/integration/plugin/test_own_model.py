"""Issue 18: a team's project names its own SessionError class with ``sessionerror_model`` (ini)
and the kit's factories, row fixtures, repositories and data sets write the team's classes.

One pytester project, one run, both backends: the team's schema (tests/unit/factories/
team_schema.py: its own Base, ``sessions`` with NOT NULL columns the kit does not know such as
``jira_user_id``, ``tickets`` with NOT NULL ``title`` and ``summary``, the mixin model with a NOT
NULL ``tenant``), ``sessionerror_backend = all`` and no ``sessionerror_metadata`` (it follows
the model).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

import sessionerror

KIT_ROOT = Path(sessionerror.__file__).resolve().parents[1]
TEAM_SCHEMA = KIT_ROOT / "tests" / "unit" / "factories" / "team_schema.py"

SUITE = """
import pytest
from sqlalchemy import func, select

from sessionerror import AsyncSessionErrorRepository, SessionErrorRepository
from sessionerror.factories import SessionErrorFactory, TicketFactory, WorkflowSessionFactory
from team import TeamError, TeamFile, TeamSession, TeamTicket


def test_row_fixtures_are_the_teams_classes(session_error, workflow_session, sessionerror_db):
    assert type(session_error) is TeamError and type(workflow_session) is TeamSession
    assert session_error.session_id == workflow_session.id
    assert session_error.tenant and workflow_session.jira_user_id  # filled by type
    assert (session_error.error_category.value, session_error.operation_stage) == (
        "user_fixable", "upload",
    )
    assert sessionerror_db.get(TeamError, session_error.id) is session_error


def test_factory_fixture_and_traits(session_error_factory, sessionerror_db):
    assert session_error_factory._meta.model is TeamError
    error = session_error_factory(blocking=True, jira_export=True, with_ticket=True, with_file=True)
    assert error.is_blocking and error.operation_stage == "jira_export"
    ticket = sessionerror_db.get(TeamTicket, error.related_ticket_id)
    assert ticket.session_id == error.session_id and ticket.title and ticket.summary
    assert sessionerror_db.get(TeamFile, error.related_file_id).storage_key


def test_the_kits_factory_classes_write_the_teams_classes(sessionerror_db):
    session = WorkflowSessionFactory()
    errors = SessionErrorFactory.create_batch(3, session=session, admin_required=True)
    assert type(session) is TeamSession and {type(e) for e in errors} == {TeamError}
    assert type(TicketFactory()) is TeamTicket
    count = select(func.count()).select_from(TeamError).where(TeamError.session_id == session.id)
    assert sessionerror_db.scalar(count) == 3


def test_the_repository_writes_the_teams_class_by_default(sessionerror_db, workflow_session):
    repo = SessionErrorRepository(sessionerror_db)
    assert repo.model is TeamError
    assert not repo.has_blocking_errors(workflow_session.id)
    SessionErrorFactory(session=workflow_session, blocking=True, temporary=True)
    assert repo.has_blocking_errors(workflow_session.id)
    assert len(repo.find_by_category(workflow_session.id, "temporary")) == 1


@pytest.mark.sessionerror_data("jira_export_blocked")
def test_a_data_set_is_loaded_as_the_teams_rows(sessionerror_db):
    errors = sessionerror_db.scalars(select(TeamError)).all()
    assert {e.severity.value for e in errors} == {"blocking", "warning"}
    [session] = sessionerror_db.scalars(select(TeamSession)).all()
    assert session.jira_user_id and session.seats is not None  # filled as the factories do
    tickets = sessionerror_db.scalars(select(TeamTicket)).all()
    assert len(tickets) == 2 and all(t.title and t.summary for t in tickets)
    assert {e.related_ticket_id for e in errors} == {t.id for t in tickets}


async def test_async_fixtures_factories_and_repository(
    async_session_error, async_workflow_session, sessionerror_async_db
):
    assert type(async_session_error) is TeamError
    assert type(async_workflow_session) is TeamSession
    errors = await SessionErrorFactory.create_batch_async(
        2, session=async_workflow_session, blocking=True
    )
    assert {type(e) for e in errors} == {TeamError}
    repo = AsyncSessionErrorRepository(sessionerror_async_db)
    assert repo.model is TeamError
    assert await repo.has_blocking_errors(async_workflow_session.id)
"""


def test_a_team_project_names_its_model_once(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, server_url: str
) -> None:
    for name in list(os.environ):
        if name.startswith(("SESSIONERROR_", "PYTEST_XDIST_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(pytester.path), str(KIT_ROOT)]))
    pytester.makepyfile(team=TEAM_SCHEMA.read_text(encoding="utf-8"), test_team=SUITE)
    pytester.makeini(
        "[pytest]\nsessionerror_model = team:TeamError\nsessionerror_backend = all\n"
        "asyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "-p", "no:xdist", "-W", "error",
        "--sessionerror-postgres-url", server_url, "--sessionerror-require-postgres",
    )  # fmt: skip
    result.assert_outcomes(passed=12)


def test_a_model_setting_that_cannot_work_is_one_line(
    pytester: pytest.Pytester, run_inprocess: Callable[..., pytest.RunResult]
) -> None:
    pytester.makepyfile("def test_one(session_error):\n    pass\n")
    result = run_inprocess("--sessionerror-model", "sessionerror.models:WorkflowSession")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    lines = [line for line in result.stderr.lines if "sessionerror" in line]
    assert lines == [
        "ERROR: sessionerror: sessionerror_model='sessionerror.models:WorkflowSession' is the "
        "class WorkflowSession, not a mapped SessionError class: point it at your "
        "SessionErrorMixin subclass (or the class mapped to session_errors), e.g. "
        "myapp.models:SessionError"
    ]
    # A module that is not there: one line too, not a second one for the metadata it implies.
    result = run_inprocess("--sessionerror-model", "nosuchmodule:AppError")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    [line] = [line for line in result.stderr.lines if "sessionerror" in line]
    assert line.startswith("ERROR: sessionerror: sessionerror_model='nosuchmodule:AppError'")
    assert line.endswith("to your SessionError class, e.g. myapp.models:SessionError")
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
