"""export (sqlite-utils) and summary, from both backends."""

from __future__ import annotations

import json
import sqlite3
import sys
import uuid
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from broken_schemas import make_engine
from sqlalchemy import text

from sessionerror.cli import main
from sessionerror.export import export_database
from sessionerror.summary import summarise

SECRET = "Bearer abc123secrettoken"


def _id(dialect: str) -> str:
    return uuid.uuid4().hex if dialect == "sqlite" else str(uuid.uuid4())


def _populate(url: str) -> dict[str, str]:
    """2 sessions, 4 errors (2 blocking in session A), technical details unredacted."""
    engine = make_engine(url)
    dialect = engine.dialect.name
    a, b = _id(dialect), _id(dialect)
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        (a, "user_fixable", "blocking", "upload", "Upload failed: file too large", "UP_413", 120),
        (
            a,
            "admin_required",
            "blocking",
            "jira_export",
            "Jira rejected credentials",
            "JIRA_401",
            60,
        ),
        (a, "temporary", "warning", "processing", "Processing slow", "PROC_SLOW", 30),
        (b, "temporary", "info", "review", "Review saved as draft", "PROC_SLOW", 5),
    ]
    insert = text(
        "INSERT INTO session_errors (id, session_id, error_category, severity, operation_stage, "
        "user_message, recovery_actions, technical_details, error_code, created_at) VALUES "
        "(:id, :sid, :cat, :sev, :stage, :msg, :actions, :details, :code, :created)"
    )
    with engine.begin() as conn:
        for sid, name in ((a, "A"), (b, "B")):
            conn.execute(
                text("INSERT INTO sessions (id, name, current_stage) VALUES (:i, :n, 'upload')"),
                {"i": sid, "n": name},
            )
        for sid, cat, sev, stage, msg, code, minutes in rows:
            details = {"request": {"headers": {"Authorization": SECRET}}, "status": 401}
            conn.execute(
                insert,
                {
                    "id": _id(dialect),
                    "sid": sid,
                    "cat": cat,
                    "sev": sev,
                    "stage": stage,
                    "msg": msg,
                    "actions": json.dumps({"actions": ["Retry"]}),
                    "details": json.dumps(details),
                    "code": code,
                    "created": (now - timedelta(minutes=minutes)).isoformat(sep=" "),
                },
            )
        raw = conn.execute(text("SELECT CAST(technical_details AS TEXT) FROM session_errors"))
        assert SECRET in raw.scalars().first()  # unredacted at the source
    engine.dispose()
    return {"a": str(uuid.UUID(a)), "b": str(uuid.UUID(b))}


def test_export_to_sqlite_utils(reference_db_url: str, tmp_path: Path) -> None:
    import sqlite_utils

    ids = _populate(reference_db_url)
    target = tmp_path / "errors.db"
    counts = export_database(reference_db_url, target, batch_size=2)
    assert counts == {"sessions": 2, "session_errors": 4}
    db = sqlite_utils.Database(str(target))
    assert db["sessions"].count == 2
    assert db["session_errors"].count == 4
    rows = list(db["session_errors"].rows)
    assert {r["session_id"] for r in rows} == {ids["a"], ids["b"]}
    for row in rows:
        details = json.loads(row["technical_details"])
        assert details["request"]["headers"]["Authorization"] == "[REDACTED]"
        assert json.loads(row["recovery_actions"]) == {"actions": ["Retry"]}
    assert SECRET not in target.read_bytes().decode("latin-1")
    hits = list(db["session_errors"].search("jira"))
    assert [h["error_code"] for h in hits] == ["JIRA_401"]
    with closing(sqlite3.connect(target)) as conn:
        assert conn.execute(
            "SELECT json_extract(recovery_actions, '$.actions[0]') FROM session_errors"
        ).fetchone() == ("Retry",)
    db.conn.close()


def test_export_scrubs_every_free_text_column_of_raw_sql_rows(
    reference_db_url: str, tmp_path: Path
) -> None:
    """Rows written by raw SQL never met the model's redaction: the export scrubs user_message,
    error_code, recovery_actions and technical_details itself."""
    import sqlite_utils

    engine = make_engine(reference_db_url)
    dialect = engine.dialect.name
    sid = _id(dialect)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO sessions (id, name, current_stage) VALUES (:i, 'raw', 'upload')"),
            {"i": sid},
        )
        conn.execute(
            text(
                "INSERT INTO session_errors (id, session_id, error_category, severity, "
                "operation_stage, user_message, recovery_actions, technical_details, error_code,"
                " created_at) VALUES (:id, :sid, 'admin_required', 'blocking', 'jira_export', "
                ":msg, :actions, :details, :code, :created)"
            ),
            {
                "id": _id(dialect),
                "sid": sid,
                "msg": "Login failed with password=hunter2pass for bob",
                "actions": json.dumps(
                    {"actions": [f"Retry with {SECRET}"], "api_key": "k-1234567890"}
                ),
                "details": json.dumps({"token": "tok-0987654321"}),
                "code": "AUTH token=s3cr3tvalue99",
                "created": datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" "),
            },
        )
    engine.dispose()
    target = tmp_path / "errors.db"
    export_database(reference_db_url, target)
    db = sqlite_utils.Database(str(target))
    (row,) = db["session_errors"].rows
    db.conn.close()
    assert row["user_message"] == "Login failed with password=[REDACTED] for bob"
    assert row["error_code"] == "AUTH token=[REDACTED]"
    assert json.loads(row["recovery_actions"]) == {
        "actions": ["Retry with Bearer [REDACTED]"],
        "api_key": "[REDACTED]",
    }
    assert json.loads(row["technical_details"]) == {"token": "[REDACTED]"}
    exported = target.read_bytes().decode("latin-1")
    for secret in ("hunter2pass", "s3cr3tvalue99", "abc123secrettoken", "k-1234567890"):
        assert secret not in exported


