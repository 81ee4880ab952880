"""The FastAPI example's own tests pass on both backends, run the way a user runs them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from sessionerror.testdb.request_sessions_async import request_sessionmaker

RunAsync = Callable[..., pytest.RunResult]
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "fastapi_app"


def test_fastapi_example_with_get_db_overridden(
    pytester: pytest.Pytester, run_async: RunAsync
) -> None:
    for name in ("app.py", "conftest.py", "test_app.py"):
        shutil.copy(EXAMPLE / name, pytester.path / name)
    result = run_async("-v")
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(
        [
            "*test_record_then_blocking[[]sqlite[]] PASSED*",
            "*test_deleted_file_is_unlinked_by_the_database_*[[]sqlite[]] PASSED*",
            "*test_record_then_blocking[[]postgresql[]] PASSED*",
            "*test_deleted_file_is_unlinked_by_the_database_*[[]postgresql[]] PASSED*",
        ],
        consecutive=False,
    )


def test_request_sessionmaker_refuses_a_sync_engine(sessionerror_engine: Engine) -> None:
    with pytest.raises(TypeError, match="needs an AsyncConnection or AsyncEngine, got Engine"):
        request_sessionmaker(sessionerror_engine)  # type: ignore[arg-type]
