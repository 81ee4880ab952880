"""Secret corpus: every secret form must be absent from the stored row and from the INFO line.

The text cases and the readable texts come from ``secret_corpus.json`` (data, shared with the
output-path tests). Each case goes through the application's path
(``SessionErrorRepository.record``) on both backends; the row is read back with raw SQL (every
text column) and the INFO creation line is captured. Benign texts must come back exactly as
they went in.
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from sessionerror.models import WorkflowSession
from sessionerror.models.audit import LOGGER_NAME
from sessionerror.runtime.repository import SessionErrorRepository

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJib2IiLCJleHAiOjE3MDAwMDAwMDB9."
    "Xq3nVb7cT0kP9fWmA2sLdE5hRyU8iOzNgJ4vK1bCx6Q"
)
PEM_BODY = "MIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgwMbRvI0MBZhpF"
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----"

#: The corpus of secret forms, as data (other tests read it too): {"secrets": [{"kind", "text",
#: "secret"}...], "ordinary": [text that must come out unchanged...]}.
CORPUS_PATH = Path(__file__).with_name("secret_corpus.json")
CORPUS: dict[str, Any] = json.loads(CORPUS_PATH.read_text(encoding="utf-8"))
#: (kind, free text holding a secret, the secret substring that must never be stored or logged)
TEXT_CASES: list[tuple[str, str, str]] = [
    (case["kind"], case["text"], case["secret"]) for case in CORPUS["secrets"]
]

#: (id, technical_details holding a secret, the secret substring)
DETAIL_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("camel_keys", {"auth": {"accessToken": "at-11aa22bb"}}, "at-11aa22bb"),
    ("client_secret", {"oauth": {"clientSecret": "cs-33cc44dd"}}, "cs-33cc44dd"),
    ("private_key", {"privateKey": PEM}, PEM_BODY),
    ("refresh_token", {"refreshToken": "rt-55ee66ff"}, "rt-55ee66ff"),
    ("secret_access_key", {"aws": {"secretAccessKey": "sak-7788aabb"}}, "sak-7788aabb"),
    ("passphrase", {"passphrase": "pp-99001122"}, "pp-99001122"),
    ("ssh_key", {"ssh_key": "sk-ssh-3344"}, "sk-ssh-3344"),
    ("auth", {"auth": "au-5566"}, "au-5566"),
    ("pass", {"pass": "pw-7788"}, "pw-7788"),
    (
        "header_list_name",
        {"headers": [{"name": "X-Api-Key", "value": "xak-9911"}]},
        "xak-9911",
    ),
    (
        "header_list_key",
        {"headers": [{"key": "Authorization", "value": "Bearer hl-2233"}]},
        "hl-2233",
    ),
    ("pair_list", {"headers": [["Cookie", "sid=ck-4455"]]}, "ck-4455"),
    ("nested_text", {"a": [{"b": {"trace": f"jwt={JWT}"}}]}, "Xq3nVb7cT0kP9fWmA2sLdE5h"),
    ("secret_in_key", {"postgresql://app:keypw-6677@db/app": "unreachable"}, "keypw-6677"),
    ("header_tuple_3", {"headers": [["X-Api-Key", "t3-55667788", True]]}, "t3-55667788"),
    (
        "header_name_value",
        {"headers": [{"header_name": "Authorization", "header_value": "hnv-12345678"}]},
        "hnv-12345678",
    ),
    (
        "token_as_url_user",
        {"git": {"remote": "https://ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R@github.com/o/r"}},
        "ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R",
    ),
    (
        "stripe_in_list",
        {"attempts": [{"key": "sk_live_4eC39HqLyjWDarjtT1zd"}]},
        "4eC39HqLyjWDarjtT1zd",
    ),
]

#: Text that must come back exactly as it went in.
READABLE: list[str] = CORPUS["ordinary"]


def _record(
    db: Session,
    *,
    user_message: str,
    actions: list[str],
    details: dict[str, Any],
    error_code: str | None,
) -> uuid.UUID:
    session = WorkflowSession(name="corpus")
    db.add(session)
    db.flush()
    error = SessionErrorRepository(db).record(
        session_id=session.id,
        category="admin_required",
        severity="blocking",
        stage="jira_export",
        user_message=user_message,
        recovery_actions=actions,
        technical_details=details,
        error_code=error_code,
    )
    error_id: uuid.UUID = error.id
    db.expunge(error)  # read back from the database, not from the identity map
    return error_id


def _stored_row(db: Session, error_id: uuid.UUID) -> str:
    """Every text column of the row, as the database returns it."""
    assert db.bind is not None
    key = error_id.hex if db.bind.dialect.name == "sqlite" else str(error_id)
    row = db.execute(
        text(
            "SELECT user_message, recovery_actions, technical_details, error_code "
            "FROM session_errors WHERE id = :id"
        ),
        {"id": key},
    ).one()
    return " | ".join(v if isinstance(v, str) else json.dumps(v) for v in row)


def _info_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == LOGGER_NAME and r.levelno == logging.INFO
    ]


@pytest.fixture(autouse=True)
def _capture_info(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)


@pytest.mark.parametrize(
    ("raw", "secret"), [c[1:] for c in TEXT_CASES], ids=[c[0] for c in TEXT_CASES]
)
def test_text_secret_is_never_stored_or_logged(
    sessionerror_db: Session, caplog: pytest.LogCaptureFixture, raw: str, secret: str
) -> None:
    assert secret in raw  # the case really holds the secret
    caplog.clear()
    error_id = _record(
        sessionerror_db,
        user_message=f"Export failed: {raw}",
        actions=[f"Check {raw}", "Retry"],
        details={"trace": raw, "lines": [raw]},
        error_code=raw if len(raw) <= 64 else None,
    )
    stored = _stored_row(sessionerror_db, error_id)
    assert "Export failed" in stored
    assert secret not in stored, stored
    lines = _info_lines(caplog)
    assert len(lines) == 1
    assert secret not in lines[0], lines[0]


@pytest.mark.parametrize(
    ("details", "secret"), [c[1:] for c in DETAIL_CASES], ids=[c[0] for c in DETAIL_CASES]
)
def test_detail_secret_is_never_stored(
    sessionerror_db: Session, details: dict[str, Any], secret: str
) -> None:
    assert secret in json.dumps(details)
    error_id = _record(
        sessionerror_db,
        user_message="Jira export failed",
        actions=["Retry"],
        details=details,
        error_code="JIRA_EXPORT",
    )
    stored = _stored_row(sessionerror_db, error_id)
    assert "Jira export failed" in stored
    assert secret not in stored, stored


def test_keys_scrubbed_alike_keep_both_values(sessionerror_db: Session) -> None:
    """Two keys that scrub to the same text must not merge: the row keeps both values."""
    details = {
        "postgresql://app:kc-11112222@db/app": "first value",
        "postgresql://app:kc-33334444@db/app": "second value",
    }
    error_id = _record(
        sessionerror_db,
        user_message="Jira export failed",
        actions=["Retry"],
        details=details,
        error_code="JIRA_EXPORT",
    )
    stored_details = db_values(sessionerror_db, error_id)[2]
    assert sorted(stored_details.values()) == ["first value", "second value"]
    assert "kc-11112222" not in json.dumps(stored_details)
    assert "kc-33334444" not in json.dumps(stored_details)


@pytest.mark.parametrize("benign", READABLE)
def test_readable_text_is_stored_unchanged(
    sessionerror_db: Session, caplog: pytest.LogCaptureFixture, benign: str
) -> None:
    caplog.clear()
    error_id = _record(
        sessionerror_db,
        user_message=benign,
        actions=[benign],
        details={"note": benign},
        error_code=benign[:64],
    )
    assert db_values(sessionerror_db, error_id) == (benign, [benign], {"note": benign}, benign[:64])
    assert _info_lines(caplog)[0].endswith(f"admin_required - {benign}")


def db_values(db: Session, error_id: uuid.UUID) -> tuple[Any, ...]:
    """The four scrubbed columns, decoded."""
    assert db.bind is not None
    key = error_id.hex if db.bind.dialect.name == "sqlite" else str(error_id)
    message, actions, details, code = db.execute(
        text(
            "SELECT user_message, recovery_actions, technical_details, error_code "
            "FROM session_errors WHERE id = :id"
        ),
        {"id": key},
    ).one()
    actions = json.loads(actions) if isinstance(actions, str) else actions
    details = json.loads(details) if isinstance(details, str) else details
    return message, actions["actions"], details, code
