"""The example scripts and the scenario functions behind them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, inspect, select

from sessionerror.models import Base
from sessionerror.scenarios import SCENARIOS, engine_from_url

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
FK_DEPENDENT = ("cascade", "set_null", "cleanup_7_day")


def run_script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLES / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        names = set(inspect(connection).get_table_names())
        return {
            table.name: int(
                connection.execute(select(func.count()).select_from(table)).scalar_one()
            )
            for table in Base.metadata.sorted_tables
            if table.name in names
        }


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_script_passes_on_the_default_sqlite(name: str) -> None:
    done = run_script(name)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("Scenario: ")
    assert "[ok]" in done.stdout and "[FAILED]" not in done.stdout
    assert "Result: PASSED" in done.stdout
    assert done.stderr == ""


@pytest.mark.parametrize("name", FK_DEPENDENT)
def test_script_fails_loudly_with_sqlite_foreign_keys_off(name: str) -> None:
    done = run_script(name, "--sqlite-foreign-keys-off")
    assert done.returncode == 1, done.stdout
    assert "[FAILED]" in done.stdout and "Result: FAILED" in done.stdout
    assert "PRAGMA foreign_keys=ON" in done.stdout


@pytest.mark.parametrize("name", FK_DEPENDENT)
def test_scenario_on_a_plain_sqlite_engine_is_not_ok(name: str, tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'plain.db'}")  # no PRAGMA foreign_keys
    try:
        result = SCENARIOS[name](engine)
    finally:
        engine.dispose()
    assert result.ok is False
    assert any("foreign keys are not enforced" in line for line in result.lines)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_function_on_the_plugin_database_leaves_it_unchanged(
    sessionerror_engine: Engine, name: str
) -> None:
    before = row_counts(sessionerror_engine)
    result = SCENARIOS[name](sessionerror_engine)
    assert result.ok, result.report()
    assert row_counts(sessionerror_engine) == before


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_script_with_db_url_leaves_the_database_unchanged(
    sessionerror_engine: Engine, name: str
) -> None:
    url = sessionerror_engine.url.render_as_string(hide_password=False)
    before = row_counts(sessionerror_engine)
    done = run_script(name, "--db", url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"database: {sessionerror_engine.dialect.name}" in done.stdout
    assert row_counts(sessionerror_engine) == before


@pytest.mark.postgresql
@pytest.mark.parametrize("sessionerror_backend", ["postgresql"], indirect=True)
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_script_with_bare_postgresql_url_creates_nothing(
    empty_postgres_url: str, sessionerror_backend: str, name: str
) -> None:
    # An empty database of the same server: the schema is created inside the rolled-back
    # transaction, so afterwards there must be no table and no enum type (the fixture checks).
    done = run_script(name, "--db", empty_postgres_url)
    assert done.returncode == 0, done.stdout + done.stderr


def test_engine_from_url_names_the_psycopg2_driver() -> None:
    engine = engine_from_url("postgresql://user@db.example/app")
    try:
        assert engine.url.drivername == "postgresql+psycopg2"
    finally:
        engine.dispose()


PW = "S3cretPw9x"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--db", f"postgresql://user:{PW}@127.0.0.1:1/db"], "cannot connect"),
        (["--db", f"postgresql//user:{PW}@127.0.0.1/db"], "invalid database URL"),
        (["--db", f"mysql://user:{PW}@127.0.0.1/db"], "only SQLite and PostgreSQL"),
        (["--db", ""], "the database URL is empty"),
        (["--nope", f"postgresql://user:{PW}@h/db"], "unrecognized arguments"),
    ],
    ids=["unreachable", "typo", "unsupported", "empty", "bad-usage"],
)
def test_script_that_cannot_run_prints_one_line_and_exits_2(
    name: str, args: list[str], fragment: str
) -> None:
    done = run_script(name, *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert PW not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"{name}.py: error: ")
    assert fragment in lines[0]
    assert "Fix:" in lines[0]


def test_script_never_creates_a_missing_sqlite_file(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    done = run_script("cascade", "--db", f"sqlite:///{missing}")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "does not exist" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_script_run_by_a_python_without_the_project_says_to_use_the_virtualenv() -> None:
    # -S: no site-packages, so neither sessionerror nor SQLAlchemy can be imported.
    done = subprocess.run(
        [sys.executable, "-S", str(EXAMPLES / "set_null.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "source .venv/bin/activate" in lines[0]
    assert ".venv/bin/python examples/set_null.py" in lines[0]


def test_examples_readme_says_how_to_use_the_virtualenv() -> None:
    readme = (EXAMPLES / "README.md").read_text()
    assert "source .venv/bin/activate" in readme
    assert ".venv/bin/python examples/" in readme
    for code in ("| 0 |", "| 1 |", "| 2 |"):
        assert code in readme
