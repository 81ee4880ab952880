"""Spec §4 "Instance Methods" and "Properties", on objects that are never written."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sessionerror.conformance.report import ClauseResult, fail, passed
from sessionerror.errors import first_line
from sessionerror.models.enums import ErrorCategory, ErrorSeverity

__all__ = ["check_methods"]

_AGE = 30.0  # minutes


def _outcomes(make: Callable[..., Any], read: Callable[[Any], Any], **cases: Any) -> dict[str, Any]:
    """``{label: read(make(**fields))}`` for each case; an exception is reported as found."""
    seen: dict[str, Any] = {}
    for label, fields in cases.items():
        try:
            seen[label] = read(make(**fields))
        except Exception as exc:
            seen[label] = f"raised {type(exc).__name__}: {first_line(exc)[:200]}"
    return seen


def _judge(
    clause: str, title: str, seen: dict[str, Any], wanted: dict[str, Any], fix: str
) -> ClauseResult:
    expected = ", ".join(f"{label} -> {value!r}" for label, value in wanted.items())
    wrong = {label: seen[label] for label in wanted if seen[label] != wanted[label]}
    if wrong:
        found = ", ".join(f"{label} -> {value!r}" for label, value in wrong.items())
        return fail(clause, title, found, expected, fix)
    return passed(clause, title, expected)


def _age(error: Any) -> Any:
    value = error.age_minutes
    return round(value) if isinstance(value, int | float) else value


def check_methods(new_error: Callable[..., Any]) -> list[ClauseResult]:
    """is_blocking, get_recovery_action_list, is_user_fixable, requires_admin, age_minutes."""
    session = uuid.uuid4()

    def make(**fields: Any) -> Any:
        return new_error(session, **fields)

    severities = {f"severity={s.value}": {"severity": s} for s in ErrorSeverity}
    categories = {f"category={c.value}": {"error_category": c} for c in ErrorCategory}
    steps = {"actions": ["Open the file", "Save it as CSV", "Upload it again"]}
    past = datetime.now(UTC) - timedelta(minutes=_AGE)

    def aged() -> Any:
        error = make()
        error.created_at = past
        return error

    results = [
        _judge(
            "§4.is_blocking",
            "is_blocking(): True if severity is 'blocking'",
            _outcomes(make, lambda e: e.is_blocking(), **severities),
            {label: label.endswith("=blocking") for label in severities},
            "def is_blocking(self) -> bool: return self.severity == ErrorSeverity.BLOCKING",
        ),
        _judge(
            "§4.get_recovery_action_list",
            "get_recovery_action_list(): the steps of the recovery_actions JSON",
            _outcomes(
                make, lambda e: e.get_recovery_action_list(), actions={"recovery_actions": steps}
            ),
            {"actions": list(steps["actions"])},
            "return [str(step) for step in self.recovery_actions.get('actions', [])]",
        ),
        _judge(
            "§4.is_user_fixable",
            "is_user_fixable: error_category == USER_FIXABLE",
            _outcomes(make, lambda e: e.is_user_fixable, **categories),
            {label: label.endswith("=user_fixable") for label in categories},
            "@property def is_user_fixable(self) -> bool: "
            "return self.error_category == ErrorCategory.USER_FIXABLE",
        ),
        _judge(
            "§4.requires_admin",
            "requires_admin: error_category == ADMIN_REQUIRED",
            _outcomes(make, lambda e: e.requires_admin, **categories),
            {label: label.endswith("=admin_required") for label in categories},
            "@property def requires_admin(self) -> bool: "
            "return self.error_category == ErrorCategory.ADMIN_REQUIRED",
        ),
        _judge(
            "§4.age_minutes",
            "age_minutes: minutes since created_at (a float)",
            _outcomes(lambda: aged(), _age, created_30_minutes_ago={}),
            {"created_30_minutes_ago": round(_AGE)},
            "@property def age_minutes(self) -> float: "
            "return (datetime.now(UTC) - self.created_at).total_seconds() / 60",
        ),
    ]
    return results
