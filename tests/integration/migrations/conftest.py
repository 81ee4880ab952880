"""Fixtures of the migration tests: an Alembic project and a clean pytest subprocess."""

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
    """Run pytest in a subprocess with no inherited sessionerror settings."""
    for name in list(os.environ):
        if name.startswith(("SESSIONERROR_", "PYTEST_XDIST_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(pytester.path), str(KIT_ROOT)]))

    def run(*args: str, xdist: bool = False) -> pytest.RunResult:
        plugins = () if xdist else ("-p", "no:xdist")
        return pytester.runpytest_subprocess(
            "-p",
            "no:randomly",
            *plugins,
            "-o",
            "asyncio_default_fixture_loop_scope=function",
            *args,
        )

    return run
