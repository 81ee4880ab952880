"""``summary --top N`` caps every table, ages read as minutes/hours/days, and ``export`` ends
with a sentence (issue 19), on both backends."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from broken_schemas import make_engine
from sqlalchemy import text

from sessionerror.cli import main
from sessionerror.summary import format_age, summarise

#: One blocking error per session: (category, stage, code, age in minutes).
ROWS = [
    ("user_fixable", "upload", "UP_413", 45),
    ("admin_required", "jira_export", "JIRA_401", 5 * 60),
    ("temporary", "processing", "PROC_SLOW", 3 * 24 * 60),
    ("user_fixable", "review", "REV_BAD", 20 * 24 * 60),
    ("temporary", "upload", "UP_TIMEOUT", 2 * 60),
]


def _populate(url: str) -> None:
    engine = make_engine(url)
    dialect = engine.dialect.name
    now = datetime.now(UTC).replace(tzinfo=None)

    def new_id() -> str:
        return uuid.uuid4().hex if dialect == "sqlite" else str(uuid.uuid4())

    with engine.begin() as conn:
        for category, stage, code, minutes in ROWS:
            sid = new_id()
            conn.execute(
                text("INSERT INTO sessions (id, name, current_stage) VALUES (:i, 's', 'upload')"),
                {"i": sid},
            )
            conn.execute(
                text(
                    "INSERT INTO session_errors (id, session_id, error_category, severity, "
                    "operation_stage, user_message, recovery_actions, technical_details, "
                    "error_code, created_at) VALUES (:id, :sid, :cat, 'blocking', :stage, "
                    "'It failed', :actions, '{}', :code, :created)"
                ),
                {
                    "id": new_id(),
                    "sid": sid,
                    "cat": category,
                    "stage": stage,
                    "actions": json.dumps({"actions": ["Retry"]}),
                    "code": code,
                    "created": (now - timedelta(minutes=minutes)).isoformat(sep=" "),
                },
            )
    engine.dispose()


def test_top_caps_every_list_and_says_how_many_there_are(reference_db_url: str) -> None:
    _populate(reference_db_url)
    summary = summarise(reference_db_url, top=2)
    assert summary["total_errors"] == 5
    assert len(summary["by_stage_category_severity"]) == 2
    assert summary["pattern_count"] == 5
    assert len(summary["top_error_codes"]) == 2
    assert summary["error_code_count"] == 5
    assert len(summary["blocked_sessions"]["sessions"]) == 2
    assert summary["blocked_sessions"]["count"] == 5
    assert len(summary["oldest_blocking_errors"]) == 2


def _sections(out: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    for block in out.split("\n\n")[1:]:
        title, *rows = block.splitlines()
        sections[title] = rows
    return sections


def test_summary_text_caps_every_table_and_reads_ages_in_hours_and_days(
    reference_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _populate(reference_db_url)
    assert main(["summary", "--db", reference_db_url, "--top", "2"]) == 0
    sections = _sections(capsys.readouterr().out)
    assert len(sections) == 4, sections
    for title, rows in sections.items():
        data = [row for row in rows if not row.lstrip().startswith("...")]
        assert len(data) == 2, (title, rows)
        if title != "Oldest blocking errors:":
            assert rows[-1] == "  ... and 3 more (a larger --top shows them)", (title, rows)
    blocked = sections["Sessions currently blocked: 5"]
    assert blocked[0].endswith("1 blocking, oldest 20 d ago"), blocked
    assert blocked[1].endswith("1 blocking, oldest 3.0 d ago"), blocked
    oldest = sections["Oldest blocking errors:"]
    assert oldest[0].split()[:3] == ["20", "d", "ago"], oldest
    assert oldest[1].split()[:3] == ["3.0", "d", "ago"], oldest


@pytest.mark.parametrize(
    ("minutes", "shown"),
    [(None, "-"), (0.2, "0 min"), (45, "45 min"), (300, "5.0 h"), (4320, "3.0 d"), (28800, "20 d")],
)
def test_format_age(minutes: float | None, shown: str) -> None:
    assert format_age(minutes) == shown


@pytest.mark.parametrize("wrong", ["45", True])
def test_format_age_refuses_what_is_not_minutes(wrong: object) -> None:
    with pytest.raises(TypeError, match="number of minutes"):
        format_age(wrong)  # type: ignore[arg-type]


def test_export_ends_with_a_sentence(
    reference_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _populate(reference_db_url)
    target = tmp_path / "out.db"
    assert main(["export", "--db", reference_db_url, "--to", str(target)]) == 0
    captured = capsys.readouterr()
    last = captured.err.strip().splitlines()[-1]
    assert last == f"done: 5 sessions and 5 errors exported to {target}", captured.err
    assert not re.search(r"[{}]", captured.err)
    assert captured.out.strip().splitlines()[-1].startswith("exported 5 sessions and 5 errors")
