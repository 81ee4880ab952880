"""``sessionerror conformance`` and ``assert_conforms``: a class measured against the spec.

The reference model, a team's mixin model on its own Base and a hand-written class conform;
every class of the broken library is caught by exactly the clause of its defect.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import conformance_models as models
import pytest
from broken_schemas import make_engine
from sqlalchemy import func, select

from sessionerror.cli import main
from sessionerror.conformance import CLAUSES, assert_conforms, run_conformance
from sessionerror.errors import UsageError

CONFORMING = ["sessionerror.models:SessionError", "conformance_models:TeamError"]
CONFORMING.append("conformance_models:HandWrittenError")


@pytest.mark.parametrize("path", CONFORMING)
def test_conforming_classes_pass_every_clause(path: str) -> None:
    report = assert_conforms(path)
    assert [r.clause for r in report.results] == [clause for clause, _group in CLAUSES]
    assert report.counts() == {"pass": len(CLAUSES), "fail": 0, "skip": 0}


@pytest.mark.parametrize("name", sorted(models.BROKEN))
def test_each_broken_class_is_caught_by_its_clause(name: str) -> None:
    report = run_conformance(getattr(models, name))
    assert {r.clause for r in report.failures} == models.BROKEN[name], report.format()
    for failure in report.failures:
        assert failure.found and failure.expected and failure.fix, failure.format()


def test_the_library_covers_every_kind_of_defect() -> None:
    caught = set().union(*models.BROKEN.values())
    assert len(models.BROKEN) >= 10
    assert {"§4.enums", "§8.user_message", "§7.info", "kit.redaction", "§6.session_id"} <= caught
    assert {"§4.find_by_category", "§4.has_blocking_errors.statements"} <= caught


def test_assert_conforms_names_the_clause_and_the_fix() -> None:
    with pytest.raises(AssertionError) as caught:
        assert_conforms(models.FileCascades)
    message = str(caught.value)
    assert "1 violated clause" in message
    assert "§6.related_file_id" in message
    assert "ondelete='SET NULL'" in message


def test_cli_exit_0_when_the_class_conforms(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "conformance_models:TeamError"]) == 0
    out = capsys.readouterr().out
    assert "PASS  §4.find_by_category" in out
    assert "conformance_models:TeamError conforms: 21 passed, 0 failed" in out


def test_cli_exit_1_names_clause_found_and_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "conformance_models:EnumsStoredByName"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  §4.enums" in out
    assert "error_category stored 'ADMIN_REQUIRED'" in out
    assert "values_callable" in out
    assert "does NOT conform: 20 passed, 1 failed" in out


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "conformance_models:NoRedaction", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["model"] == "conformance_models:NoRedaction"
    assert report["summary"] == {"pass": len(CLAUSES) - 1, "fail": 1, "skip": 0}
    [failed] = [c for c in report["clauses"] if c["status"] == "FAIL"]
    assert failed["clause"] == "kit.redaction"
    assert set(failed) == {"clause", "title", "status", "found", "expected", "fix"}


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("no_such_module_sessionerror:Error", "cannot import 'no_such_module_sessionerror'"),
        ("conformance_models", "is not an import path MODULE:CLASS"),
        ("conformance_models:Nope", "has no attribute 'Nope'"),
        ("conformance_models:HandWritten", "is not a mapped SQLAlchemy class"),
    ],
)
def test_bad_import_path_is_one_line_exit_2(
    path: str, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["conformance", path]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith("sessionerror: error: conformance: ") and words in line


def test_unreachable_db_exit_2_without_the_password(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://u:s3cretpw@127.0.0.1:1/x"
    assert main(["conformance", "conformance_models:TeamError", "--db", url]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "s3cretpw" not in err


def test_db_without_the_tables_exit_2(
    blank_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["conformance", "conformance_models:TeamError", "--db", blank_db_url]) == 2
    assert "has no table(s) session_errors, sessions, tickets, uploaded_files" in (
        capsys.readouterr().err
    )


def _count(url: str, model: Any) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(model.__table__)).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.parametrize("name", ["TeamError", "SessionNoAction"])
def test_db_runs_inside_a_transaction_rolled_back(
    name: str, blank_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    model = getattr(models, name)
    engine = make_engine(blank_db_url)
    try:
        model.metadata.create_all(engine)
    finally:
        engine.dispose()
    code = main(["conformance", f"conformance_models:{name}", "--db", blank_db_url])
    out = capsys.readouterr().out
    assert code == (0 if name == "TeamError" else 1), out
    assert _count(blank_db_url, model) == 0
    sessions = next(iter(model.__table__.c.session_id.foreign_keys)).column.table
    assert _count(blank_db_url, type("S", (), {"__table__": sessions})) == 0


@pytest.mark.asyncio
async def test_assert_conforms_inside_a_running_event_loop() -> None:
    """From async test code the async clauses run on an event loop of their own."""
    report = assert_conforms(models.TeamError)
    assert report.get("async.write").status.value == "PASS"


def test_async_clauses_catch_what_only_async_breaks() -> None:
    report = run_conformance(models.ServerClock)
    [failure] = report.failures
    assert failure.clause == "async.write"
    assert "created_at" in failure.found and "MissingGreenlet" in failure.found
    assert "eager_defaults" in failure.fix


@pytest.mark.sessionerror(backends=["postgresql"])  # SQLite URLs carry no password
def test_db_password_is_never_printed(
    blank_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(blank_db_url)
    try:
        models.TeamError.metadata.create_all(engine)
    finally:
        engine.dispose()
    # The local server trusts its users: a password in the URL is accepted and ignored.
    url = blank_db_url.replace("postgres@", "postgres:Pa55-conformance@")
    assert main(["conformance", "conformance_models:TeamError", "--db", url, "--json"]) == 0
    captured = capsys.readouterr()
    assert "Pa55-conformance" not in captured.out + captured.err
    assert json.loads(captured.out)["database"].startswith("postgresql+psycopg2://postgres:***@")


def test_a_module_that_fails_to_import_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "team_models_broken_import.py").write_text(
        "raise RuntimeError('no DATABASE_URL')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["conformance", "team_models_broken_import:Error"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "cannot import 'team_models_broken_import': RuntimeError: no DATABASE_URL" in line


def test_an_autocommit_engine_is_refused_before_anything_is_written(blank_db_url: str) -> None:
    engine = make_engine(blank_db_url)
    try:
        models.TeamError.metadata.create_all(engine)
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        with pytest.raises(UsageError, match="AUTOCOMMIT"):
            run_conformance(models.TeamError, db=autocommit)
    finally:
        engine.dispose()
    assert _count(blank_db_url, models.TeamError) == 0
