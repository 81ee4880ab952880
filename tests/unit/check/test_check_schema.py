"""Schema checks: the reference passes, each broken schema is caught by the right check."""

from __future__ import annotations

import pytest
from broken_schemas import BROKEN, Broken, ddl, make_engine, run_ddl

from sessionerror.check import CheckStatus, assert_contract, run_checks


def _dialect(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def test_reference_schema_passes_every_check(reference_db_url: str) -> None:
    engine = make_engine(reference_db_url)
    try:
        report = run_checks(engine)
        assert report.failures == [], report.format()
        assert_contract(engine)
    finally:
        engine.dispose()
    statuses = {r.id: r.status for r in report.results}
    if report.dialect == "sqlite":
        assert statuses["sqlite.foreign_keys"] is CheckStatus.PASS
        assert statuses["schema.jsonb"] is CheckStatus.SKIP
    else:
        assert statuses["schema.jsonb"] is CheckStatus.PASS
        assert statuses["schema.created_at_timezone"] is CheckStatus.PASS
    assert all(s is CheckStatus.PASS for i, s in statuses.items() if i.startswith("behaviour."))


def test_team_schema_with_other_index_names_passes(blank_db_url: str) -> None:
    run_ddl(blank_db_url, ddl(_dialect(blank_db_url)))
    engine = make_engine(blank_db_url)
    try:
        report = run_checks(engine)
    finally:
        engine.dispose()
    assert report.failures == [], report.format()
    assert report.get("schema.index.session_id").status is CheckStatus.PASS  # composite index


def test_url_bind_on_sqlite_skips_the_pragma_check(reference_db_url: str) -> None:
    report = run_checks(reference_db_url)
    assert report.ok, report.format()
    if report.dialect == "sqlite":
        fk = report.get("sqlite.foreign_keys")
        assert fk.status is CheckStatus.SKIP
        assert "assert_contract(engine)" in fk.reason


def test_empty_database_fails_on_missing_tables(blank_db_url: str) -> None:
    report = run_checks(blank_db_url)
    tables = report.get("schema.tables")
    assert tables.status is CheckStatus.FAIL
    assert "session_errors" in tables.found
    assert report.get("schema.columns").status is CheckStatus.SKIP
    assert report.get("behaviour.cascade_session").status is CheckStatus.SKIP
    with pytest.raises(AssertionError, match=r"schema\.tables"):
        assert_contract(blank_db_url)


@pytest.mark.parametrize(
    ("sessionerror_backend", "broken"),
    [
        pytest.param(
            dialect, broken, marks=getattr(pytest.mark, dialect), id=f"{broken.name}-{dialect}"
        )
        for broken in BROKEN
        for dialect in broken.dialects
    ],
    indirect=["sessionerror_backend"],
)
def test_broken_schema_is_caught_by_the_right_check(blank_db_url: str, broken: Broken) -> None:
    dialect = _dialect(blank_db_url)
    run_ddl(blank_db_url, ddl(dialect, **broken.mistake))
    engine = make_engine(blank_db_url, foreign_keys=not broken.foreign_keys_off)
    try:
        report = run_checks(engine)
    finally:
        engine.dispose()
    failing = {r.id for r in report.failures}
    assert failing == broken.failing, report.format()
    result = report.get(broken.check_id)
    for word in broken.found:
        assert word in result.found, (word, result.found)
    for word in broken.expected:
        assert word in result.expected, (word, result.expected)
    assert result.fix is not None
    fix_text = result.fix.ddl + " " + result.fix.sqlalchemy
    for word in broken.fix:
        assert word in fix_text, (word, fix_text)
    engine = make_engine(blank_db_url, foreign_keys=not broken.foreign_keys_off)
    try:
        with pytest.raises(AssertionError, match=broken.check_id.replace(".", r"\.")):
            assert_contract(engine)
    finally:
        engine.dispose()  # Python 3.13 warns about sqlite3 connections left to the collector


def test_sqlite_check_with_names_is_reported_as_names(tmp_path: object) -> None:
    import sqlite3
    from pathlib import Path

    path = Path(str(tmp_path)) / "names.db"
    sqlite3.connect(path).close()
    url = f"sqlite:///{path}"
    run_ddl(url, ddl("sqlite", categories=("USER_FIXABLE", "ADMIN_REQUIRED", "TEMPORARY")))
    result = run_checks(url, behaviour=False).get("schema.enum.error_category")
    assert result.status is CheckStatus.FAIL
    assert "CHECK" in result.found
    assert "rebuild" in result.fix.ddl if result.fix else False
