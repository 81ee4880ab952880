"""Probe: a setting the user gave explicitly that cannot work fails the run, never a skip.

Each case runs pytest (inline, in this process) the way a user's project does and expects exit
code 4 (usage error) with one line naming the setting and the fix, no traceback, no password, and no
test reported as skipped.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

PASSWORD = "pr0be-S3cret"
#: A Docker endpoint that never answers.
NO_DOCKER_ENGINE = "unix:///nonexistent/docker.sock"
ANY_BACKEND_TEST = """
def test_any(sessionerror_engine, sessionerror_backend):
    assert sessionerror_engine.dialect.name == sessionerror_backend
"""

Run = Callable[..., pytest.RunResult]


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, run_inprocess: Run) -> Run:
    """pytest with no inherited sessionerror settings (``run_inprocess``) and no Docker engine."""
    monkeypatch.setenv("DOCKER_HOST", NO_DOCKER_ENGINE)
    pytester.makepyfile(ANY_BACKEND_TEST)

    def run_pytest(*args: str) -> pytest.RunResult:
        return run_inprocess("-rs", *args)

    return run_pytest


def assert_fails_naming(result: pytest.RunResult, *fragments: str) -> str:
    """Exit 4 with one ``sessionerror:`` line holding every fragment; nothing ran or skipped."""
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, output
    lines = [line for line in result.stderr.lines if "sessionerror:" in line]
    assert len(lines) == 1, output
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} missing from: {lines[0]}"
    assert "Traceback" not in output
    assert "skipped" not in output
    assert PASSWORD not in output
    return lines[0]


@pytest.mark.parametrize("via", ["cli", "env", "ini"])
def test_missing_pg_bin_dir(
    pytester: pytest.Pytester, run: Run, monkeypatch: pytest.MonkeyPatch, via: str
) -> None:
    missing = "/nonexistent/pg/bin"
    args = ["--sessionerror-backend", "all"]
    if via == "cli":
        args += ["--sessionerror-pg-bin-dir", missing]
    elif via == "env":
        monkeypatch.setenv("SESSIONERROR_PG_BIN_DIR", missing)
    else:
        pytester.makeini(f"[pytest]\nsessionerror_pg_bin_dir = {missing}\n")
    assert_fails_naming(run(*args), missing, "--sessionerror-pg-bin-dir", "pg_config --bindir")


def test_explicit_container_image_without_docker(run: Run) -> None:
    line = assert_fails_naming(
        run(
            "--sessionerror-backend",
            "all",
            "--sessionerror-no-local-postgres",
            "--sessionerror-container-image",
            "postgres:16-alpine",
        ),
        "--sessionerror-container-image",
        "'postgres:16-alpine'",
        "no Docker engine answered",
        "start Docker",
    )
    assert "SESSIONERROR_POSTGRES_URL" in line


def test_explicit_postgresql_backend_with_no_server(run: Run) -> None:
    assert_fails_naming(
        run("--sessionerror-backend", "postgresql", "--sessionerror-no-local-postgres"),
        "--sessionerror-backend",
        "PostgreSQL unavailable",
        "--sessionerror-backend sqlite",
    )


def test_unset_settings_still_skip(run: Run) -> None:
    # Nothing explicit asked for PostgreSQL beyond "all": its tests skip, SQLite's pass.
    result = run("--sessionerror-backend", "all", "--sessionerror-no-local-postgres")
    result.assert_outcomes(passed=1, skipped=1)


@pytest.fixture
def role_without_createdb(server_url: str) -> Iterator[str]:
    """A login role that may not create databases; dropped afterwards."""
    admin: Engine = create_engine(server_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    role = f"sessionerror_nocreatedb_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f"CREATE ROLE {role} LOGIN NOCREATEDB PASSWORD '{PASSWORD}'"))
    try:
        yield role
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()


def test_url_whose_role_may_not_create_databases(
    run: Run, server_url: str, role_without_createdb: str
) -> None:
    url = make_url(server_url).set(username=role_without_createdb, password=PASSWORD)
    line = assert_fails_naming(
        run(
            "--sessionerror-backend",
            "all",
            "--sessionerror-postgres-url",
            url.render_as_string(hide_password=False),
        ),
        f"role '{role_without_createdb}' may not create databases",
        f"ALTER ROLE {role_without_createdb} CREATEDB",
        "SESSIONERROR_POSTGRES_URL",
    )
    assert f"{role_without_createdb}:***@" in line


def test_reuse_schema_without_the_cache_it_needs(run: Run) -> None:
    assert_fails_naming(
        run("-p", "no:cacheprovider", "--sessionerror-reuse-schema"),
        "--sessionerror-reuse-schema",
        "-p no:cacheprovider",
        "enable the cache",
    )
