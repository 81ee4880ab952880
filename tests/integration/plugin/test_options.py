"""Every option through the CLI and the ini file; help, fixtures listing and the run header.

One subprocess per source (CLI flag, ini key, environment variable) proves a setting reaches a
test through the installed plugin; every other check runs pytest in this process (the value
mapping itself: tests/unit/plugin/test_option_sources.py).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import make_url

from sessionerror.plugin.config import OPTIONS, OptionSpec, SessionErrorConfig

RunPytest = Callable[..., pytest.RunResult]
Resolve = Callable[..., SessionErrorConfig]

BACKEND_PROBE = """
def test_probe(sessionerror_backend, sessionerror_engine):
    assert sessionerror_engine.dialect.name == sessionerror_backend
"""


def test_help_shows_the_option_group_with_every_option(run_inprocess: RunPytest) -> None:
    result = run_inprocess("--help")
    result.stdout.fnmatch_lines(["*sessionerror: SessionError test databases*"])
    for option in OPTIONS:
        result.stdout.fnmatch_lines([f"*{option.cli}*"])
        result.stdout.fnmatch_lines([f"*{option.ini} (*"])


def test_fixtures_listing_documents_every_fixture(
    pytester: pytest.Pytester, run_inprocess: RunPytest
) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    result = run_inprocess("--fixtures")
    lines = result.stdout.lines
    for name in (
        "sessionerror_db",
        "sessionerror_engine",
        "sessionerror_connection",
        "sessionerror_backend",
        "sessionerror_assert_max_queries",
        "sessionerror_assert_num_queries",
        "sessionerror_config",
        "sessionerror_database",
        "sessionerror_provisioner",
        "sessionerror_databases",
    ):
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{name} "))
        docstring = lines[index + 1].strip()
        assert docstring and docstring != "no docstring available", name


@pytest.mark.parametrize(
    ("via", "value", "expected_ids"),
    [
        ("cli", "sqlite", ["sqlite"]),
        ("ini", "postgresql", ["postgresql"]),
        ("env", "all", ["sqlite", "postgresql"]),
    ],
)
def test_backend_option_from_each_source_reaches_the_tests(
    pytester: pytest.Pytester,
    run_pytest: RunPytest,
    server_url: str,
    monkeypatch: pytest.MonkeyPatch,
    via: str,
    value: str,
    expected_ids: list[str],
) -> None:
    config_probe = f"""
def test_config(sessionerror_config):
    assert sessionerror_config.backends == {tuple(expected_ids)!r}
"""
    pytester.makepyfile(test_probe=BACKEND_PROBE, test_config=config_probe)
    args = ["-v", "--sessionerror-postgres-url", server_url]
    if via == "cli":
        args += ["--sessionerror-backend", value]
    elif via == "ini":
        pytester.makeini(f"[pytest]\nsessionerror_backend = {value}\n")
    else:
        monkeypatch.setenv("SESSIONERROR_BACKEND", value)
    result = run_pytest(*args)
    result.assert_outcomes(passed=len(expected_ids) + 1)
    result.stdout.fnmatch_lines([f"*test_probe[[]{name}[]] PASSED*" for name in expected_ids])
    result.stdout.fnmatch_lines(["*test_config PASSED*"])
    result.stdout.fnmatch_lines([f"sessionerror: backends {', '.join(expected_ids)}"])


def test_precedence_cli_over_env_over_ini(
    pytester: pytest.Pytester, resolve: Resolve, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini("[pytest]\nsessionerror_backend = postgresql\n")
    assert resolve().backends == ("postgresql",)
    monkeypatch.setenv("SESSIONERROR_BACKEND", "all")
    assert resolve().backends == ("sqlite", "postgresql")  # env beats ini
    assert resolve("--sessionerror-backend", "sqlite").backends == ("sqlite",)  # CLI beats env


def test_marks_select_a_backend(
    pytester: pytest.Pytester, run_inprocess: RunPytest, server_url: str
) -> None:
    pytester.makepyfile(BACKEND_PROBE)
    common = ("-v", "--sessionerror-backend", "all", "--sessionerror-postgres-url", server_url)
    only_pg = run_inprocess(*common, "-m", "postgresql")
    only_pg.assert_outcomes(passed=1, deselected=1)
    only_pg.stdout.fnmatch_lines(["*test_probe[[]postgresql[]] PASSED*"])
    only_sqlite = run_inprocess(*common, "-k", "sqlite")
    only_sqlite.assert_outcomes(passed=1, deselected=1)


def test_bad_option_values_are_clear_usage_errors(
    pytester: pytest.Pytester, run_inprocess: RunPytest
) -> None:
    pytester.makepyfile(BACKEND_PROBE)
    pytester.makeini("[pytest]\nsessionerror_backend = mysql\n")
    result = run_inprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*sessionerror_backend='mysql' is unknown: use sqlite, postgresql or all*"]
    )
    pytester.makeini("[pytest]\nsessionerror_reuse_schema = maybe\n")
    result = run_inprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*sessionerror_reuse_schema='maybe' is not a boolean*"])


@pytest.mark.parametrize("via", ["cli", "ini"])
def test_sqlite_memory_path(pytester: pytest.Pytester, run_inprocess: RunPytest, via: str) -> None:
    pytester.makepyfile(
        """
        def test_memory(sessionerror_engine):
            assert sessionerror_engine.url.database in (None, "", ":memory:")
        """
    )
    if via == "cli":
        result = run_inprocess("--sessionerror-sqlite-path", ":memory:")
    else:
        pytester.makeini("[pytest]\nsessionerror_sqlite_path = :memory:\n")
        result = run_inprocess()
    result.assert_outcomes(passed=1)


def test_sqlite_file_is_per_worker_with_foreign_keys_on(
    pytester: pytest.Pytester, run_inprocess: RunPytest
) -> None:
    pytester.makepyfile(
        """
        from sqlalchemy import text

        def test_file(sessionerror_engine, sessionerror_connection):
            assert sessionerror_engine.url.database.endswith("sessionerror-main.db")
            fk = sessionerror_connection.execute(text("PRAGMA foreign_keys")).scalar()
            assert fk == 1
        """
    )
    run_inprocess().assert_outcomes(passed=1)


CUSTOM_SCHEMA = """
from sqlalchemy import Column, Integer, MetaData, String, Table

