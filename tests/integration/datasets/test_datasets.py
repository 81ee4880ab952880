"""Data sets: each shipped one loads on every backend; bad files fail whole and name the spot."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sessionerror.datasets import (
    DatasetError,
    LoadedDataset,
    available_datasets,
    dataset_path,
    load_dataset,
)
from sessionerror.models import SessionError, Ticket, UploadedFile, WorkflowSession
from sessionerror.models.enums import ErrorCategory, ErrorSeverity
from sessionerror.redaction import REDACTED

MODELS = (WorkflowSession, UploadedFile, Ticket, SessionError)
SHIPPED = {
    "upload_rejected",
    "processing_warnings",
    "jira_export_blocked",
    "temporary_outage_retried",
    "retention_mixed",
}


def counts(db: Session) -> tuple[int, ...]:
    return tuple(int(db.scalar(select(func.count()).select_from(model)) or 0) for model in MODELS)


def _upload_rejected(data: LoadedDataset, db: Session) -> None:
    error = data["e1"]
    assert error.is_user_fixable and error.is_blocking()
    assert error.operation_stage == "upload"
    assert SessionError.has_blocking_errors(data["s1"].id, db=db)
    assert error.related_file_id == data["f1"].id


def _processing_warnings(data: LoadedDataset, db: Session) -> None:
    assert not SessionError.has_blocking_errors(data["s1"].id, db=db)
    severities = {error.severity for error in data.errors.values()}
    assert severities == {ErrorSeverity.WARNING, ErrorSeverity.INFO}
    assert {e.operation_stage for e in data.errors.values()} == {"processing"}


def _jira_export_blocked(data: LoadedDataset, db: Session) -> None:
    blocker = data["e1"]
    assert blocker.requires_admin and blocker.is_blocking()
    assert blocker.operation_stage == "jira_export"
    assert SessionError.has_blocking_errors(data["s1"].id, db=db)
    assert all(ticket.jira_key is None for ticket in data.tickets.values())
    assert blocker.technical_details["request"]["headers"]["Authorization"] == REDACTED


def _temporary_outage_retried(data: LoadedDataset, db: Session) -> None:
    assert not SessionError.has_blocking_errors(data["s1"].id, db=db)
    found = SessionError.find_by_category(data["s1"].id, ErrorCategory.TEMPORARY, db=db)
    assert [e.error_code for e in found] == ["JIRA_UNAVAILABLE_503", "JIRA_RETRY_SUCCEEDED"]
    assert data["t1"].jira_key == "OPS-4217"  # the retry succeeded


def _retention_mixed(data: LoadedDataset, db: Session) -> None:
    from sessionerror.runtime.retention import purge_expired_sessions

    old_ids = [data.sessions[key].id for key in ("old", "expired")]
    assert purge_expired_sessions(db) >= 2
    for session_id in old_ids:
        assert db.get(WorkflowSession, session_id) is None
    remaining = db.scalars(select(SessionError.error_code)).all()
    assert "JIRA_SLOW" not in remaining and "UPLOAD_MISSING_COLUMN" not in remaining
    assert "PARSE_DEFAULT_PRIORITY" in remaining


SITUATIONS: dict[str, Callable[[LoadedDataset, Session], None]] = {
    "upload_rejected": _upload_rejected,
    "processing_warnings": _processing_warnings,
    "jira_export_blocked": _jira_export_blocked,
    "temporary_outage_retried": _temporary_outage_retried,
    "retention_mixed": _retention_mixed,
}


def test_available_datasets_lists_the_shipped_ones() -> None:
    assert set(available_datasets()) >= SHIPPED


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_dataset_loads_and_shows_its_situation(sessionerror_db: Session, name: str) -> None:
    before = counts(sessionerror_db)
    data = load_dataset(sessionerror_db, name)
    raw = json.loads(Path(data.path).read_text(encoding="utf-8"))
    expected_sessions = len(raw["sessions"])
    expected_errors = sum(len(s.get("errors", [])) for s in raw["sessions"])
    after = counts(sessionerror_db)
    assert after[0] - before[0] == expected_sessions == len(data.sessions)
    assert after[3] - before[3] == expected_errors == len(data.errors)
    assert data.description
    sessionerror_db.expire_all()  # check what the database holds, not the identity map
    SITUATIONS[name](data, sessionerror_db)


@pytest.mark.sessionerror_data("upload_rejected")
def test_marker_loads_the_dataset(sessionerror_db: Session) -> None:
    error = sessionerror_db.scalars(
        select(SessionError).where(SessionError.error_code == "UPLOAD_ENCRYPTED_FILE")
    ).one()
    assert SessionError.has_blocking_errors(error.session_id)


@pytest.mark.sessionerror_data("upload_rejected", "processing_warnings")
def test_marker_loads_several_datasets(sessionerror_db: Session) -> None:
    assert counts(sessionerror_db)[0] == 2


def test_times_are_relative_to_now(sessionerror_db: Session) -> None:
    from sessionerror.models.types import utcnow

    data = load_dataset(sessionerror_db, "retention_mixed")
    age = utcnow() - data.sessions["old"].created_at
    assert 29.9 < age.total_seconds() / 86400 < 30.1
    assert 0 < data.errors["today_e1"].age_minutes < 2


def test_unknown_name_lists_the_available_ones(sessionerror_db: Session) -> None:
    with pytest.raises(
        DatasetError, match=r"unknown data set 'nope'; available: .*upload_rejected"
    ):
        load_dataset(sessionerror_db, "nope")


def test_direct_path_and_key_lookup(sessionerror_db: Session, tmp_path: Path) -> None:
    target = tmp_path / "mine.json"
    shutil.copy(dataset_path("jira_export_blocked"), target)
    data = load_dataset(sessionerror_db, target)
    assert data.name == "mine"
    assert data["t2"] is data.tickets["t2"]
    with pytest.raises(KeyError, match="no record with key 'zz'"):
        data["zz"]


# -- bad files and records --------------------------------------------------------------------

VALID: dict[str, Any] = {
    "description": "Two sessions; the second one holds the record that each case breaks.",
    "sessions": [
        {
            "key": "good",
            "name": "A valid session that must not be half-loaded",
            "errors": [
                {
                    "category": "temporary",
                    "severity": "info",
                    "stage": "upload",
                    "user_message": "Upload was slow.",
                    "recovery_actions": ["No action needed."],
                }
            ],
        },
        {
            "key": "s2",
            "name": "Second session",
            "files": [{"key": "f1", "filename": "a.xlsx"}],
            "tickets": [{"key": "t1", "summary": "A ticket"}],
            "errors": [
                {
                    "category": "user_fixable",
                    "severity": "warning",
                    "stage": "review",
                    "user_message": "Fine.",
                    "recovery_actions": ["Do this."],
                },
                {
                    "category": "user_fixable",
                    "severity": "warning",
                    "stage": "review",
                    "user_message": "Fine too.",
                    "recovery_actions": ["Do that."],
                    "file": "f1",
                },
                {
                    "category": "user_fixable",
                    "severity": "blocking",
                    "stage": "upload",
                    "user_message": "Broken below.",
                    "recovery_actions": ["Fix it."],
                    "file": "f1",
                    "ticket": "t1",
                },
            ],
        },
    ],
}
TARGET = ("sessions", 1, "errors", 2)
RECORD = "sessions[1].errors[2]"


def _break(field: str, value: Any) -> dict[str, Any]:
    document = copy.deepcopy(VALID)
    record: Any = document
    for step in TARGET:
        record = record[step]
    record[field] = value
    return document


BAD_RECORDS: dict[str, tuple[dict[str, Any], str | None, str, str]] = {
    # case: (document, record, field, message fragment)
    "unknown file key": (_break("file", "f9"), RECORD, "file", "unknown file key 'f9'"),
    "unknown ticket key": (_break("ticket", "t9"), RECORD, "ticket", "unknown ticket key"),
    "invalid category": (_break("category", "someone_else"), RECORD, "category", "expected one"),
    "invalid severity": (_break("severity", "fatal"), RECORD, "severity", "Invalid severity"),
    "invalid stage": (_break("stage", "deploy"), RECORD, "stage", "operation_stage"),
    "blank message": (_break("user_message", "   "), RECORD, "user_message", "user-friendly"),
    "missing message": (_break("user_message", None), RECORD, "user_message", "user-friendly"),
    "actions not a list": (
        _break("recovery_actions", "restart"),
        RECORD,
        "recovery_actions",
        "recovery actions",
    ),
    "blank action": (
        _break("recovery_actions", ["ok", " "]),
        RECORD,
        "recovery_actions",
        "non-empty strings",
    ),
    "details not an object": (
        _break("technical_details", ["trace"]),
        RECORD,
        "technical_details",
        "JSON object",
    ),
    "blank error code": (_break("error_code", " "), RECORD, "error_code", "error_code"),
    "negative time": (_break("minutes_ago", -5), RECORD, "minutes_ago", ">= 0"),
    "bad id": (_break("id", "not-a-uuid"), RECORD, "id", "expected a UUID"),
    "unknown field": (_break("categroy", "temporary"), RECORD, "categroy", "unknown field"),
    "top level is a list": ([VALID], "top level", "", "expected a JSON object"),  # type: ignore[dict-item]
    "no sessions": ({"description": "x", "sessions": []}, "top level", "sessions", "non-empty"),
    "no description": ({"sessions": VALID["sessions"]}, "top level", "description", "non-blank"),
}
BAD_RECORDS["duplicate key"] = (
    {**VALID, "sessions": [VALID["sessions"][0], {**VALID["sessions"][1], "key": "good"}]},
    "sessions[1]",
    "key",
    "duplicate key 'good'",
)
BAD_RECORDS["file of another session"] = (
    {
        **VALID,
        "sessions": [
            {**VALID["sessions"][0], "files": [{"key": "other", "filename": "b.csv"}]},
            _break("file", "other")["sessions"][1],
        ],
    },
    RECORD,
    "file",
    "this session's files: f1",
)
BAD_RECORDS["files not a list"] = (
    {**VALID, "sessions": [VALID["sessions"][0], {**VALID["sessions"][1], "files": {}}]},
    "sessions[1]",
    "files",
    "expected a list",
)
BAD_RECORDS["name too long"] = (
    {**VALID, "sessions": [VALID["sessions"][0], {**VALID["sessions"][1], "name": "x" * 201}]},
    "sessions[1]",
    "name",
    "longer than 200",
)


@pytest.mark.parametrize("case", sorted(BAD_RECORDS))
def test_bad_record_names_file_record_and_field_and_loads_nothing(
    sessionerror_db: Session, tmp_path: Path, case: str
) -> None:
    document, record, field, fragment = BAD_RECORDS[case]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    before = counts(sessionerror_db)
    with pytest.raises(DatasetError) as caught:
        load_dataset(sessionerror_db, path)
    error = caught.value
    assert error.file == str(path)
    assert error.record == record
    assert (error.field or "") == field
    message = str(error)
    assert str(path) in message and record in message and field in message
    assert fragment in message
    assert counts(sessionerror_db) == before


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ("", "not valid JSON"),
        (b"\xff\xfe\x00".decode("latin-1"), "not valid JSON"),
    ],
)
def test_unreadable_file_names_the_file(
    sessionerror_db: Session, tmp_path: Path, content: str, fragment: str
) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content, encoding="utf-8")
    before = counts(sessionerror_db)
    with pytest.raises(DatasetError, match=fragment) as caught:
        load_dataset(sessionerror_db, path)
    assert str(path) in str(caught.value)
    assert counts(sessionerror_db) == before


def test_missing_path_says_so(sessionerror_db: Session, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such data set file"):
        load_dataset(sessionerror_db, tmp_path / "absent.json")


def test_database_refusal_rolls_back_the_whole_dataset(
    sessionerror_db: Session, tmp_path: Path
) -> None:
    document = copy.deepcopy(VALID)
    document["sessions"][1]["id"] = "6f1c4d0e-0000-4000-8000-000000000001"
    path = tmp_path / "fixed_ids.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    load_dataset(sessionerror_db, path)
    sessionerror_db.expunge_all()  # as if loaded earlier by someone else: only the database knows
    before = counts(sessionerror_db)
    with pytest.raises(DatasetError, match="the database refused the rows"):
        load_dataset(sessionerror_db, path)  # same id again: a primary-key conflict
    assert counts(sessionerror_db) == before  # the savepoint undid the partial insert
    assert sessionerror_db.get(WorkflowSession, uuid.UUID(document["sessions"][1]["id"]))


def test_wheel_ships_the_datasets(built_dist: Path, tmp_path: Path) -> None:
    """Install the wheel in a scratch directory and find the data sets there."""
    wheel = next(built_dist.glob("*.whl"))
    target = tmp_path / "site"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(target),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert install.returncode == 0, install.stderr
    probe = (
        "import sessionerror.datasets as d; "
        "print(d.__file__); print(d.dataset_path('upload_rejected')); "
        "print(','.join(d.available_datasets()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    module_file, path, names = done.stdout.split()
    assert module_file.startswith(str(target))
    assert path == str(target / "sessionerror" / "_datasets" / "upload_rejected.json")
    assert set(names.split(",")) >= SHIPPED
