"""Issue 19: every configuration mistake is one line, run as a user's project runs the plugin.

Each test makes one mistake in a small project and checks that the whole output about it is one
line (naming the setting, the value and the fix) and that no traceback is printed.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import make_url

RunPytest = Callable[..., pytest.RunResult]

#: sitecustomize.py of the subprocess: psycopg2 cannot be imported, as where it is not installed.
NO_PSYCOPG2 = """
import sys

class _NoPsycopg2:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "psycopg2":
            raise ImportError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, _NoPsycopg2())
"""

THREE_DB_TESTS = """
def test_one(sessionerror_db):
    pass

def test_two(sessionerror_db):
    pass

def test_three(sessionerror_engine):
    pass
"""


def assert_one_line(result: pytest.RunResult, needle: str, pattern: str) -> None:
    """The run stopped with a usage error: one line mentions ``needle`` and matches ``pattern``."""
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    result.stderr.fnmatch_lines([pattern])
    output = result.stdout.lines + result.stderr.lines
    mentions = [line for line in output if needle in line]
    assert len(mentions) == 1, "\n".join(mentions)
    assert "Traceback" not in "\n".join(output)
    result.assert_outcomes()  # no test ran, passed, failed or errored


def test_wrong_metadata_path_is_one_line_for_all_tests(
    pytester: pytest.Pytester, run_inprocess: RunPytest
) -> None:
    pytester.makepyfile(THREE_DB_TESTS)
    result = run_inprocess("--sessionerror-metadata", "nosuchmodule:Base.metadata")
    assert_one_line(
        result,
        "nosuchmodule",
        "ERROR: sessionerror: sessionerror_metadata='nosuchmodule:Base.metadata': cannot import "
        "'nosuchmodule' (*); set --sessionerror-metadata (ini sessionerror_metadata, env "
        "SESSIONERROR_METADATA) to your models' MetaData, e.g. myapp.models:Base.metadata",
    )


def test_wrong_schema_setup_path_is_one_line(
    pytester: pytest.Pytester, run_inprocess: RunPytest
) -> None:
    pytester.makepyfile(THREE_DB_TESTS, schema_helpers="def build(connection):\n    pass\n")
    pytester.makeini("[pytest]\npythonpath = .\nsessionerror_schema_setup = schema_helpers:biuld\n")
    result = run_inprocess()
    assert_one_line(
        result,
        "biuld",
        "ERROR: sessionerror: sessionerror_schema_setup='schema_helpers:biuld': 'schema_helpers' "
        "has no attribute 'biuld'; did you mean schema_helpers:build?",
    )


def test_misspelt_backend_in_the_marker_is_one_line(
    pytester: pytest.Pytester, run_inprocess: RunPytest
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.sessionerror(backends=["postgres"])
        def test_pg(sessionerror_db):
            pass
        """
    )
    result = run_inprocess("--sessionerror-backend", "all", "--sessionerror-no-local-postgres")
    assert_one_line(
        result,
        "'postgres'",
        "ERROR: Invalid @pytest.mark.sessionerror on test_misspelt_backend_in_the_marker_is_one_"
        "line.py::test_pg: unknown backend 'postgres' in backends=[[]'postgres'[]]: did you mean "
        "'postgresql'? *Usage: @pytest.mark.sessionerror(committed=True, backends=*)",
    )


