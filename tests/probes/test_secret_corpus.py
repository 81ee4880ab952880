"""Secret corpus: every secret form must be absent from the stored row and from the INFO line.

Each case goes through the application's path (``SessionErrorRepository.record``) on both
backends; the row is read back with raw SQL (every text column) and the INFO creation line is
captured. Benign texts must come back exactly as they went in.
"""

from __future__ import annotations

import json
import logging
import uuid
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

#: (id, free text holding a secret, the secret substring that must never be stored or logged)
TEXT_CASES: list[tuple[str, str, str]] = [
    ("bare_jwt", f"callback rejected {JWT}", "Xq3nVb7cT0kP9fWmA2sLdE5hRyU8iOzNgJ4vK1bCx6Q"),
    ("jwt_payload", f"id_token was {JWT}", "eyJzdWIiOiJib2IiLCJleHAiOjE3MDAwMDAwMDB9"),
    ("access_token_camel", "accessToken: at-7f3a9c1d", "at-7f3a9c1d"),
    ("client_secret_camel", "clientSecret=cs-99a1b2c3", "cs-99a1b2c3"),
    ("private_key_camel", "privateKey='pk-55c0d1e2'", "pk-55c0d1e2"),
    ("refresh_token_camel", "refreshToken=rt-12ab34cd", "rt-12ab34cd"),
    ("secret_access_key_camel", "secretAccessKey=sak-77ee88ff", "sak-77ee88ff"),
    ("passphrase", "passphrase=correct-horse-battery", "correct-horse-battery"),
    ("ssh_key", "ssh_key: AAAAB3NzaC1yc2EAAAADAQAB", "AAAAB3NzaC1yc2EAAAADAQAB"),
    ("auth", "auth=au-31415926", "au-31415926"),
    ("pass", "pass=pw-27182818", "pw-27182818"),
    ("aws_env", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCY", "wJalrXUtnFEMI"),
    ("pgpassword_env", "PGPASSWORD=hunter2hunter2 psql -h db", "hunter2hunter2"),
    ("db_password_yaml", "db_password: yamlpw-4321", "yamlpw-4321"),
    ("pem_block", f"loaded key\n{PEM}\nthen failed", PEM_BODY),
    ("amz_signature", "GET /b?X-Amz-Signature=fe5f80f77d5fa3be&X-Amz-Date=1", "fe5f80f77d5fa3be"),
    ("header_list_text", '[{"name": "X-Api-Key", "value": "xak-42424242"}]', "xak-42424242"),
    ("header_list_key_text", '[{"key": "X-Api-Key", "value": "xak-43434343"}]', "xak-43434343"),
    ("url_slash_password", "postgresql://user:ab/cdslash@host/db down", "ab/cdslash"),
    ("url_at_password", "postgresql://user:p@ssword9@host/db down", "p@ssword9"),
    ("url_at_password_tail", "postgresql://user:p@ssword9@host/db down", "ssword9"),
    ("url_no_scheme", "could not reach user:nsp4ss@host/db", "nsp4ss"),
    ("url_typo_slashes", "postgresql//user:typ0pw@host/db failed", "typ0pw"),
    ("url_typo_colon_slash", "postgresql:/user:typ1pw@host failed", "typ1pw"),
    ("url_query_password", "postgresql://u@h/db?password=qpw-999: refused", "qpw-999"),
    ("bearer", "Authorization: Bearer br-0a1b2c3d4e", "br-0a1b2c3d4e"),
    ("basic", "sent Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
    ("token_scheme", "header was Token tk9f8e7d6c5b", "tk9f8e7d6c5b"),
    ("password_assignment", "password=s3cr3t-pw&user=bob", "s3cr3t-pw"),
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
]

#: Text that must come back exactly as it went in.
READABLE: list[str] = [
    "password reset failed",
    "Your password has expired; choose a new one",
    "The token expired, sign in again",
    "Jira rejected the token",
    "tokenizer error in column B",
    "Basic plan limits reached",
    "Invalid API key format",
    "Upload failed at row 3: missing header",
    "Contact bob@example.test for access",
    "Step 2: open Settings > Integrations",
    "See https://example.test/docs?page=2#auth",
    "Retry at 10:30",
    "Ask an admin to rotate the secret",
]


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
