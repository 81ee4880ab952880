"""--sessionerror-alembic-ini: migrations build the schema once per backend and run, on both
backends, under xdist, reused across runs until any script changes; failures are one line."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic_project import KIT_ROOT, AlembicProject
from pytester_runs import kill_when_ready
from sqlalchemy import create_engine, text

RunPytest = Callable[..., pytest.RunResult]

PROBE = """
import pytest
from sqlalchemy import inspect, text

@pytest.mark.parametrize("i", range(4))
def test_migrated(sessionerror_engine, i):
    columns = {c["name"] for c in inspect(sessionerror_engine).get_columns("tickets")}
    assert "priority" in columns  # only revision 0003 creates it
    with sessionerror_engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert version == "0003"
"""


def _common(server_url: str) -> list[str]:
    return ["--sessionerror-backend", "all", "--sessionerror-postgres-url", server_url]


def _database_exists(server_url: str, name: str) -> bool:
    engine = create_engine(server_url)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
    finally:
        engine.dispose()
    return found is not None


def _drop_kept_template(server_url: str, project: AlembicProject, rootdir: Path) -> None:
    from sessionerror.testdb.migrations import AlembicSetup
    from sessionerror.testdb.postgres.kept_templates import kept_template_prefix

    fingerprint = AlembicSetup(project.root / "alembic.ini").sessionerror_fingerprint()
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        # Only this test's kept template (owner: role and rootdir): other runs keep theirs.
        name = kept_template_prefix(connection, str(rootdir)) + fingerprint[:16]
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def test_xdist_runs_the_migrations_once_per_backend(
    pytester: pytest.Pytester, project: AlembicProject, run_pytest: RunPytest, server_url: str
) -> None:
    pytester.makepyfile(test_probe=PROBE)
    result = run_pytest(
        "-n", "2", *_common(server_url), "--sessionerror-alembic-ini", "alembic.ini", xdist=True
    )
    result.assert_outcomes(passed=8)
    dialects = sorted(line.split()[0] for line in project.runs)
    assert dialects == ["postgresql", "sqlite"], project.runs
    # The template the migrations ran on is gone at the end of the run.
    template = next(line.split()[1] for line in project.runs if line.startswith("postgresql"))
    assert not _database_exists(server_url, template)


@pytest.mark.parametrize("via", ["cli", "ini"])
def test_ini_keys_and_target(
    pytester: pytest.Pytester,
    project: AlembicProject,
    run_pytest: RunPytest,
    server_url: str,
    via: str,
) -> None:
    pytester.makepyfile(
        test_target="""
        from sqlalchemy import inspect

        def test_stopped_at_0002(sessionerror_engine, sessionerror_config):
            assert sessionerror_config.alembic_target == "0002"
            columns = {c["name"] for c in inspect(sessionerror_engine).get_columns("tickets")}
            assert "priority" not in columns
            assert "session_errors" in inspect(sessionerror_engine).get_table_names()
        """
    )
    if via == "ini":
        pytester.makeini(
            "[pytest]\nsessionerror_alembic_ini = alembic.ini\nsessionerror_alembic_target = 0002\n"
        )
        result = run_pytest(*_common(server_url))
    else:
        result = run_pytest(
            *_common(server_url),
            "--sessionerror-alembic-ini", "alembic.ini", "--sessionerror-alembic-target", "0002",
        )  # fmt: skip
    result.assert_outcomes(passed=2)
    assert len(project.runs) == 2


def test_fixtures_listing_documents_the_migration_checks(
    pytester: pytest.Pytester, run_inprocess: RunPytest
) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    lines = run_inprocess("--fixtures").stdout.lines
    index = next(i for i, line in enumerate(lines) if line.startswith("sessionerror_migrations "))
    assert "assert_no_drift" in " ".join(lines[index + 1 : index + 3])


def test_reuse_skips_an_unchanged_history_and_rebuilds_after_an_edit(
    pytester: pytest.Pytester, project: AlembicProject, run_pytest: RunPytest, server_url: str
) -> None:
    pytester.makepyfile(test_probe=PROBE)
    args = [
        "-p", "cacheprovider", *_common(server_url),
        "--sessionerror-alembic-ini", "alembic.ini", "--sessionerror-reuse-schema",
    ]  # fmt: skip
    try:
        run_pytest(*args).assert_outcomes(passed=8)
        assert len(project.runs) == 2
        run_pytest(*args).assert_outcomes(passed=8)
        assert len(project.runs) == 2, "an unchanged history must not run again"
        # One process kept its database itself; xdist workers copy a template, built once.
        run_pytest("-n", "2", *args, xdist=True).assert_outcomes(passed=8)
        assert len(project.runs) == 3, "the kept template is built once, on PostgreSQL"
        again = run_pytest("-n", "2", *args, xdist=True)
        again.assert_outcomes(passed=8)
        assert len(project.runs) == 3, "an unchanged history must not run again"
        again.stdout.fnmatch_lines(
            ["*postgresql schema template sessionerror_keep_*_tpl_* (reused, no build)*"]
        )
        path = project.versions / "0003_ticket_priority.py"
        path.write_text(path.read_text() + "\n# reviewed\n")
        run_pytest(*args).assert_outcomes(passed=8)
        assert len(project.runs) == 5, "an edited revision must rebuild"
    finally:
        _drop_kept_template(server_url, project, pytester.path)


def test_a_failing_revision_stops_the_run_naming_revision_and_statement(
    pytester: pytest.Pytester, project: AlembicProject, run_pytest: RunPytest, server_url: str
) -> None:
    project.add_revision(
        "0004_broken",
        "0003",
        "    op.execute('ALTER TABLE no_such_table ADD COLUMN x INTEGER')",
        "    pass",
    )
    pytester.makepyfile(test_probe=PROBE)
    for backend in ("sqlite", "postgresql"):
        result = run_pytest(
            "--sessionerror-backend", backend, "--sessionerror-postgres-url", server_url,
            "--sessionerror-alembic-ini", "alembic.ini",
        )  # fmt: skip
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        errors = [line for line in result.stderr.lines if "sessionerror:" in line]
        assert len(errors) == 1, result.stderr.str()
        assert f"migration 0004 (0004_broken.py) failed on {backend}" in errors[0]
        assert "statement: ALTER TABLE no_such_table ADD COLUMN x INTEGER" in errors[0]
        assert "Traceback" not in result.stderr.str()
        result.stdout.no_fnmatch_line("*passed*")
    database = next(line.split()[1] for line in project.runs if line.startswith("postgresql"))
    assert not _database_exists(server_url, database), "the failed template must be dropped"
    sqlite_file = next(line.split()[1] for line in project.runs if line.startswith("sqlite"))
    assert not (project.root / sqlite_file).exists()
    assert not __import__("pathlib").Path(sqlite_file).exists()


@pytest.mark.parametrize("via", ["cli", "ini"])
def test_a_wrong_path_is_one_line_naming_the_setting(
    pytester: pytest.Pytester, run_pytest: RunPytest, via: str
) -> None:
    pytester.makepyfile(test_probe=PROBE)
    if via == "cli":
        result = run_pytest("--sessionerror-alembic-ini", "no/such/alembic.ini")
    else:
        pytester.makeini("[pytest]\nsessionerror_alembic_ini = no/such/alembic.ini\n")
        result = run_pytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*sessionerror_alembic_ini='no/such/alembic.ini': no such file*alembic.ini*"]
    )
    assert "Traceback" not in result.stderr.str()


BLOCK_ALEMBIC = """
import sys

