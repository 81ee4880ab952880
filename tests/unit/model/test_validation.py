"""Validation (spec §8): at construction, on assignment, before flush, and in the database."""

from __future__ import annotations

import math
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from sessionerror.errors import ErrorDataValidationError
from sessionerror.models import SessionError
from sessionerror.models.enums import ErrorCategory
from sessionerror.models.validation import MAX_NESTING_DEPTH

from .conftest import MakeError, Parents, count_errors, raw_id, raw_insert, valid_fields

BLANK_MESSAGES = ["", " ", "   \t\n", "\u00a0\u2003", None]
MESSAGE_ERROR = "Error must have user-friendly message"
ACTIONS_ERROR = "Invalid recovery actions format"

BAD_ACTIONS: list[Any] = [
    None,
    ["Retry"],
    "Retry",
    {},
    {"steps": ["Retry"]},
    {"actions": "Retry"},
    {"actions": None},
    {"actions": {"0": "Retry"}},
    {"actions": ["Retry", ""]},
    {"actions": ["   "]},
    {"actions": ["Retry", 3]},
    {"actions": [None]},
    {"actions": [["nested"]]},
]
# (field, bad value, message fragment)
BAD_ENUMS: list[tuple[str, Any, str]] = [
    ("error_category", "USER_FIXABLE", "Invalid error_category"),
    ("error_category", "user-fixable", "Invalid error_category"),
    ("error_category", "", "Invalid error_category"),
    ("error_category", 1, "Invalid error_category"),
    ("severity", "BLOCKING", "Invalid severity"),
    ("severity", "critical", "Invalid severity"),
    ("operation_stage", "export", "Invalid operation_stage"),
    ("operation_stage", "UPLOAD", "Invalid operation_stage"),
    ("operation_stage", "", "Invalid operation_stage"),
]


class _Opaque:
    pass


BAD_DETAILS: list[Any] = [
    None,
    [],
    "trace",
    {"when": object()},
    {"value": {1, 2}},
    {"ratio": math.nan},
    {"ratio": math.inf},
    {1: "int key"},
    {"nested": {"deep": [_Opaque()]}},
    {"nul": "a\x00b"},
    {"raw": b"bytes"},
    {"key\x00": 1},
    {"\udcff": 1},
    {"trace": ["ok", "lone \ud800"]},
    {"pair": ("X-Trace", "a\x00b")},
    {"pairs": [("k", float("nan"))]},
]


def _assert_admin_required(error: ErrorDataValidationError, fragment: str) -> None:
    assert fragment in error.message
    assert error.category is ErrorCategory.ADMIN_REQUIRED


# -- at construction --------------------------------------------------------------------------


@pytest.mark.parametrize("message", BLANK_MESSAGES)
def test_blank_user_message_at_construction(parents: Parents, message: Any) -> None:
    with pytest.raises(ErrorDataValidationError) as info:
        SessionError(**valid_fields(parents.session.id, user_message=message))
    assert info.value.message == MESSAGE_ERROR
    _assert_admin_required(info.value, MESSAGE_ERROR)
    assert info.value.field == "user_message"


@pytest.mark.parametrize("actions", BAD_ACTIONS)
def test_bad_recovery_actions_at_construction(parents: Parents, actions: Any) -> None:
    with pytest.raises(ErrorDataValidationError) as info:
        SessionError(**valid_fields(parents.session.id, recovery_actions=actions))
    assert info.value.message.startswith(ACTIONS_ERROR)
    _assert_admin_required(info.value, ACTIONS_ERROR)
    assert info.value.field == "recovery_actions"


@pytest.mark.parametrize(("field", "value", "fragment"), BAD_ENUMS)
def test_unknown_enum_values_at_construction(
    parents: Parents, field: str, value: Any, fragment: str
) -> None:
    with pytest.raises(ErrorDataValidationError) as info:
        SessionError(**valid_fields(parents.session.id, **{field: value}))
    _assert_admin_required(info.value, fragment)
    assert info.value.field == field


