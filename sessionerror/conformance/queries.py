"""Spec §4 class methods: ``find_by_category`` and ``has_blocking_errors``.

Right answers on two sessions, and one statement each; ``has_blocking_errors`` must not load
the rows (an EXISTS, a COUNT or a LIMIT 1 query). The class's methods get the session as
``db=`` when their signature has it, else bound with :func:`sessionerror.bind_session`.
"""

from __future__ import annotations

import inspect as pyinspect
import re
from typing import Any

from sqlalchemy.orm import Session

from sessionerror.conformance.harness import Harness
from sessionerror.conformance.report import ClauseResult, fail, passed
from sessionerror.errors import first_line
from sessionerror.models.binding import bind_session
from sessionerror.models.enums import ErrorCategory, ErrorSeverity

__all__ = ["check_queries"]

_FIND = "find_by_category(session_id, category): that session's errors of that category"
_FIND_ONE = "find_by_category: one statement"
_BLOCKING = "has_blocking_errors(session_id): any blocking error in that session"
_BLOCKING_ONE = "has_blocking_errors: one statement, no rows loaded"
_NO_ROWS = re.compile(r"\bEXISTS\b|\bcount\s*\(|\bLIMIT\b|\bTOP\b", re.IGNORECASE)
_UF, _AR, _TMP = ErrorCategory.USER_FIXABLE, ErrorCategory.ADMIN_REQUIRED, ErrorCategory.TEMPORARY


def _call(model: type[Any], name: str, db: Session, *args: Any) -> Any:
    method = getattr(model, name)
    try:
        takes_db = "db" in pyinspect.signature(method).parameters
    except (TypeError, ValueError):
        takes_db = False
    if takes_db:
        return method(*args, db=db)
    with bind_session(db):
        return method(*args)


def _measure(harness: Harness, db: Session, name: str, *args: Any) -> tuple[Any, list[str], int]:
    """(result or 'raised ...', statements sent, objects loaded into the session)."""
    db.flush()
    db.expunge_all()
    with harness.recorder.capture() as statements:
        try:
            result = _call(harness.model, name, db, *args)
        except Exception as exc:
            result = f"raised {type(exc).__name__}: {first_line(exc)[:200]}"
    return result, list(statements), len(db.identity_map)


def _ids(result: Any) -> Any:
    if isinstance(result, str):
        return result
    return sorted(str(getattr(error, "id", error)) for error in result)


def _short(statement: str) -> str:
    return statement if len(statement) <= 160 else statement[:157] + "..."


def _statements_problem(statements: list[str]) -> str:
    listing = " | ".join(_short(s) for s in statements) if statements else "(none)"
    return f"{len(statements)} statements: {listing}"


def check_queries(harness: Harness) -> list[ClauseResult]:
    """Both class methods on session 1 (blocking, mixed categories) and session 2 (no blocking)."""
    results: list[ClauseResult] = []
    with harness.orm() as db:
        parents = harness.parents(db)
        one, two = parents.session_1, parents.session_2
        a = harness.add_error(db, one, error_category=_UF, severity=ErrorSeverity.BLOCKING)
        harness.add_error(db, one, error_category=_AR, severity=ErrorSeverity.WARNING)
        c = harness.add_error(db, one, error_category=_UF, severity=ErrorSeverity.INFO)
        d = harness.add_error(db, two, error_category=_UF, severity=ErrorSeverity.WARNING)
        harness.add_error(db, two, error_category=_TMP, severity=ErrorSeverity.INFO)
        wanted = {
            "session 1, user_fixable": sorted([str(a.id), str(c.id)]),
            "session 2, user_fixable": [str(d.id)],
            "session 1, temporary": [],
        }
        cases = {"session 1, user_fixable": (one, _UF), "session 2, user_fixable": (two, _UF)}
        cases["session 1, temporary"] = (one, _TMP)
        seen: dict[str, Any] = {}
        counts: list[list[str]] = []
        for label, args in cases.items():
            result, statements, _loaded = _measure(harness, db, "find_by_category", *args)
            seen[label], wrong_type = _ids(result), ""
            if not isinstance(result, str) and any(
                not isinstance(e, harness.model) for e in result
            ):
                wrong_type = f"not {harness.model.__name__} objects"
                seen[label] = f"{seen[label]} ({wrong_type})"
            counts.append(statements)
        expected = "; ".join(f"{k} -> {len(v)} error(s)" for k, v in wanted.items())
        wrong = {k: v for k, v in seen.items() if v != wanted[k]}
        if wrong:
            found = "; ".join(
                f"{k} -> {v if isinstance(v, str) else f'{len(v)} error(s)'}"
                for k, v in wrong.items()
            )
            results.append(
                fail(
                    "§4.find_by_category",
                    _FIND,
                    found,
                    expected,
                    "select(cls).where(cls.session_id == session_id, cls.error_category == "
                    "category): filter on both",
                )
            )
        else:
            results.append(passed("§4.find_by_category", _FIND, expected))
        many = next((s for s in counts if len(s) != 1), None)
        if many is not None:
            results.append(
                fail(
                    "§4.find_by_category.statements",
                    _FIND_ONE,
                    _statements_problem(many),
                    "exactly one SELECT per call",
                    "one select(cls).where(...) executed with db.scalars(); no per-row loads "
                    "(lazy relationships, db.get() in a loop)",
                )
            )
        else:
            results.append(passed("§4.find_by_category.statements", _FIND_ONE, "one SELECT"))
        results += _check_blocking(harness, db, one, two)
    return results


def _check_blocking(harness: Harness, db: Session, one: Any, two: Any) -> list[ClauseResult]:
    first = _measure(harness, db, "has_blocking_errors", one)
    second = _measure(harness, db, "has_blocking_errors", two)
    results: list[ClauseResult] = []
    expected = "session 1 -> True, session 2 -> False"
    if (first[0], second[0]) != (True, False):
        results.append(
            fail(
                "§4.has_blocking_errors",
                _BLOCKING,
                f"session 1 -> {first[0]!r}, session 2 -> {second[0]!r}",
                expected,
                "select(exists().where(cls.session_id == session_id, "
                "cls.severity == ErrorSeverity.BLOCKING)): filter on both",
            )
        )
    else:
        results.append(passed("§4.has_blocking_errors", _BLOCKING, expected))
    problem = ""
    for _result, statements, loaded in (first, second):
        if len(statements) != 1:
            problem = _statements_problem(statements)
        elif loaded or not _NO_ROWS.search(statements[0]):
            problem = f"it loads the rows (no EXISTS, COUNT or LIMIT): {_short(statements[0])}"
        if problem:
            break
    if problem:
        results.append(
            fail(
                "§4.has_blocking_errors.statements",
                _BLOCKING_ONE,
                problem,
                "one SELECT EXISTS (...) (or COUNT / LIMIT 1); no rows loaded",
                "return bool(db.scalar(select(exists().where(cls.session_id == session_id, "
                "cls.severity == ErrorSeverity.BLOCKING))))",
            )
        )
    else:
        results.append(
            passed("§4.has_blocking_errors.statements", _BLOCKING_ONE, "one EXISTS query")
        )
    return results