metadata = MetaData()
widgets = Table("widgets", metadata, Column("id", Integer, primary_key=True),
                Column("name", String(20)))

def build(connection):
    from pathlib import Path
    marker = Path(__file__).with_name("setup_calls.txt")
    marker.write_text(marker.read_text() + "x" if marker.exists() else "x")
    metadata.create_all(connection)
"""

CUSTOM_SCHEMA_TEST = """
from sqlalchemy import inspect

def test_tables(sessionerror_engine):
    assert set(inspect(sessionerror_engine).get_table_names()) == {"widgets"}
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("via", ["cli", "ini"])
def test_custom_metadata(
    pytester: pytest.Pytester, run_inprocess: RunPytest, server_url: str, via: str, backend: str
) -> None:
    pytester.makepyfile(myschema=CUSTOM_SCHEMA, test_custom=CUSTOM_SCHEMA_TEST)
    pytester.syspathinsert()
    common = ["--sessionerror-backend", backend, "--sessionerror-postgres-url", server_url]
    if via == "cli":
        result = run_inprocess(*common, "--sessionerror-metadata", "myschema:metadata")
    else:
        pytester.makeini("[pytest]\nsessionerror_metadata = myschema:metadata\n")
        result = run_inprocess(*common)
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize("via", ["cli", "ini"])
def test_schema_setup_callable_replaces_create_all(
    pytester: pytest.Pytester, run_inprocess: RunPytest, via: str
) -> None:
    pytester.makepyfile(myschema=CUSTOM_SCHEMA, test_custom=CUSTOM_SCHEMA_TEST)
    pytester.syspathinsert()
    # The reference metadata stays configured: only the setup callable decides the tables.
    if via == "cli":
        result = run_inprocess("--sessionerror-schema-setup", "myschema:build")
    else:
        pytester.makeini("[pytest]\nsessionerror_schema_setup = myschema:build\n")
        result = run_inprocess()
    result.assert_outcomes(passed=1)
    assert (pytester.path / "setup_calls.txt").read_text() == "x"


def test_bad_metadata_path_names_the_problem(
    pytester: pytest.Pytester, run_inprocess: RunPytest
) -> None:
    pytester.makepyfile(BACKEND_PROBE)
    result = run_inprocess("--sessionerror-metadata", "nosuchmodule:Base.metadata")
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # issue 19: once, before any test
    result.stderr.fnmatch_lines(
        ["*sessionerror_metadata='nosuchmodule:Base.metadata'*cannot import*"]
    )