@pytest.mark.parametrize("details", BAD_DETAILS)
def test_bad_technical_details_at_construction(parents: Parents, details: Any) -> None:
    with pytest.raises(ErrorDataValidationError) as info:
        SessionError(**valid_fields(parents.session.id, technical_details=details))
    _assert_admin_required(info.value, "Invalid technical_details")
    assert info.value.field == "technical_details"


@pytest.mark.parametrize("missing", ["session_id", "error_category", "severity", "operation_stage"])
def test_missing_required_fields(parents: Parents, missing: str) -> None:
    fields = valid_fields(parents.session.id)
    del fields[missing]
    with pytest.raises(ErrorDataValidationError) as info:
        SessionError(**fields)
    assert missing in info.value.message
    assert info.value.field == missing


@pytest.mark.parametrize("field", ["session_id", "related_file_id", "related_ticket_id"])
def test_ids_must_be_uuids(parents: Parents, field: str) -> None:
    fields = {**valid_fields(parents.session.id), field: "not-a-uuid"}
    with pytest.raises(ErrorDataValidationError, match="expected a UUID"):
        SessionError(**fields)


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("user_message", "a\x00b", "NUL"),
        ("user_message", "bad \ud800", "surrogate"),
        ("recovery_actions", {"actions": ["Retry \udcff"]}, "surrogate"),
        ("recovery_actions", {"actions": ["Retry"], "k\x00": 1}, "NUL"),
    ],
)
def test_text_no_backend_can_store_is_refused(
    parents: Parents, field: str, value: Any, fragment: str
) -> None:
    with pytest.raises(ErrorDataValidationError, match=fragment) as info:
        SessionError(**valid_fields(parents.session.id, **{field: value}))
    assert info.value.field == field


@pytest.mark.parametrize("code", ["", "  ", "x" * 65, 42, "a\x00b", "E\ud800"])
def test_bad_error_code(parents: Parents, code: Any) -> None:
    with pytest.raises(ErrorDataValidationError, match="Invalid error_code"):
        SessionError(**valid_fields(parents.session.id, error_code=code))


def test_valid_values_are_accepted_and_normalised(parents: Parents) -> None:
    fields = valid_fields(
        parents.session.id,
        error_category="temporary",
        severity="info",
        operation_stage="jira_export",
        error_code=None,
    )
    error = SessionError(**{**fields, "session_id": str(parents.session.id)})
    assert error.error_category is ErrorCategory.TEMPORARY
    assert error.session_id == parents.session.id
    assert error.operation_stage == "jira_export"


# -- on assignment ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        *(("user_message", m, MESSAGE_ERROR) for m in BLANK_MESSAGES),
        *(("recovery_actions", a, ACTIONS_ERROR) for a in BAD_ACTIONS),
        *BAD_ENUMS,
        *(("technical_details", d, "Invalid technical_details") for d in BAD_DETAILS),
    ],
)
def test_assignment_is_validated_and_keeps_the_old_value(
    sessionerror_db: Session, make_error: MakeError, field: str, value: Any, fragment: str
) -> None:
    error = make_error()
    before = getattr(error, field)
    with pytest.raises(ErrorDataValidationError) as info:
        setattr(error, field, value)
    _assert_admin_required(info.value, fragment)
    assert getattr(error, field) == before
    sessionerror_db.flush()
    sessionerror_db.expire(error)
    assert getattr(error, field) == before


# -- before flush (in-place mutation is not seen by the validators) -------------------------


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda e: e.recovery_actions["actions"].append(""), ACTIONS_ERROR),
        (lambda e: e.recovery_actions.pop("actions"), ACTIONS_ERROR),
        (lambda e: e.recovery_actions.__setitem__("actions", "Retry"), ACTIONS_ERROR),
        (lambda e: e.technical_details.__setitem__("when", object()), "Invalid technical_details"),
    ],
    ids=["empty_step", "no_actions", "actions_not_list", "unserialisable_details"],
)
def test_in_place_mutation_of_a_pending_error_fails_at_flush_and_writes_nothing(
    sessionerror_db: Session, parents: Parents, mutate: Any, fragment: str
) -> None:
    before = count_errors(sessionerror_db)
    error = SessionError(**valid_fields(parents.session.id))
    mutate(error)
    with pytest.raises(ErrorDataValidationError) as info, sessionerror_db.begin_nested():
        sessionerror_db.add(error)
        sessionerror_db.flush()
    _assert_admin_required(info.value, fragment)
    assert count_errors(sessionerror_db) == before


