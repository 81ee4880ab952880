"""Shared by the project's own tests: the real PostgreSQL server the kit may use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sessionerror.plugin.lazy import ensure_for_test
from sessionerror.plugin.state import get_state


@pytest.fixture(scope="session")
def server_url(pytestconfig: pytest.Config) -> str:
    """URL of the maintenance database of the server the plugin resolved for this run.

    The plugin's own resolution, as the README describes it: ``SESSIONERROR_POSTGRES_URL``
    (an unreachable one already stopped the run), else a throwaway local server, else a
    container; no hidden default. When none is available the test skips, and with PostgreSQL
    required (as in CI) that skip is a failure.
    """
    ensure_for_test(pytestconfig)  # the plugin resolves PostgreSQL on first use (issue 19)
    state = get_state(pytestconfig)
    if state.postgres.server is not None:
        return state.postgres.server.url.reveal()
    problem = state.postgres.problem or (
        "the postgresql backend is not selected (--sessionerror-backend all or postgresql)"
    )
    if state.config.require_postgres:
        pytest.fail(f"no test server: {problem}", pytrace=False)
    pytest.skip(f"no test server: {problem}")


@pytest.fixture
def timeout_record() -> dict[str, Any]:
    """``record()`` keyword arguments (all but ``session_id``) of a temporary Jira timeout.

    Shared by the sync and the async storage-fault tests (tests/unit/model/test_storage_faults.py,
    tests/unit/async_/test_async_faults.py), which record the same error through both repositories.
    """
    return {
        "category": "temporary",
        "severity": "warning",
        "stage": "jira_export",
        "user_message": "Jira did not answer in time",
        "recovery_actions": ["Wait a minute", "Export again"],
        "technical_details": {"status": 504},
        "error_code": "JIRA_TIMEOUT",
    }


@pytest.fixture(scope="session")
def built_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel of this checkout, built once per test process.

    The wheel tests (data sets, example commands, the docs' first steps) install and inspect
    what a user downloads, not the checkout.
    """
    folder = tmp_path_factory.mktemp("dist")
    root = Path(__file__).resolve().parents[1]
    built = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(folder), str(root)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    return folder
