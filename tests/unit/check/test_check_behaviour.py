"""Behaviour checks: always rolled back, refused under autocommit."""

from __future__ import annotations

from typing import Any

import pytest
from broken_schemas import count_rows, ddl, make_engine, pg_schema_snapshot, run_ddl
from sqlalchemy import event, text

from sessionerror.check import CheckStatus, run_checks
from sessionerror.check.behaviour import BEHAVIOUR_CHECKS

BEHAVIOUR_IDS = [check_id for check_id, _ in BEHAVIOUR_CHECKS]


def _populate(url: str) -> None:
    engine = make_engine(url)
    sid = "11111111-1111-1111-1111-111111111111"
    if engine.dialect.name == "sqlite":
        sid = sid.replace("-", "")
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO sessions (id, name, current_stage) VALUES (:id, 'x', 'upload')"),
            {"id": sid},
        )
        conn.execute(
            text(
                "INSERT INTO session_errors (id, session_id, error_category, severity, "
                "operation_stage, user_message, recovery_actions, technical_details) VALUES "
                "(:eid, :sid, 'temporary', 'info', 'review', 'kept', '{\"actions\": []}', '{}')"
            ),
            {"eid": sid[:-1] + "2", "sid": sid},
        )
    engine.dispose()


def test_nothing_remains_after_the_checks(reference_db_url: str) -> None:
    _populate(reference_db_url)
    before = count_rows(reference_db_url)
    pg = reference_db_url.startswith("postgresql")
    schema_before = pg_schema_snapshot(reference_db_url) if pg else None
    engine = make_engine(reference_db_url)
    try:
        report = run_checks(engine)
    finally:
        engine.dispose()
    assert report.ok, report.format()
    assert (
        count_rows(reference_db_url)
        == before
        == {
            "sessions": 1,
            "uploaded_files": 0,
            "tickets": 0,
            "session_errors": 1,
        }
    )
    if pg:
        assert pg_schema_snapshot(reference_db_url) == schema_before
    run_checks(reference_db_url)  # through a URL as well
    assert count_rows(reference_db_url) == before


@pytest.mark.parametrize("broken", ["session_fk", "message_check"])
def test_nothing_remains_when_checks_fail(blank_db_url: str, broken: str) -> None:
    dialect = "sqlite" if blank_db_url.startswith("sqlite") else "postgresql"
    mistake: dict[str, Any] = {"session_fk": ""} if broken == "session_fk" else {}
    if broken == "message_check":
        mistake = {"message_check": False}
    run_ddl(blank_db_url, ddl(dialect, **mistake))
    report = run_checks(blank_db_url)
    assert not report.ok
    assert count_rows(blank_db_url) == dict.fromkeys(count_rows(blank_db_url), 0)


def test_connection_in_a_transaction_uses_a_savepoint(reference_db_url: str) -> None:
    engine = make_engine(reference_db_url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _no_driver_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _emit_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

    try:
        with engine.connect() as conn:
            conn.begin()
            conn.execute(
                text(
                    "INSERT INTO sessions (id, name, current_stage) VALUES (:i, 'mine', 'upload')"
                ),
                {
                    "i": "a" * 32
                    if engine.dialect.name == "sqlite"
                    else "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
                },
            )
            report = run_checks(conn)
            assert report.ok, report.format()
            assert conn.in_transaction()  # the caller's transaction survives
            assert conn.execute(text("SELECT count(*) FROM sessions")).scalar_one() == 1
            assert conn.execute(text("SELECT count(*) FROM session_errors")).scalar_one() == 0
            conn.rollback()
    finally:
        engine.dispose()
    assert count_rows(reference_db_url)["sessions"] == 0


def test_autocommit_url_runs_schema_checks_only(reference_db_url: str) -> None:
    report = run_checks(reference_db_url + "?isolation_level=AUTOCOMMIT")
    for check_id in BEHAVIOUR_IDS:
        result = report.get(check_id)
        assert result.status is CheckStatus.SKIP
        assert "autocommit" in result.reason.lower()
        assert "rollback cannot be guaranteed" in result.reason
    assert report.get("schema.fk.session_id").status is CheckStatus.PASS
    assert count_rows(reference_db_url)["sessions"] == 0


@pytest.mark.sqlite
def test_sqlite_driver_autocommit_is_refused(tmp_path: Any) -> None:
    from sessionerror.models import Base

    engine = make_engine(f"sqlite:///{tmp_path / 'ac.db'}")

    @event.listens_for(engine, "connect")
    def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # and no BEGIN event: RELEASE would commit

    Base.metadata.create_all(engine)
    try:
        report = run_checks(engine)
    finally:
        engine.dispose()
    reasons = {report.get(i).reason for i in BEHAVIOUR_IDS}
    assert len(reasons) == 1
    assert "isolation_level=None" in reasons.pop()
    assert count_rows(f"sqlite:///{tmp_path / 'ac.db'}") == dict.fromkeys(
        ("sessions", "uploaded_files", "tickets", "session_errors"), 0
    )


def test_schema_only(reference_db_url: str) -> None:
    report = run_checks(reference_db_url, behaviour=False)
    assert not any(r.id.startswith("behaviour.") for r in report.results)
    assert report.ok
