"""Every edge that prints an error derived from a user-given URL or a stored row hides secrets
(issue 16): a password holding a raw ``@`` that the driver splits into a host name, text
columns written by raw SQL, an undecodable row, a refused value in a validation message."""

from __future__ import annotations

import os
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from sessionerror.cli import main
from sessionerror.errors import ErrorDataValidationError
from sessionerror.models import Base
from sessionerror.models.enums import ErrorSeverity
from sessionerror.models.validation import (
    coerce_enum,
    validate_technical_details,
    validate_uuid,
)
from sessionerror.redaction import URLSecrets
from sessionerror.scenarios.command import main as example_main
from sessionerror.testdb.postgres.provider import PostgresProvider

#: libpq ends the password at the first "@": the host becomes "XyZzy@127.0.0.1", and the driver
#: says so ("could not translate host name "XyZzy@127.0.0.1"").
AT_URL = "postgresql://app:Tr0ub4dor@XyZzy@127.0.0.1:5432/x"
PIECES = ("Tr0ub4dor", "XyZzy")


def assert_no_piece(output: str) -> None:
    for piece in PIECES:
        assert piece not in output, output


# -- URLSecrets ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "printed", "hidden"),
    [
        (AT_URL, 'could not translate host name "XyZzy@127.0.0.1"', "XyZzy"),
        (AT_URL, "password authentication failed: Tr0ub4dor", "Tr0ub4dor"),
        ("postgresql://app:a:bcd/efg@h/db", "invalid port 'bcd/efg@h'", "bcd"),
        ("postgresql://app:a:bcd/efg@h/db", "no database efg", "efg"),
        ("postgresql://app:ab@XyZzy@h/db", 'host name "ab@h"', "ab@"),
        ("postgresql://app:p%40ss%40Word9@h/db", 'host "Word9@h"', "Word9"),
        ("postgresql://app:it's@h/db", 'password "it\\\'s"', "it\\'s"),
    ],
    ids=["host", "whole-first", "port", "path", "short-piece", "percent-encoded", "repr"],
)
def test_url_secrets_scrub_every_piece(url: str, printed: str, hidden: str) -> None:
    assert hidden in printed
    scrubbed = URLSecrets(url).scrub(printed)
    assert hidden not in scrubbed, scrubbed
    assert "***" in scrubbed


def test_url_secrets_leave_ordinary_text() -> None:
    message = "could not connect to server: Connection refused at 127.0.0.1:5432"
    assert URLSecrets("postgresql://app@127.0.0.1:5432/x").scrub(message) == message
    assert URLSecrets(None, ["--top", "5"]).scrub(message) == message


# -- a password with a raw "@", at every edge -----------------------------------------------


