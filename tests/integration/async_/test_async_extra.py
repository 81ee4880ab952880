"""The async extra is optional: pytest starts without importing it, and an async fixture without
it fails in one line naming the extra."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy

RunAsync = Callable[..., pytest.RunResult]
RunPytest = Callable[..., pytest.RunResult]

ASYNC_MODULES = ("sqlalchemy.ext.asyncio", "greenlet", "asyncpg", "aiosqlite")

# Installed at interpreter start (PYTHONPATH holds pytester's directory): makes the async extra
# unimportable, as on a machine where it is not installed.
BLOCKER = """
import sys

BLOCKED = ("asyncpg", "greenlet", "aiosqlite")


class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"No module named {name!r} (blocked by the test)")
        return None


sys.meta_path.insert(0, Blocker())
"""


def sqlalchemy_version() -> tuple[int, int]:
    """(major, minor) of the installed SQLAlchemy."""
    major, minor = sqlalchemy.__version__.split(".")[:2]
    return int(major), int(minor)


def test_starting_pytest_imports_no_async_package(
    pytester: pytest.Pytester, run_async: RunAsync
) -> None:
    # SQLAlchemy 2.0 imports greenlet itself (when installed) as soon as SQLAlchemy loads;
    # 2.1 no longer does. The kit must not load any other async package either way.
    modules = (
        ASYNC_MODULES
        if sqlalchemy_version() >= (2, 1)
        else tuple(name for name in ASYNC_MODULES if name != "greenlet")
    )
    pytester.makepyfile(
        f"""
        import sys

        def test_nothing_async_loaded(sessionerror_db):
            loaded = [name for name in {modules!r} if name in sys.modules]
            assert loaded == []
        """
    )
    run_async(fresh_interpreter=True).assert_outcomes(passed=2)


def test_async_fixture_without_the_extra_fails_in_one_line(
    pytester: pytest.Pytester, run_async: RunAsync
) -> None:
    pytester.makepyfile(sitecustomize=BLOCKER)
    pytester.makepyfile(
        """
        import pytest

        def test_sync_still_works(sessionerror_db):
            assert sessionerror_db.is_active

        @pytest.mark.asyncio
        async def test_needs_async(sessionerror_async_db):
            pass
        """
    )
    result = run_async(fresh_interpreter=True)
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(
        [
            "the sessionerror async fixtures need the async extra: "
            'pip install "sessionerror[[]async[]]" (cannot import greenlet*)'
        ]
    )
    assert "Traceback" not in result.stdout.str()
    assert "During handling" not in result.stdout.str()


def test_fixtures_listing_documents_the_async_fixtures(
    pytester: pytest.Pytester, run_inprocess: RunPytest
) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    lines = run_inprocess("--fixtures").stdout.lines
    for name in (
        "sessionerror_async_db",
        "sessionerror_async_engine",
        "sessionerror_async_connection",
        "async_workflow_session",
        "async_session_error",
    ):
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{name} "))
        assert lines[index + 1].strip() not in ("", "no docstring available"), name