def test_export_refuses_to_overwrite(
    reference_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _populate(reference_db_url)
    out = tmp_path / "out"
    out.mkdir()
    target = out / "errors.db"
    target.write_text("keep me")
    assert main(["export", "--db", reference_db_url, "--to", str(target)]) == 2
    assert "--replace" in capsys.readouterr().err
    assert target.read_text() == "keep me"
    assert list(out.iterdir()) == [target]  # no partial file left
    assert main(["export", "--db", reference_db_url, "--to", str(target), "--replace"]) == 0
    assert "exported 2 sessions and 4 errors" in capsys.readouterr().out
    with closing(sqlite3.connect(target)) as conn:
        assert conn.execute("SELECT count(*) FROM session_errors").fetchone() == (4,)


@pytest.mark.sqlite
def test_export_progress_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sessionerror.models import Base

    url = f"sqlite:///{tmp_path / 'big.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    sid = uuid.uuid4().hex
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO sessions (id, name, current_stage) VALUES (:i, 'big', 'upload')"),
            {"i": sid},
        )
        conn.execute(
            text(
                "INSERT INTO session_errors (id, session_id, error_category, severity, "
                "operation_stage, user_message, recovery_actions, technical_details) VALUES "
                "(:id, :sid, 'temporary', 'info', 'upload', 'm', '{\"actions\": []}', '{}')"
            ),
            [{"id": uuid.uuid4().hex, "sid": sid} for _ in range(2500)],
        )
    engine.dispose()
    assert (
        main(["export", "--db", url, "--to", str(tmp_path / "out.db"), "--batch-size", "500"]) == 0
    )
    err = capsys.readouterr().err
    assert "done" in err
    counts = export_database(
        url, tmp_path / "out2.db", batch_size=300, progress=sys.stderr, progress_every=1000
    )
    assert counts["session_errors"] == 2500
    err = capsys.readouterr().err
    progress = [line for line in err.splitlines() if line.startswith("session_errors:")]
    assert progress == [
        "session_errors: 1200 rows exported",
        "session_errors: 2100 rows exported",
    ]


def test_export_without_sqlite_utils(
    reference_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "sqlite_utils", None)
    target = tmp_path / "e.db"
    assert main(["export", "--db", reference_db_url, "--to", str(target)]) == 2
    assert "pip install 'sessionerror[export]'" in capsys.readouterr().err
    assert not target.exists()


def test_summary_matches_the_data(
    reference_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _populate(reference_db_url)
    summary = summarise(reference_db_url, top=5)
    assert summary["total_errors"] == 4
    by = {
        (r["operation_stage"], r["error_category"], r["severity"]): r["count"]
        for r in summary["by_stage_category_severity"]
    }
    assert by == {
        ("upload", "user_fixable", "blocking"): 1,
        ("jira_export", "admin_required", "blocking"): 1,
        ("processing", "temporary", "warning"): 1,
        ("review", "temporary", "info"): 1,
    }
    assert summary["top_error_codes"][0] == {"error_code": "PROC_SLOW", "count": 2}
    assert summary["blocked_sessions"]["count"] == 1
    assert summary["blocked_sessions"]["sessions"][0]["session_id"] == ids["a"]
    assert summary["blocked_sessions"]["sessions"][0]["blocking_errors"] == 2
    oldest = summary["oldest_blocking_errors"]
    assert [e["error_code"] for e in oldest] == ["UP_413", "JIRA_401"]
    assert 115 < oldest[0]["age_minutes"] < 125
    assert main(["summary", "--db", reference_db_url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total_errors"] == 4
    assert main(["summary", "--db", reference_db_url]) == 0
    out = capsys.readouterr().out
    assert "Sessions currently blocked: 1" in out
    assert "JIRA_401" in out


def test_export_of_an_empty_database_is_a_valid_empty_file(
    reference_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite_utils

    target = tmp_path / "empty-export.db"
    assert main(["export", "--db", reference_db_url, "--to", str(target)]) == 0
    assert "exported 0 sessions and 0 errors" in capsys.readouterr().out
    db = sqlite_utils.Database(str(target))
    try:
        assert {"sessions", "session_errors", "session_errors_fts"} <= set(db.table_names())
        assert db["sessions"].count == 0
        assert db["session_errors"].count == 0
        columns = {c.name: c.type for c in db["session_errors"].columns}
        assert set(columns) >= {"id", "session_id", "user_message", "technical_details"}
        assert columns["user_message"] == "TEXT"
        assert db["session_errors"].foreign_keys[0].other_table == "sessions"
        assert list(db["session_errors"].search("anything")) == []
    finally:
        db.conn.close()


def test_failed_replace_keeps_the_previous_export(
    blank_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "errors.db"
    target.write_text("previous export")
    assert main(["export", "--db", blank_db_url, "--to", str(target), "--replace"]) == 2
    assert "no sessions, session_errors tables" in capsys.readouterr().err
    assert target.read_text() == "previous export"
    assert list(out.iterdir()) == [target]
