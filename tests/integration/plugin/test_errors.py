"""The errors a user meets: each one short line naming the backend, the masked URL and the fix."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

RunPytest = Callable[..., pytest.RunResult]
#: A Docker endpoint that never answers: the tests that need "no engine" say so explicitly.
NO_DOCKER_ENGINE = "unix:///nonexistent/docker.sock"

PG_TEST = """
def test_pg(sessionerror_engine):
    assert sessionerror_engine.dialect.name == "postgresql"
"""
ANY_BACKEND_TEST = """
def test_any(sessionerror_engine, sessionerror_backend):
    assert sessionerror_engine.dialect.name == sessionerror_backend
"""

# Imported before anything else in the subprocess: makes the named modules unimportable.
BLOCKER = """
import sys

class _Blocker:
    BLOCKED = {blocked!r}

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.BLOCKED:
            raise ImportError(f"No module named {{name!r}} (blocked by the test)")
        return None

sys.meta_path.insert(0, _Blocker())
"""


def block_imports(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Make ``names`` unimportable in the subprocesses pytester starts."""
    site = pytester.mkdir("blocker")
    (site / "sitecustomize.py").write_text(BLOCKER.format(blocked=set(names)))
    monkeypatch.setenv("PYTHONPATH", str(site))


def assert_short_error(result: pytest.RunResult, *fragments: str) -> str:
    """The run failed with a usage error whose message has every fragment and no traceback."""
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = result.stderr.str()
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} missing from: {text}"
    assert "Traceback" not in text
    return text


def test_unreachable_url_is_an_error_with_masked_password(
    pytester: pytest.Pytester, run_inprocess: RunPytest
) -> None:
    pytester.makepyfile(PG_TEST)
    result = run_inprocess(
        "--sessionerror-backend",
        "postgresql",
        "--sessionerror-postgres-url",
        "postgresql://app:s3cr3t-pw@127.0.0.1:1/app",
    )
    text = assert_short_error(
        result,
        "PostgreSQL",
        "postgresql+psycopg2://app:***@127.0.0.1:1/app",
        "connection refused",
        "SESSIONERROR_POSTGRES_URL",
    )
    assert "s3cr3t-pw" not in text + result.stdout.str()


