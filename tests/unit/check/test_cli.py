"""The ``sessionerror`` command: check, exit codes, masked URLs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from broken_schemas import ddl, run_ddl

from sessionerror.cli import main


def test_check_without_arguments_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "PASS  schema.fk.session_id" in out
    assert "PASS  behaviour.cascade_session" in out
    assert "FAIL" not in out
    assert "contract satisfied" in out


def test_check_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["fail"] == 0
    assert report["summary"]["pass"] > 20
    first = report["checks"][0]
    assert set(first) >= {"id", "status", "found", "expected", "fix"}


def test_python_m_sessionerror_check() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sessionerror", "check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "PASS" in done.stdout


def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--nope"]) == 2
    assert main([]) == 2


@pytest.mark.postgresql
@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:secretpw@127.0.0.1:1/x",
        "postgres://no_such_role_sessionerror:secretpw@127.0.0.1:5432/postgres",
    ],
    ids=["unreachable", "unknown-role"],
)
@pytest.mark.parametrize("command", ["check", "summary"])
def test_cannot_connect_exits_2_without_the_password(
    capsys: pytest.CaptureFixture[str], url: str, command: str
) -> None:
    assert main([command, "--db", url]) == 2
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "secretpw" not in output
    assert "***" in output
    assert "cannot connect" in captured.err
    assert "Traceback" not in output
    assert len(captured.err.strip().splitlines()) == 1


def test_missing_sqlite_file_is_not_created(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "missing.db"
    assert main(["check", "--db", f"sqlite:///{path}"]) == 2
    assert not path.exists()
    assert "does not exist" in capsys.readouterr().err


def test_broken_schema_exits_1(blank_db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    dialect = "sqlite" if blank_db_url.startswith("sqlite") else "postgresql"
    run_ddl(blank_db_url, ddl(dialect, session_fk=""))
    assert main(["check", "--db", blank_db_url]) == 1
    out = capsys.readouterr().out
    assert "FAIL  schema.fk.session_id" in out
    assert "ondelete='CASCADE'" in out


def test_reference_database_exits_0(
    reference_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--db", reference_db_url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["fail"] == 0