@pytest.mark.parametrize(
    ("via", "backend"),
    [("cli", "sqlite"), ("ini", "sqlite"), ("cli", "postgresql"), ("default", "postgresql")],
)
def test_reuse_schema_skips_rebuild_until_the_schema_changes(
    pytester: pytest.Pytester, run_inprocess: RunPytest, server_url: str, via: str, backend: str
) -> None:
    pytester.makepyfile(myschema=CUSTOM_SCHEMA, test_custom=CUSTOM_SCHEMA_TEST)
    pytester.syspathinsert()
    args = [
        "-p",
        "cacheprovider",
        "--sessionerror-schema-setup",
        "myschema:build",
        "--sessionerror-backend",
        backend,
        "--sessionerror-postgres-url",
        server_url,
    ]
    if via == "cli":
        args.append("--sessionerror-reuse-schema")
    elif via == "ini":
        pytester.makeini("[pytest]\nsessionerror_reuse_schema = true\n")
    calls = pytester.path / "setup_calls.txt"
    run_inprocess(*args).assert_outcomes(passed=1)
    run_inprocess(*args).assert_outcomes(passed=1)
    assert calls.read_text() == "x", "an unchanged schema must not be rebuilt"
    pytester.makepyfile(
        myschema=CUSTOM_SCHEMA.replace('Column("name", String(20))', 'Column("name", String(40))')
    )
    run_inprocess(*args).assert_outcomes(passed=1)
    assert calls.read_text() == "xx", "a changed schema must be rebuilt"
    if backend == "postgresql":
        _drop_kept_databases(server_url, str(pytester.path))


def _drop_kept_databases(server_url: str, project: str) -> None:
    from sessionerror.testdb.postgres.kept_cleanup import drop_kept_databases

    # Only this project's kept databases: concurrent runs keep their own meanwhile.
    names = drop_kept_databases(server_url, project=project).dropped
    # One process keeps its database of the current schema only: the stale one is gone.
    assert len(names) == 1, f"the stale kept database must be gone: {names}"


def test_header_names_the_postgres_source(
    pytester: pytest.Pytester, run_inprocess: RunPytest, server_url: str
) -> None:
    pytester.makepyfile(BACKEND_PROBE)
    result = run_inprocess(
        "--sessionerror-backend",
        "postgresql",
        "--sessionerror-postgres-url",
        server_url.replace("postgres@", "postgres:hunter2@"),
    )
    where = make_url(server_url)  # the tests' server: SESSIONERROR_POSTGRES_URL or a local one
    result.stdout.fnmatch_lines([f"sessionerror: postgresql from *{where.host}:{where.port}*"])
    assert "hunter2" not in result.stdout.str() + result.stderr.str()


def test_backends_marker_argument_limits_a_test_to_some_backends(
    pytester: pytest.Pytester, run_inprocess: RunPytest, server_url: str
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.sessionerror(backends=["postgresql"])
        def test_pg_only(sessionerror_engine):
            assert sessionerror_engine.dialect.name == "postgresql"

        @pytest.mark.sessionerror(backends="sqlite")
        def test_sqlite_only(sessionerror_engine):
            assert sessionerror_engine.dialect.name == "sqlite"
        """
    )
    result = run_inprocess(
        "-v", "--sessionerror-backend", "all", "--sessionerror-postgres-url", server_url
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["*test_pg_only[[]postgresql[]] PASSED*", "*test_sqlite_only[[]sqlite[]] PASSED*"]
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.sessionerror(backends=["mysql"])
        def test_typo(sessionerror_engine):
            pass
        """
    )
    result = run_inprocess(
        "--sessionerror-backend", "all", "--sessionerror-postgres-url", server_url
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*backends must list 'sqlite' and/or 'postgresql'*"])


@pytest.mark.parametrize("via", ["cli", "ini"])
@pytest.mark.parametrize("option", OPTIONS, ids=[option.name for option in OPTIONS])
def test_every_option_is_read_from_its_flag_and_its_ini_key(
    pytester: pytest.Pytester, resolve: Resolve, via: str, option: OptionSpec
) -> None:
    """pytest's parsing hands each option to the plugin under its own name (the values are
    mapped in tests/unit/plugin/test_option_sources.py; here a distinct value per option)."""
    value = "true" if option.is_flag else _DISTINCT[option.name]
    flag = option.cli
    if option.is_flag and option.default == "true":  # on by default: its negative form
        value, flag = "false", option.cli.replace("--sessionerror-", "--sessionerror-no-", 1)
    if via == "cli":
        settings = resolve(*([flag] if option.is_flag else [option.cli, value]))
    else:
        pytester.makeini(f"[pytest]\n{option.ini} = {value}\n")
        settings = resolve()
    assert settings.explicit == {option.name}
    assert SessionErrorConfig.from_sources(cli={option.name: value}, ini={}, environ={}) == settings


#: A value of each setting that is not its default.
_DISTINCT = {
    "backend": "all",
    "postgres_url": "postgresql://someone@db.example:5432/postgres",
    "pg_bin_dir": "/opt/pg/bin",
    "container_image": "postgres:16.4-alpine",
    "sqlite_path": ":memory:",
    "metadata": "myapp.models:Base.metadata",
    "model": "myapp.models:AppError",
    "schema_setup": "myapp.schema:build",
    "alembic_ini": "migrations/alembic.ini",
    "alembic_target": "base",
}