def test_in_place_mutation_of_a_stored_error_fails_at_the_next_update(
    sessionerror_db: Session, make_error: MakeError
) -> None:
    error = make_error()
    with pytest.raises(ErrorDataValidationError, match=ACTIONS_ERROR):  # noqa: SIM117
        with sessionerror_db.begin_nested():
            error.recovery_actions.pop("actions")
            error.error_code = "CHANGED"  # the row is dirty: the UPDATE validates all of it
            sessionerror_db.flush()
    stored = sessionerror_db.execute(
        text("SELECT error_code FROM session_errors WHERE id = :id"),
        {"id": raw_id(sessionerror_db, error.id)},
    ).scalar_one()
    assert stored == "UPLOAD_NO_HEADER"


def test_top_level_in_place_change_of_a_stored_error_is_tracked_and_validated(
    sessionerror_db: Session, make_error: MakeError
) -> None:
    error = make_error()
    error.recovery_actions["actions"] = ["Retry the upload"]  # no other change to the row
    error.technical_details["token"] = "s3cr3t-token"
    sessionerror_db.flush()
    stored_actions, stored_details = sessionerror_db.execute(
        text("SELECT recovery_actions, technical_details FROM session_errors WHERE id = :id"),
        {"id": raw_id(sessionerror_db, error.id)},
    ).one()
    assert "Retry the upload" in str(stored_actions)
    assert "s3cr3t-token" not in str(stored_details)
    with pytest.raises(ErrorDataValidationError, match=ACTIONS_ERROR):  # noqa: SIM117
        with sessionerror_db.begin_nested():
            error.recovery_actions.pop("actions")  # tracked alone, refused before the UPDATE
            sessionerror_db.flush()


def test_in_place_secret_added_before_flush_is_redacted(
    sessionerror_db: Session, parents: Parents
) -> None:
    error = SessionError(**valid_fields(parents.session.id, technical_details={}))
    error.technical_details["password"] = "hunter2"
    sessionerror_db.add(error)
    sessionerror_db.flush()
    stored = sessionerror_db.execute(
        text("SELECT technical_details FROM session_errors WHERE id = :id"),
        {"id": raw_id(sessionerror_db, error.id)},
    ).scalar_one()
    assert "hunter2" not in str(stored)


# -- the database's own CHECK constraints -------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"user_message": ""},
        {"user_message": "    "},
        {"user_message": " \t\n "},
        {"operation_stage": "export"},
        {"operation_stage": "UPLOAD"},
        {"error_category": "USER_FIXABLE"},
        {"error_category": "bogus"},
        {"severity": "critical"},
        {"recovery_actions": "{}"},
        {"recovery_actions": '{"steps": ["Retry"]}'},
        {"recovery_actions": '{"actions": "Retry"}'},
        {"recovery_actions": '{"actions": null}'},
        {"recovery_actions": '["Retry"]'},
        {"recovery_actions": "null"},
        {"technical_details": "[]"},
        {"technical_details": '"text"'},
        {"technical_details": "null"},
        {"user_message": None},
        {"recovery_actions": None},
    ],
    ids=lambda o: f"{next(iter(o))}={next(iter(o.values()))!r}",
)
def test_database_check_constraints_refuse_raw_inserts(
    sessionerror_db: Session, parents: Parents, overrides: dict[str, Any]
) -> None:
    before = count_errors(sessionerror_db)
    with (
        pytest.raises((IntegrityError, DataError, OperationalError)),
        sessionerror_db.begin_nested(),
    ):
        raw_insert(sessionerror_db, parents.session.id, **overrides)
    assert count_errors(sessionerror_db) == before