def test_unreachable_url_from_env_is_an_error_not_a_skip(
    pytester: pytest.Pytester, run_inprocess: RunPytest, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(PG_TEST)
    monkeypatch.setenv("SESSIONERROR_POSTGRES_URL", "postgresql://x:pw@127.0.0.1:1/db")
    result = run_inprocess("--sessionerror-backend", "all")
    assert_short_error(result, "connection refused")


def test_wrong_credentials(pytester: pytest.Pytester, run_inprocess: RunPytest) -> None:
    pytester.makepyfile(PG_TEST)
    result = run_inprocess(
        "--sessionerror-backend",
        "postgresql",
        "--sessionerror-postgres-url",
        "postgresql://nosuchrole:pw@127.0.0.1:5432/postgres",
    )
    text = assert_short_error(result, "nosuchrole", "***")
    assert ":pw@" not in text


def test_missing_driver(
    pytester: pytest.Pytester,
    run_pytest: RunPytest,
    monkeypatch: pytest.MonkeyPatch,
    server_url: str,
) -> None:
    pytester.makepyfile(PG_TEST)
    block_imports(pytester, monkeypatch, "psycopg2")
    result = run_pytest(
        "--sessionerror-backend", "postgresql", "--sessionerror-postgres-url", server_url
    )
    assert_short_error(result, "psycopg2", "pip install")


def no_docker_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Say explicitly that no Docker engine answers, whatever runs on this machine."""
    monkeypatch.setenv("DOCKER_HOST", NO_DOCKER_ENGINE)


def test_no_binaries_no_docker_skips_with_one_line(
    pytester: pytest.Pytester, run_inprocess: RunPytest, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(ANY_BACKEND_TEST)
    no_docker_engine(monkeypatch)
    result = run_inprocess(
        "-rs",
        "--sessionerror-backend",
        "all",
        "--sessionerror-no-local-postgres",
    )
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        ["*PostgreSQL unavailable*local: disabled*Docker*SESSIONERROR_POSTGRES_URL*"]
    )
    result.stdout.fnmatch_lines(
        ["sessionerror: postgresql tests will skip: PostgreSQL unavailable*"]
    )


def test_empty_pg_bin_dir_is_an_error(
    pytester: pytest.Pytester, run_inprocess: RunPytest, tmp_path: Path
) -> None:
    pytester.makepyfile(PG_TEST)
    empty = tmp_path / "no-binaries"
    empty.mkdir()
    result = run_inprocess(
        "--sessionerror-backend",
        "all",
        "--sessionerror-no-containers",
        "--sessionerror-pg-bin-dir",
        str(empty),
    )
    assert_short_error(result, str(empty), "initdb", "--sessionerror-pg-bin-dir")


def test_require_postgres_fails_instead_of_skipping(
    pytester: pytest.Pytester, run_inprocess: RunPytest, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(PG_TEST)
    no_docker_engine(monkeypatch)
    common = ("--sessionerror-backend", "postgresql", "--sessionerror-no-local-postgres")
    result = run_inprocess(*common, "--sessionerror-require-postgres")
    assert_short_error(result, "PostgreSQL unavailable")
    pytester.makeini("[pytest]\nsessionerror_require_postgres = true\n")
    assert_short_error(run_inprocess(*common), "PostgreSQL unavailable")
    pytester.makeini("[pytest]\n")
    monkeypatch.setenv("SESSIONERROR_REQUIRE_POSTGRES", "1")
    assert_short_error(run_inprocess(*common), "PostgreSQL unavailable")


@pytest.mark.parametrize("via", ["cli", "ini"])
def test_local_server_is_started_and_removed(
    pytester: pytest.Pytester, run_inprocess: RunPytest, via: str
) -> None:
    pytester.makepyfile(
        """
        from pathlib import Path

        def test_local(sessionerror_engine, sessionerror_connection):
            port = sessionerror_engine.url.port
            assert port != 5432
            Path("port.txt").write_text(str(port))
            data_dir = sessionerror_connection.exec_driver_sql("show data_directory").scalar()
            Path("datadir.txt").write_text(data_dir)
            assert sessionerror_connection.exec_driver_sql("show fsync").scalar() == "off"
        """
    )
    if via == "cli":
        result = run_inprocess(
            "--sessionerror-backend", "postgresql", "--sessionerror-no-containers"
        )
    else:
        pytester.makeini("[pytest]\nsessionerror_no_containers = true\n")
        result = run_inprocess("--sessionerror-backend", "postgresql")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["sessionerror: postgresql from local server PostgreSQL*(pg_ctl)*"])
    assert not Path((pytester.path / "datadir.txt").read_text()).exists()


def test_container_step_without_docker_engine_is_explained(
    pytester: pytest.Pytester, run_inprocess: RunPytest, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(ANY_BACKEND_TEST)
    no_docker_engine(monkeypatch)
    result = run_inprocess(
        "-rs", "--sessionerror-backend", "all", "--sessionerror-no-local-postgres"
    )
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*docker: no Docker engine answered*start Docker*"])


def test_marker_typo_is_a_clear_error(pytester: pytest.Pytester, run_inprocess: RunPytest) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.sessionerror(comitted=True)
        def test_typo(sessionerror_db):
            pass

        @pytest.mark.sessionerror(committed="yes")
        def test_wrong_type():
            pass

        @pytest.mark.sessionerror_data()
        def test_no_names():
            pass
        """
    )
    result = run_inprocess()
    # Issue 19: found at collection, one line each, before any test runs.
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: Invalid @pytest.mark.sessionerror on *test_typo: *unexpected keyword "
            "argument 'comitted'. Usage: @pytest.mark.sessionerror(committed=True, backends=*)",
            "ERROR: Invalid @pytest.mark.sessionerror on *test_wrong_type: *must be True or False*",
            "ERROR: Invalid @pytest.mark.sessionerror_data on *test_no_names: *data-set names*",
        ]
    )


def test_plugin_loads_and_sqlite_works_without_optional_packages(
    pytester: pytest.Pytester, run_pytest: RunPytest, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        """
        import sys
        from sessionerror import SessionError, WorkflowSession

        def test_sqlite(sessionerror_db):
            session = WorkflowSession(name="no extras")
            sessionerror_db.add(session)
            sessionerror_db.flush()
            assert not SessionError.has_blocking_errors(session.id)
            for name in ("psycopg2", "testcontainers", "sqlite_utils", "docker"):
                assert name not in sys.modules
        """
    )
    block_imports(pytester, monkeypatch, "psycopg2", "testcontainers", "sqlite_utils", "docker")
    result = run_pytest("-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*plugins:*sessionerror*"])


