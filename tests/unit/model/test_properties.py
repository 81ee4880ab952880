"""Property-based: any input is either stored faithfully or refused with ErrorDataValidationError.

Never another exception, never a partial write. Each example runs in its own SAVEPOINT that is
rolled back, so examples do not see each other's rows.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from sessionerror.errors import ErrorDataValidationError
from sessionerror.models import SessionError
from sessionerror.models.enums import ErrorCategory, ErrorSeverity, OperationStage
from sessionerror.redaction import REDACTED, redact, redact_text

from .conftest import Parents, count_errors


# Any code point, lone surrogates and NUL included; the awkward ones often.
def _mostly(valid: st.SearchStrategy[Any], invalid: st.SearchStrategy[Any], odds: int = 9) -> Any:
    """``valid`` ``odds`` times out of ``odds + 1``, else ``invalid``.

    Keeps most examples valid in most fields, so each field's edge cases reach the database.
    (``one_of`` flattens nested branches, so it cannot weight them.)
    """
    return st.integers(0, odds).flatmap(lambda pick: invalid if pick == 0 else valid)


awkward_chars = st.sampled_from(
    ["\x00", "\ud800", "\udcff", "\u2028", "\ufeff", "\U0001f600", "'", "\\", "\x1f"]
)
any_char = _mostly(
    st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()),
    awkward_chars,
    odds=30,
)
any_text = st.text(any_char, max_size=30)
messages = _mostly(
    st.text(any_char, min_size=1, max_size=30),
    st.one_of(
        st.sampled_from(["", " ", "\t\n", "\u00a0", "\u3000 ", "ok\x00", "\ud800"]),
        st.text(st.sampled_from(" \t\r\n\x0b\x0c\x1f\u2028"), max_size=5),
    ),
    odds=4,
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(min_value=-1e12, max_value=1e12),
    st.sampled_from([float("nan"), float("inf"), -float("inf")]),
    any_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(any_text, inner, max_size=4),
        st.tuples(st.sampled_from(["Authorization", "Cookie", "X-Trace"]), any_text),
    ),
    max_leaves=12,
)
secrets_ish = st.fixed_dictionaries(
    {},
    optional={
        "password": any_text,
        "headers": st.dictionaries(st.sampled_from(["Authorization", "Accept"]), any_text),
        "dsn": st.builds(lambda pw: f"postgresql://u:{pw}@h/db", st.text("abc123!%", min_size=1)),
    },
)


def _enum_choice(enum_cls: Any) -> st.SearchStrategy[Any]:
    valid = st.sampled_from([*enum_cls, *(m.value for m in enum_cls)])
    invalid = st.one_of(st.sampled_from([m.name for m in enum_cls]), any_text, json_scalars)
    return _mostly(valid, invalid)  # type: ignore[no-any-return]


actions = _mostly(
    st.one_of(
        st.builds(lambda steps: {"actions": steps}, st.lists(any_text, max_size=4)),
        st.builds(
            lambda steps, extra: {"actions": steps, **extra},
            st.lists(st.text(min_size=1, max_size=20), max_size=3),
            st.dictionaries(any_text, json_values, max_size=2),
        ),
    ),
    json_values,
)
details = _mostly(
    st.one_of(st.dictionaries(any_text, json_values, max_size=5), secrets_ish), json_values
)
codes = _mostly(st.one_of(st.none(), st.text(min_size=1, max_size=20)), any_text)

fields_strategy = st.fixed_dictionaries(
    {
        "error_category": _enum_choice(ErrorCategory),
        "severity": _enum_choice(ErrorSeverity),
        "operation_stage": _enum_choice(OperationStage),
        "user_message": messages,
        "recovery_actions": actions,
        "technical_details": details,
        "error_code": codes,
    }
)


def _expected_enum(enum_cls: Any, value: Any) -> Any:
    return value if isinstance(value, enum_cls) else enum_cls(value)


def _check_one(db: Session, parents: Parents, fields: dict[str, Any]) -> None:
    before = count_errors(db)
    nested = db.begin_nested()
    try:
        try:
            error = SessionError(session_id=parents.session.id, **fields)
            db.add(error)
            db.flush()
        except ErrorDataValidationError as exc:
            assert exc.message
            nested.rollback()
            assert count_errors(db) == before  # nothing written
            return
        table = SessionError.__table__
        row = db.execute(select(table).where(table.c.id == error.id)).mappings().one()
        assert row["session_id"] == parents.session.id
        assert row["error_category"] == _expected_enum(ErrorCategory, fields["error_category"])
        assert row["severity"] == _expected_enum(ErrorSeverity, fields["severity"])
        assert row["operation_stage"] == OperationStage(fields["operation_stage"]).value
        # Every text field is stored with secret forms scrubbed, and otherwise as given.
        assert row["user_message"] == redact_text(fields["user_message"])
        assert row["recovery_actions"] == _jsonish(redact(fields["recovery_actions"]))
        assert row["technical_details"] == _jsonish(redact(fields["technical_details"]))
        code = fields["error_code"]
        assert row["error_code"] == (None if code is None else redact_text(code)[:64])
        assert row["created_at"].tzinfo is not None
        for key in ("password",):
            if fields["technical_details"].get(key):
                assert row["technical_details"][key] == REDACTED
        assert count_errors(db) == before + 1
    finally:
        if nested.is_active:
            nested.rollback()
    assert count_errors(db) == before


def _jsonish(value: Any) -> Any:
    """What JSON gives back for ``value``: tuples become lists."""
    if isinstance(value, dict):
        return {key: _jsonish(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonish(item) for item in value]
    return value


_BASE: dict[str, Any] = {
    "error_category": "user_fixable",
    "severity": "blocking",
    "operation_stage": "upload",
    "user_message": "Upload failed",
    "recovery_actions": {"actions": ["Retry"]},
    "technical_details": {},
    "error_code": None,
}
#: Inputs the strategies reach only rarely; each once broke the "never another exception" rule.
EDGE_CASES: list[dict[str, Any]] = [
    {"user_message": "bad \ud800 surrogate"},
    {"technical_details": {"key\x00": 1}},
    {"technical_details": {"\udcff": 1}},
    {"technical_details": {"x": ["\udcff"]}},
    {"recovery_actions": {"actions": ["Retry \ud800"]}},
    {"recovery_actions": {"actions": ["Retry"], "k\x00": 1}},
    {"error_code": "E\ud800"},
    {"technical_details": {"big": 10**30, "tiny": 1e-300, "neg_zero": -0.0}},
    {"technical_details": {"Authorization": "Bearer abc", "h": [["Cookie", "sid=1"]]}},
]


def _edge_examples(function: Any) -> Any:
    for overrides in EDGE_CASES:
        function = example(fields={**_BASE, **overrides})(function)
    return function


def test_any_input_is_stored_faithfully_or_refused(
    sessionerror_db: Session, parents: Parents, sessionerror_backend: str
) -> None:
    @settings(
        max_examples=150 if sessionerror_backend == "sqlite" else 60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(fields=fields_strategy)
    @_edge_examples
    def check(fields: dict[str, Any]) -> None:
        _check_one(sessionerror_db, parents, fields)

    check()


def test_valid_inputs_are_always_stored(
    sessionerror_db: Session, parents: Parents, sessionerror_backend: str
) -> None:
    """The complement: inputs built valid must never be refused."""
    printable = st.text(
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30
    ).filter(lambda s: s.strip() != "")

    @settings(
        max_examples=100 if sessionerror_backend == "sqlite" else 40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        category=st.sampled_from(list(ErrorCategory)),
        severity=st.sampled_from([m.value for m in ErrorSeverity]),
        stage=st.sampled_from([m.value for m in OperationStage]),
        message=printable,
        steps=st.lists(printable, max_size=4),
        info=st.dictionaries(printable, st.integers() | printable, max_size=3),
    )
    def check(
        category: ErrorCategory,
        severity: str,
        stage: str,
        message: str,
        steps: list[str],
        info: dict[str, Any],
    ) -> None:
        nested = sessionerror_db.begin_nested()
        try:
            error = SessionError(
                session_id=parents.session.id,
                error_category=category,
                severity=severity,
                operation_stage=stage,
                user_message=message,
                recovery_actions={"actions": steps},
                technical_details=info,
            )
            sessionerror_db.add(error)
            sessionerror_db.flush()
            sessionerror_db.expire(error)
            assert error.get_recovery_action_list() == steps
            assert error.user_message == message
        finally:
            nested.rollback()

    check()