def test_raw_insert_of_valid_values_is_accepted(sessionerror_db: Session, parents: Parents) -> None:
    """The control for the test above: the same INSERT with valid values works."""
    before = count_errors(sessionerror_db)
    new_id = raw_insert(sessionerror_db, parents.session.id)
    assert count_errors(sessionerror_db) == before + 1
    loaded = sessionerror_db.get_one(SessionError, new_id)
    assert loaded.get_recovery_action_list() == ["Retry"]


def test_orphan_raw_insert_is_refused(sessionerror_db: Session) -> None:
    import uuid

    with pytest.raises(IntegrityError), sessionerror_db.begin_nested():
        raw_insert(sessionerror_db, uuid.uuid4())


# -- nesting depth: a clear error, never a RecursionError ---------------------------------------


def _nested(depth: int, kind: str) -> Any:
    """A value ``depth`` containers deep (dicts, lists or both, alternating)."""
    value: Any = "leaf"
    for level in range(depth):
        as_dict = kind == "dict" or (kind == "mixed" and level % 2 == 0)
        value = {"k": value} if as_dict else [value]
    return value


@pytest.mark.parametrize("depth", [500, 10_000])
@pytest.mark.parametrize("kind", ["dict", "list", "mixed"])
@pytest.mark.parametrize("field", ["technical_details", "recovery_actions"])
def test_deep_nesting_is_refused_at_construction(
    sessionerror_db: Session, parents: Parents, field: str, kind: str, depth: int
) -> None:
    before = count_errors(sessionerror_db)
    value: dict[str, Any] = {"actions": ["Retry"], "deep": _nested(depth, kind)}
    with pytest.raises(ErrorDataValidationError) as info:
        SessionError(**valid_fields(parents.session.id, **{field: value}))
    _assert_admin_required(info.value, f"nested more than {MAX_NESTING_DEPTH} levels deep")
    assert info.value.field == field
    assert count_errors(sessionerror_db) == before


@pytest.mark.parametrize("depth", [500, 10_000])
@pytest.mark.parametrize("kind", ["dict", "list"])
@pytest.mark.parametrize("field", ["technical_details", "recovery_actions"])
def test_deep_nesting_is_refused_on_assignment_and_in_place(
    sessionerror_db: Session, make_error: MakeError, field: str, kind: str, depth: int
) -> None:
    error = make_error()
    before = dict(getattr(error, field))
    with pytest.raises(ErrorDataValidationError, match="nested more than 64 levels"):
        setattr(error, field, {"actions": ["Retry"], "deep": _nested(depth, kind)})
    assert dict(getattr(error, field)) == before
    with pytest.raises(ErrorDataValidationError, match="nested more than 64 levels"):  # noqa: SIM117
        with sessionerror_db.begin_nested():
            getattr(error, field)["deep"] = _nested(depth, kind)  # in place, then flush
            sessionerror_db.flush()
    stored = sessionerror_db.execute(
        text(f"SELECT {field} FROM session_errors WHERE id = :id"),
        {"id": raw_id(sessionerror_db, error.id)},
    ).scalar_one()
    assert "deep" not in str(stored)


def test_nesting_up_to_the_limit_is_stored(sessionerror_db: Session, make_error: MakeError) -> None:
    # The top-level dict is level 1, so MAX_NESTING_DEPTH - 1 containers fit inside it.
    error = make_error(technical_details={"deep": _nested(MAX_NESTING_DEPTH - 1, "mixed")})
    sessionerror_db.expire(error)
    assert "deep" in error.technical_details
    with pytest.raises(ErrorDataValidationError, match="nested more than 64"):
        make_error(technical_details={"deep": _nested(MAX_NESTING_DEPTH, "mixed")})