@pytest.mark.parametrize("command", ["check", "export", "summary"])
def test_cli_hides_every_piece_of_a_password_with_a_raw_at(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [command, "--db", AT_URL]
    if command == "export":
        argv += ["--to", str(tmp_path / "out.db")]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "could not translate host name" in captured.err  # the driver's message is kept
    assert_no_piece(captured.out + captured.err)


def test_example_hides_every_piece_of_a_password_with_a_raw_at(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert example_main("cascade", ["--db", AT_URL]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("cascade.py: error: cannot connect"), captured.err
    assert_no_piece(captured.out + captured.err)


def test_provider_hides_every_piece_of_a_password_with_a_raw_at() -> None:
    provider = PostgresProvider(url=AT_URL, allow_local=False, allow_container=False)
    with pytest.raises(Exception) as caught:
        provider.start()
    assert "could not translate host name" in str(caught.value)
    assert_no_piece(str(caught.value) + repr(caught.value) + " ".join(provider.attempts))


def test_plugin_option_error_hides_every_piece(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith(("SESSIONERROR_", "PYTEST_XDIST_")):
            monkeypatch.delenv(name)
    pytester.makepyfile("def test_database(sessionerror_db):\n    pass\n")
    result = pytester.runpytest_subprocess(
        "-p", "no:xdist", "-p", "no:randomly", "--sessionerror-backend", "postgresql",
        "--sessionerror-postgres-url", AT_URL,
    )  # fmt: skip
    output = result.stdout.str() + result.stderr.str()
    assert "could not translate host name" in output
    assert_no_piece(output)


# -- rows written by raw SQL ----------------------------------------------------------------

RAW_ROW = {
    "name": "import password=nameSecret77",
    "error_code": "token=codeSecret42",
    "user_message": "failed with password=msgSecret11",
}


def _insert_raw_row(url: str) -> None:
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    sqlite = engine.dialect.name == "sqlite"
    session_id, error_id = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO sessions (id, name, current_stage, created_at, updated_at) "
                "VALUES (:id, :name, 'upload', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"id": session_id.hex if sqlite else str(session_id), "name": RAW_ROW["name"]},
        )
        conn.execute(
            text(
                "INSERT INTO session_errors (id, session_id, error_category, severity, "
                "operation_stage, user_message, recovery_actions, technical_details, "
                "error_code, created_at) VALUES (:id, :sid, 'admin_required', 'blocking', "
                "'jira_export', :message, '{\"actions\": [\"Retry\"]}', '{}', :code, "
                "CURRENT_TIMESTAMP)"
            ),
            {
                "id": error_id.hex if sqlite else str(error_id),
                "sid": session_id.hex if sqlite else str(session_id),
                "message": RAW_ROW["user_message"],
                "code": RAW_ROW["error_code"],
            },
        )
    engine.dispose()


def test_summary_scrubs_every_text_column_it_prints(
    sessionerror_empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _insert_raw_row(sessionerror_empty_database_url)
    for extra in ([], ["--json"]):
        assert main(["summary", "--db", sessionerror_empty_database_url, *extra]) == 0
        out = capsys.readouterr().out
        assert "token=" in out  # the code is printed, its value hidden
        for value in ("codeSecret42", "msgSecret11"):
            assert value not in out, out


def test_export_scrubs_every_text_column(
    sessionerror_empty_database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _insert_raw_row(sessionerror_empty_database_url)
    target = tmp_path / "out.db"
    assert main(["export", "--db", sessionerror_empty_database_url, "--to", str(target)]) == 0
    written = target.read_bytes()
    assert b"import password=" in written
    for value in ("nameSecret77", "codeSecret42", "msgSecret11"):
        assert value.encode() not in written


@pytest.mark.parametrize("command", ["export", "summary"])
def test_an_undecodable_row_is_never_quoted(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.db"
    _insert_raw_row(f"sqlite:///{path}")
    # what a C extension or another tool may leave (closing: the connection's with only commits)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "UPDATE session_errors SET user_message = CAST(? AS TEXT)",
            (b"bad \xff password=utfSecret99 end",),
        )
    argv = [command, "--db", f"sqlite:///{path}"]
    if command == "export":
        argv += ["--to", str(tmp_path / "out.db")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "not valid UTF-8" in err and "user_message" in err
    assert "utfSecret99" not in err and "bad " not in err, err


# -- validation messages --------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: validate_technical_details({("password", "tupleSecret5"): 1}),
        lambda: validate_uuid("pw-tupleSecret5", "session_id", required=True),
        lambda: coerce_enum(ErrorSeverity, "tupleSecret5", "severity"),
        lambda: coerce_enum(ErrorSeverity, ("password", "tupleSecret5"), "severity"),
    ],
    ids=["tuple-key", "uuid", "enum-with-digits", "enum-tuple"],
)
def test_validation_messages_never_echo_a_refused_value(call: object) -> None:
    with pytest.raises(ErrorDataValidationError) as caught:
        call()  # type: ignore[operator]
    assert "tupleSecret5" not in str(caught.value)
    assert caught.value.field in str(caught.value) or "keys must be strings" in str(caught.value)


def test_validation_names_a_wrong_enum_word() -> None:
    with pytest.raises(ErrorDataValidationError, match="Invalid severity 'fatal'"):
        coerce_enum(ErrorSeverity, "fatal", "severity")


def test_json_around_an_email_is_not_taken_for_a_quoted_password() -> None:
    """One line of minified JSON: a URL, then an e-mail address, then a DSN. Only the DSN's
    password goes; before, everything from the URL's path to the DSN's "@" was masked."""
    from sessionerror.redaction import mask_url_password

    text = '{"url":"https://x.test/a","email":"a@b.c","dsn":"postgresql://u:pw@h/db"}'
    assert mask_url_password(text) == text.replace(":pw@", ":***@")
    assert mask_url_password("postgresql://app:pa'ss@db/x") == "postgresql://app:***@db/x"
