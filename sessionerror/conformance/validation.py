"""Spec §8 "Specific Error Patterns": invalid data raises the spec's error, nothing is written.

The class may raise on construction or before the write; either way no INSERT may reach the
database (a CHECK constraint refusing it is the database's guard, not the class's validation).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import DBAPIError

from sessionerror.conformance.harness import Harness
from sessionerror.conformance.report import ClauseResult, fail, passed
from sessionerror.errors import first_line
from sessionerror.models.enums import ErrorCategory

__all__ = ["check_validation"]

_CATEGORY = ErrorCategory.ADMIN_REQUIRED.value
#: clause -> (title, spec message, the invalid values tried)
_CASES: dict[str, tuple[str, str, dict[str, dict[str, Any]]]] = {
    "§8.user_message": (
        "a blank user_message raises ErrorDataValidationError, nothing written",
        "Error must have user-friendly message",
        {"blank": {"user_message": "   "}, "empty": {"user_message": ""}},
    ),
    "§8.recovery_actions": (
        "recovery_actions without 'actions' raises ErrorDataValidationError, nothing written",
        "Invalid recovery actions format",
        {
            "no 'actions' key": {"recovery_actions": {"steps": ["Retry"]}},
            "a list": {"recovery_actions": ["Retry"]},
        },
    ),
}


def _attempt(harness: Harness, overrides: dict[str, Any]) -> tuple[BaseException | None, bool]:
    """(the exception raised, whether an INSERT into the table was sent)."""
    name = harness.table.name.lower()
    with harness.orm() as db:
        parents = harness.parents(db)
        db.flush()
        with harness.recorder.capture() as statements:
            try:
                harness.add_error(db, parents.session_1, **overrides)
            except Exception as exc:
                raised: BaseException | None = exc
            else:
                raised = None
        sent = any(s.lower().startswith(f"insert into {name}") for s in statements)
        sent = sent or any(s.lower().startswith(f'insert into "{name}"') for s in statements)
    return raised, sent


def _problem(raised: BaseException | None, sent: bool, message: str) -> str:
    """What is wrong with how an invalid value was refused (``""`` when it was right)."""
    if raised is None:
        return "no error was raised; the row was stored"
    if isinstance(raised, DBAPIError):
        first = str(raised.orig).strip().splitlines()[0] if raised.orig else type(raised).__name__
        return (
            f"the class did not validate: the INSERT was sent and the database refused it ({first})"
        )
    names = [cls.__name__ for cls in type(raised).__mro__]
    text = str(getattr(raised, "message", None) or first_line(raised))[:200]
    category = getattr(raised, "category", None)
    category = getattr(category, "value", category)
    problems = []
    if "ErrorDataValidationError" not in names:
        problems.append(f"raised {type(raised).__name__}")
    if not text.startswith(message):
        problems.append(f"message {text!r}")
    if category != _CATEGORY:
        problems.append(f"category {category!r}")
    if sent:
        problems.append("an INSERT was sent first")
    return ", ".join(problems)


def check_validation(harness: Harness) -> list[ClauseResult]:
    """Both §8 patterns, each with two invalid values."""
    results = []
    for clause, (title, message, cases) in _CASES.items():
        expected = f"ErrorDataValidationError({message!r}, category='{_CATEGORY}'), no INSERT"
        found = []
        for label, overrides in cases.items():
            problem = _problem(*_attempt(harness, overrides), message)
            if problem:
                found.append(f"{label}: {problem}")
        if found:
            field = clause.split(".")[1]
            fix = (
                f"validate {field} on construction (or @validates) and raise "
                f"ErrorDataValidationError(message={message!r}, category='{_CATEGORY}'); "
                "SessionErrorMixin does it"
            )
            results.append(fail(clause, title, "; ".join(found), expected, fix))
        else:
            results.append(passed(clause, title, expected))
    return results