def test_a_value_that_contains_itself_is_refused(parents: Parents) -> None:
    looped: dict[str, Any] = {"a": []}
    looped["a"].append(looped)
    with pytest.raises(ErrorDataValidationError, match="contains itself"):
        SessionError(**valid_fields(parents.session.id, technical_details=looped))


# -- redaction runs once per insert, and covers every text field --------------------------------


def test_record_scrubs_each_field_exactly_once(
    sessionerror_db: Session, parents: Parents, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sessionerror.models import validation
    from sessionerror.runtime.repository import SessionErrorRepository

    calls: list[str] = []
    real_redact, real_redact_text = validation.redact, validation.redact_text

    def counting_redact(value: Any) -> Any:
        calls.append("redact")
        return real_redact(value)

    def counting_redact_text(value: str) -> str:
        calls.append("redact_text")
        return real_redact_text(value)

    monkeypatch.setattr(validation, "redact", counting_redact)
    monkeypatch.setattr(validation, "redact_text", counting_redact_text)
    error = SessionErrorRepository(sessionerror_db).record(
        session_id=parents.session.id,
        category="temporary",
        severity="warning",
        stage="jira_export",
        user_message="Jira timed out",
        recovery_actions=["Retry later"],
        technical_details={"response_body": "0123456789abcdef" * 6250},
        error_code="JIRA_TIMEOUT",
    )
    # user_message, error_code and the one recovery step (redact_text), technical_details (redact)
    assert sorted(calls) == ["redact", "redact_text", "redact_text", "redact_text"]
    calls.clear()
    sessionerror_db.flush()  # nothing changed: nothing scrubbed again
    assert calls == []
    error.technical_details["nested"] = {"token": "tok_abcdef123"}
    sessionerror_db.flush()  # changed in place: scrubbed again, once
    assert calls == ["redact"]


@pytest.mark.parametrize(
    ("field", "value", "secret"),
    [
        ("user_message", "Login failed for postgresql://app:dbpass42@db/app", "dbpass42"),
        ("user_message", "Jira said: Authorization: Bearer tok_abcdef123", "tok_abcdef123"),
        ("recovery_actions", {"actions": ["Run PGPASSWORD=s3cr3t-pw psql"]}, "s3cr3t-pw"),
        (
            "recovery_actions",
            {"actions": ["Retry"], "env": {"api_key": "sk-live-998877"}},
            "sk-live",
        ),
        ("error_code", "TOKEN=tok_abcdef123", "tok_abcdef123"),
    ],
)
def test_text_fields_are_stored_redacted(
    sessionerror_db: Session, make_error: MakeError, field: str, value: Any, secret: str
) -> None:
    error = make_error(**{field: value})
    assert secret not in str(getattr(error, field))
    stored = sessionerror_db.execute(
        text(f"SELECT {field} FROM session_errors WHERE id = :id"),
        {"id": raw_id(sessionerror_db, error.id)},
    ).scalar_one()
    assert secret not in str(stored)


def test_secret_assigned_after_construction_is_redacted(
    sessionerror_db: Session, make_error: MakeError
) -> None:
    error = make_error()
    error.user_message = "token=tok_abcdef123 was refused"
    error.recovery_actions["actions"] = ["Rotate secret=s3cr3t-pw"]
    sessionerror_db.flush()
    row = sessionerror_db.execute(
        text("SELECT user_message, recovery_actions FROM session_errors WHERE id = :id"),
        {"id": raw_id(sessionerror_db, error.id)},
    ).one()
    assert "tok_abcdef123" not in str(row[0])
    assert "s3cr3t-pw" not in str(row[1])


@pytest.mark.parametrize("field", ["error_category", "severity", "operation_stage"])
def test_refused_values_are_quoted_redacted_and_short(parents: Parents, field: str) -> None:
    bad = "postgresql://u:dbpass42@h/db " + "x" * 500
    with pytest.raises(ErrorDataValidationError) as info:
        SessionError(**valid_fields(parents.session.id, **{field: bad}))
    assert "dbpass42" not in info.value.message
    assert len(info.value.message) < 200
