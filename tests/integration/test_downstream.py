"""Downstream proof: a throwaway project uses only the installed kit, the way a team would."""

from __future__ import annotations

import pytest

CONFTEST = """
pytest_plugins = ["sessionerror.plugin.row_fixtures"]
"""

TESTS = """
import pytest
from sqlalchemy import select

from sessionerror import SessionError
from sessionerror.scenarios import run_cascade


def test_plugin_fixture(sessionerror_db):
    assert sessionerror_db.scalars(select(SessionError)).all() == []


def test_factory_fixture(session_error_factory):
    error = session_error_factory(blocking=True, jira_export=True, with_ticket=True)
    assert SessionError.has_blocking_errors(error.session_id)
    assert error.related_ticket.session_id == error.session_id


def test_model_fixture(session_error):
    assert session_error.get_recovery_action_list()


@pytest.mark.sessionerror_data("jira_export_blocked")
def test_dataset_marker(sessionerror_db):
    blocker = sessionerror_db.scalars(
        select(SessionError).where(SessionError.error_code == "JIRA_AUTH_401")
    ).one()
    assert blocker.requires_admin and blocker.is_blocking()


def test_scenario(sessionerror_engine):
    result = run_cascade(sessionerror_engine)
    assert result.ok, result.report()
"""


def test_downstream_project_uses_the_installed_kit(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_downstream_app=TESTS)
    result = pytester.runpytest_subprocess(
        "--sessionerror-backend", "all", "-p", "no:randomly", "-p", "no:cacheprovider", "-v"
    )
    result.stdout.fnmatch_lines(["*test_factory_fixture?postgresql? PASSED*"])
    result.assert_outcomes(passed=10)