def test_unknown_data_set_is_one_line_listing_the_known_ones(
    pytester: pytest.Pytester, run_inprocess: RunPytest
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.sessionerror_data("upload_rejectd")
        def test_data(sessionerror_db):
            pass
        """
    )
    result = run_inprocess()
    assert_one_line(
        result,
        "upload_rejectd",
        "ERROR: Invalid @pytest.mark.sessionerror_data on *::test_data: unknown data set "
        "'upload_rejectd' (did you mean 'upload_rejected'?); known data sets: *upload_rejected*",
    )


def test_invalid_data_set_file_is_one_line_naming_the_file_and_problem(
    pytester: pytest.Pytester, run_inprocess: RunPytest
) -> None:
    data = pytester.mkdir("data")
    (data / "broken.json").write_text('{"description": "cut short", "sessions": [')
    (data / "invalid.json").write_text('{"description": "no sessions", "sessions": []}')
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.sessionerror_data("data/broken.json")
        def test_sync(sessionerror_db):
            pass

        @pytest.mark.sessionerror_data("data/invalid.json")
        @pytest.mark.asyncio
        async def test_async(sessionerror_async_db):
            pass
        """
    )
    result = run_inprocess()
    assert_one_line(
        result,
        "broken.json",
        "ERROR: Invalid @pytest.mark.sessionerror_data on *::test_sync: data set "
        "'data/broken.json' is invalid: data/broken.json: not valid JSON: * at line 1 column *",
    )
    assert_one_line(
        result,
        "invalid.json",
        "ERROR: Invalid @pytest.mark.sessionerror_data on *::test_async: data set "
        "'data/invalid.json' is invalid: data/invalid.json: top level.sessions: required "
        "non-empty list of sessions",
    )
    assert "def test_sync" not in result.stdout.str() + result.stderr.str()  # no fixture source


def test_postgres_only_test_on_sqlite_says_how_to_run_it(
    pytester: pytest.Pytester, run_inprocess: RunPytest
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.sessionerror(backends=["postgresql"])
        def test_pg_only(sessionerror_engine):
            assert sessionerror_engine.dialect.name == "postgresql"
        """
    )
    result = run_inprocess("-rs", "-v", "--sessionerror-backend", "sqlite")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*::test_pg_only[[]postgresql[]] SKIPPED*",
            "SKIPPED [[]1[]] *: sessionerror: @pytest.mark.sessionerror("
            "backends=[[]'postgresql'[]]) runs this test on postgresql only and this run's "
            "backend is sqlite: run with "
            "--sessionerror-backend postgresql or all",
        ]
    )
    assert "empty parameter set" not in result.stdout.str()


def test_missing_driver_is_found_before_a_server_is_started(
    pytester: pytest.Pytester, run_pytest: RunPytest, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = pytester.path / "initdb-ran"
    bindir = pytester.mkdir("pgbin")
    for tool in ("initdb", "pg_ctl"):  # record any start, then fail like a broken install
        (bindir / tool).write_text(f"#!/bin/sh\ntouch '{started}'\nexit 1\n")
        (bindir / tool).chmod(0o755)
    pytester.makepyfile("def test_pg(sessionerror_engine):\n    pass\n")
    site = pytester.mkdir("site")
    (site / "sitecustomize.py").write_text(NO_PSYCOPG2)
    monkeypatch.setenv("PYTHONPATH", str(site))
    result = run_pytest(
        "--sessionerror-backend", "postgresql", "--sessionerror-pg-bin-dir", str(bindir)
    )
    assert_one_line(
        result,
        "psycopg2",
        "ERROR: sessionerror: PostgreSQL: the psycopg2 driver is not installed (*), so no server "
        'was started or used: pip install "sessionerror[[]postgres[]]"',
    )
    assert not started.exists(), "initdb/pg_ctl ran although the driver was missing"


def test_the_apps_asyncpg_url_works_as_the_server_url(
    pytester: pytest.Pytester, run_inprocess: RunPytest, server_url: str
) -> None:
    pytester.makepyfile(
        """
        def test_pg(sessionerror_engine, sessionerror_db):
            assert sessionerror_engine.dialect.name == "postgresql"
            assert sessionerror_engine.dialect.driver == "psycopg2"
        """
    )
    async_url = make_url(server_url).set(drivername="postgresql+asyncpg")
    result = run_inprocess(
        "--sessionerror-backend",
        "postgresql",
        "--sessionerror-postgres-url",
        async_url.render_as_string(hide_password=False),
    )
    result.assert_outcomes(passed=1)
    password = make_url(server_url).password
    if password:
        assert str(password) not in result.stdout.str() + result.stderr.str()
