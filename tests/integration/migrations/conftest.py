"""Fixtures of the migration tests: an Alembic project and a clean pytest run."""

from __future__ import annotations

import os
from collections.abc import Callable

# Imported here, before any pytester test: pytester restores sys.modules after each test, and
# re-importing SQLAlchemy's postgresql dialect later warns (an error under filterwarnings).
import alembic.autogenerate
import alembic.command
import pytest
import sqlalchemy.dialects.postgresql
from alembic_project import KIT_ROOT, AlembicProject
from pytester_runs import QUIET_ASYNCIO, clean_environment, inline

import sessionerror.testdb.migrations

RunPytest = Callable[..., pytest.RunResult]
_PRELOADED = (alembic.autogenerate, alembic.command, sqlalchemy.dialects.postgresql)
_PRELOADED_KIT = sessionerror.testdb.migrations


@pytest.fixture
def project(pytester: pytest.Pytester) -> AlembicProject:
    """A fresh Alembic project with three revisions."""
    pytester.syspathinsert()
    return AlembicProject(pytester)


@pytest.fixture
def run_pytest(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> RunPytest:
    """Run pytest with no inherited sessionerror settings: inline (in this process), or in a
    subprocess with ``xdist`` or ``fresh_interpreter`` (what an interpreter start imports is
    tested)."""
    clean_environment(monkeypatch)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(pytester.path), str(KIT_ROOT)]))
    run_inline = inline(pytester, monkeypatch)

    def run(*args: str, xdist: bool = False, fresh_interpreter: bool = False) -> pytest.RunResult:
        plugins = () if xdist else ("-p", "no:xdist")
        start = pytester.runpytest_subprocess if xdist or fresh_interpreter else run_inline
        return start("-p", "no:randomly", *plugins, *QUIET_ASYNCIO, *args)

    return run
