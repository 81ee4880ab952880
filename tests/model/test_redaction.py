"""Secrets never reach the database: unit tests of redaction and stored-JSON checks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from sessionerror.redaction import (
    REDACTED,
    is_secret_key,
    mask_url_password,
    redact,
    redact_text,
)

from .conftest import MakeError, raw_id

SECRETS = ["s3cr3t-pw", "tok_abcdef123", "sk-live-998877", "sid=abc123cookie", "dbpass42"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:pw@h/db", "postgresql://u:***@h/db"),
        (
            "postgresql+psycopg2://admin:dbpass42@db.internal:5432/app",
            "postgresql+psycopg2://admin:***@db.internal:5432/app",
        ),
        ("see redis://:onlypw@cache:6379/0 now", "see redis://:***@cache:6379/0 now"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("https://example.test/path?q=1", "https://example.test/path?q=1"),
        ("a://x:1@h b://y:2@h", "a://x:***@h b://y:***@h"),
        (
            "postgresql://u@h/db?password=pw&sslmode=require",
            "postgresql://u@h/db?password=***&sslmode=require",
        ),
    ],
)
def test_mask_url_password(url: str, expected: str) -> None:
    assert mask_url_password(url) == expected


@pytest.mark.parametrize(
    ("raw", "secret"),
    [
        ("Authorization: Bearer eyJhbGciOi.abc.def", "eyJhbGciOi.abc.def"),
        ("auth header was Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("password=s3cr3t-pw&user=bob", "s3cr3t-pw"),
        ('{"api_key": "sk-live-998877"}', "sk-live-998877"),
        ("x-api-key: sk-live-998877", "sk-live-998877"),
        ("token=tok_abcdef123", "tok_abcdef123"),
        ("could not connect to postgresql://app:dbpass42@db/app", "dbpass42"),
        ('File "x.py", line 3\n  client_secret = "abc-123-xyz"', "abc-123-xyz"),
    ],
)
def test_redact_text_removes_secrets(raw: str, secret: str) -> None:
    cleaned = redact_text(raw)
    assert secret not in cleaned
    assert REDACTED in cleaned or "***" in cleaned


@pytest.mark.parametrize(
    "harmless", ["Upload failed at row 3", "tokenizer error in column B", "no secrets here: 42"]
)
def test_redact_text_keeps_harmless_text(harmless: str) -> None:
    assert redact_text(harmless) == harmless


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("Authorization", True),
        ("proxy-authorization", True),
        ("Cookie", True),
        ("Set-Cookie", True),
        ("password", True),
        ("db_password", True),
        ("API-Key", True),
        ("x_api_key", True),
        ("access_token", True),
        ("client secret", True),
        ("Accept", False),
        ("content_type", False),
        ("tokenizer", False),
        ("user", False),
    ],
)
def test_is_secret_key(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


def test_redact_at_any_depth_and_leaves_input_alone() -> None:
    details: dict[str, Any] = {
        "request": {
            "headers": {"Authorization": "Bearer tok_abcdef123", "Accept": "application/json"},
            "header_list": [["Cookie", "sid=abc123cookie"], ["Accept", "text/html"]],
            "tuples": [("X-API-Key", "sk-live-998877")],
        },
        "config": {"database": {"url": "postgresql://u:dbpass42@h/db", "password": "s3cr3t-pw"}},
        "stack": "Traceback...\nConnectionError: postgresql://u:dbpass42@h/db token=tok_abcdef123",
        "count": 3,
        "flags": [True, None, 1.5],
        "empty_password": "",
    }
    snapshot = json.dumps(details, sort_keys=True)
    cleaned = redact(details)
    assert json.dumps(details, sort_keys=True) == snapshot  # input unchanged
    dumped = json.dumps(cleaned)
    for secret in SECRETS:
        assert secret not in dumped
    assert cleaned["request"]["headers"] == {
        "Authorization": REDACTED,
        "Accept": "application/json",
    }
    assert cleaned["request"]["header_list"] == [["Cookie", REDACTED], ["Accept", "text/html"]]
    assert cleaned["config"]["database"]["url"] == "postgresql://u:***@h/db"
    assert cleaned["count"] == 3
    assert cleaned["flags"] == [True, None, 1.5]
    assert cleaned["empty_password"] == ""


def test_redact_is_idempotent() -> None:
    details = {"password": "x", "s": "postgresql://u:pw@h/db Bearer abc"}
    assert redact(redact(details)) == redact(details)


def _stored_details(db: Session, error_id: Any) -> str:
    value = db.execute(
        text("SELECT technical_details FROM session_errors WHERE id = :id"),
        {"id": raw_id(db, error_id)},
    ).scalar_one()
    return value if isinstance(value, str) else json.dumps(value)


@pytest.mark.parametrize(
    "details",
    [
        {"headers": {"Authorization": "Bearer tok_abcdef123", "Cookie": "sid=abc123cookie"}},
        {"a": {"b": {"c": [{"api_key": "sk-live-998877"}]}}},
        {"headers": [["Authorization", "Basic dXNlcjpwYXNz"], ["Set-Cookie", "sid=abc123cookie"]]},
        {"dsn": "postgresql://u:dbpass42@h/db"},
        {"trace": "Traceback (most recent call last):\n  password=s3cr3t-pw\n"},
        {"env": {"DB_PASSWORD": "s3cr3t-pw", "JIRA_TOKEN": "tok_abcdef123"}},
    ],
    ids=["headers", "nested", "header_pairs", "url", "stack_trace", "env"],
)
def test_secrets_are_redacted_before_storage(
    sessionerror_db: Session, make_error: MakeError, details: dict[str, Any]
) -> None:
    error = make_error(technical_details=details)
    stored = _stored_details(sessionerror_db, error.id)
    for secret in [*SECRETS, "dXNlcjpwYXNz"]:
        assert secret not in stored
    assert REDACTED in stored or "***" in stored
    sessionerror_db.expire(error)
    assert json.dumps(error.technical_details) == json.dumps(json.loads(stored))


def test_secret_assigned_later_is_redacted_before_update(
    sessionerror_db: Session, make_error: MakeError
) -> None:
    error = make_error(technical_details={})
    error.technical_details = {"response": {"set-cookie": "sid=abc123cookie"}}
    sessionerror_db.flush()
    assert "abc123cookie" not in _stored_details(sessionerror_db, error.id)


def test_to_user_dict_has_no_technical_details(make_error: MakeError) -> None:
    error = make_error(technical_details={"stack": "internal path /srv/app"})
    assert "/srv/app" not in json.dumps(error.to_user_dict())