class _Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "alembic":
            raise ImportError("No module named 'alembic' (blocked by the test)")
        return None

sys.meta_path.insert(0, _Blocker())
"""


def test_missing_alembic_is_one_line_naming_the_setting_and_the_extra(
    pytester: pytest.Pytester,
    project: AlembicProject,
    run_pytest: RunPytest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site = pytester.mkdir("blocker")
    (site / "sitecustomize.py").write_text(BLOCK_ALEMBIC)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), str(project.root), str(KIT_ROOT)]))
    pytester.makepyfile(test_probe=PROBE)
    result = run_pytest("--sessionerror-alembic-ini", "alembic.ini", fresh_interpreter=True)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*sessionerror_alembic_ini*is set but alembic is not installed*"
            "sessionerror[[]migrations[]]*"
        ]
    )


def test_migrations_and_a_setup_callable_exclude_each_other(
    pytester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    pytester.makepyfile(test_probe=PROBE)
    result = run_pytest(
        "--sessionerror-alembic-ini", "alembic.ini", "--sessionerror-schema-setup", "os:getcwd"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*alembic_ini and sessionerror_schema_setup are both set*"])


def test_a_killed_runs_templates_are_removed_at_the_next_start(
    pytester: pytest.Pytester, project: AlembicProject, server_url: str
) -> None:

    ready = pytester.path / "ready.txt"
    pytester.makepyfile(
        test_hang=f"""
        import time
        from pathlib import Path

        def test_hangs(sessionerror_engine):
            Path({str(ready)!r}).write_text("x")
            time.sleep(120)
        """
    )
    args = [
        "-p", "no:randomly", "-p", "no:xdist", "--sessionerror-backend", "all",
        "--sessionerror-postgres-url", server_url, "--sessionerror-alembic-ini", "alembic.ini",
        "--sessionerror-no-reuse-schema",  # per-run templates: what a killed run leaves
    ]  # fmt: skip
    kill_when_ready([*args, "-k", "sqlite"], cwd=pytester.path, ready=ready)
    template = next(line.split()[1] for line in project.runs if line.startswith("postgresql"))
    sqlite_template = next(line.split()[1] for line in project.runs if line.startswith("sqlite"))
    run_dir = Path(sqlite_template).parent
    assert _database_exists(server_url, template), "a killed run leaves its template"
    assert run_dir.is_dir()
    ready.unlink()
    pytester.makepyfile(test_hang="def test_ok(sessionerror_engine): pass")
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(passed=2)
    assert not _database_exists(server_url, template)
    assert not run_dir.exists()