def test_plugin_import_is_light(pytester: pytest.Pytester) -> None:
    result = pytester.run(
        sys.executable,
        "-c",
        "import sys, sessionerror.plugin; "
        "heavy = [m for m in ('sqlalchemy.orm', 'psycopg2', 'factory', 'faker', "
        "'testcontainers', 'sqlite_utils', 'sessionerror.models', 'sqlalchemy') "
        "if m in sys.modules]; "
        "print('HEAVY', heavy)",
    )
    result.stdout.fnmatch_lines(["HEAVY []"])


def test_required_postgres_turns_a_postgres_skip_into_a_failure(
    pytester: pytest.Pytester, run_inprocess: RunPytest, server_url: str
) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_skips_on_postgres(sessionerror_backend):
            if sessionerror_backend == "postgresql":
                pytest.skip("feature not on this server")

        @pytest.mark.postgresql
        def test_marked_by_hand():
            pytest.skip("no server here")
        """
    )
    common = ("--sessionerror-backend", "all", "--sessionerror-postgres-url", server_url)
    run_inprocess(*common).assert_outcomes(passed=1, skipped=2)
    required = run_inprocess(*common, "--sessionerror-require-postgres")
    required.assert_outcomes(passed=1, failed=2)
    required.stdout.fnmatch_lines(["*PostgreSQL test skipped while PostgreSQL is required*"])


SLASH_PASSWORD = "ab/cd-S3cr3t"
FAILING_SETUP = """
def build(connection):
    raise RuntimeError("the migrations failed")
"""
FAILING_TESTS = """
def test_fails_with_fixtures_as_locals(
    sessionerror_config, sessionerror_database, sessionerror_engine, sessionerror_databases
):
    url = sessionerror_engine.url
    assert url is None, "deliberate failure"
"""


@pytest.mark.parametrize("failing", ["setup", "test"])
def test_password_never_printed_with_showlocals(
    pytester: pytest.Pytester, run_inprocess: RunPytest, server_url: str, failing: str
) -> None:
    # A password written raw with "/" in it: SQLAlchemy reads it, the old masking did not.
    url = server_url.replace("postgres@", f"postgres:{SLASH_PASSWORD}@", 1)
    assert SLASH_PASSWORD in url
    pytester.makepyfile(failingsetup=FAILING_SETUP, test_failing=FAILING_TESTS)
    pytester.syspathinsert()
    args = ["-l", "--tb=long", "--sessionerror-backend", "postgresql"]
    if failing == "setup":
        args += ["--sessionerror-schema-setup", "failingsetup:build"]
    result = run_inprocess(*args, "--sessionerror-postgres-url", url)
    if failing == "setup":
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(["*the migrations failed*"])
    else:
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(["*deliberate failure*", "sessionerror_config *= *"])
    result.stdout.fnmatch_lines(["sessionerror: postgresql from *postgres:***@127.0.0.1*"])
    output = result.stdout.str() + result.stderr.str()
    for fragment in (SLASH_PASSWORD, "cd-S3cr3t", "ab/cd"):
        assert fragment not in output


def test_leftover_the_janitor_cannot_drop_is_a_masked_summary_warning(
    pytester: pytest.Pytester, run_inprocess: RunPytest, server_url: str
) -> None:
    import os
    import socket
    import subprocess

    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    dead_pid = int(finished.stdout)
    name = f"sessionerror_{dead_pid}_main_{os.urandom(4).hex()}"
    marker = f"created by sessionerror on host {socket.gethostname()} pid {dead_pid}"
    admin = create_engine(server_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        connection.execute(text(f"COMMENT ON DATABASE \"{name}\" IS '{marker}'"))
        # A killed run's database that cannot be dropped (as for a non-owner): a template.
        connection.execute(text(f'ALTER DATABASE "{name}" IS_TEMPLATE true'))
    try:
        pytester.makepyfile(PG_TEST)
        url = server_url.replace("postgres@", f"postgres:{SLASH_PASSWORD}@", 1)
        result = run_inprocess(
            "--sessionerror-backend", "postgresql", "--sessionerror-postgres-url", url
        )
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(
            [
                "*- sessionerror -*",
                f"sessionerror: warning: left database {name}: cannot drop a template database*",
            ]
        )
        assert name not in result.stderr.str()  # no raw print, no logging fallback
        assert SLASH_PASSWORD not in result.stdout.str() + result.stderr.str()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" IS_TEMPLATE false'))
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
