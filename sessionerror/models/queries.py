"""The model's queries, written once for the sync and the async APIs.

``SessionError.find_by_category`` / ``has_blocking_errors``, ``SessionErrorRepository``,
``AsyncSessionErrorRepository`` and both retention functions build their statements here and
only differ in how they execute them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypedDict, Unpack

from sqlalchemy import Delete, Select, delete, exists, inspect, select

from sessionerror.models.enums import ErrorCategory, ErrorSeverity, OperationStage
from sessionerror.models.types import utcnow
from sessionerror.models.validation import coerce_enum

__all__ = [
    "ErrorFields",
    "build_error",
    "find_by_category_statement",
    "has_blocking_statement",
    "purge_statement",
]


def find_by_category_statement(
    model: Any, session_id: uuid.UUID, category: ErrorCategory | str
) -> Select[Any]:
    """Errors of ``category`` in ``session_id``, oldest first (one SELECT)."""
    wanted = coerce_enum(ErrorCategory, category, "error_category")
    return (
        select(model)
        .where(model.session_id == session_id, model.error_category == wanted)
        .order_by(model.created_at, model.id)
    )


def has_blocking_statement(model: Any, session_id: uuid.UUID) -> Select[Any]:
    """``SELECT EXISTS (...)`` for a blocking error of ``session_id`` (no rows loaded)."""
    return select(
        exists().where(model.session_id == session_id, model.severity == ErrorSeverity.BLOCKING)
    )


def purge_statement(
    session_model: Any, *, older_than_days: float, now: datetime | None = None
) -> tuple[Delete, datetime]:
    """The bulk DELETE of sessions older than ``older_than_days``, and its cutoff time."""
    if older_than_days < 0:
        raise ValueError(f"older_than_days must be >= 0, got {older_than_days}")
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    statement = (
        delete(session_model)
        .where(session_model.created_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return statement, cutoff


class _RequiredErrorFields(TypedDict):
    session_id: uuid.UUID
    category: ErrorCategory | str
    severity: ErrorSeverity | str
    stage: OperationStage | str
    user_message: str
    recovery_actions: list[str] | dict[str, Any]


class ErrorFields(_RequiredErrorFields, total=False):
    """The keyword arguments of ``record()`` (sync and async) and :func:`build_error`.

    ``recovery_actions`` may be a plain list of steps; the last four fields are optional.
    (Required fields sit in a base class: ``NotRequired`` is not seen under postponed
    annotations on Python 3.11.)
    """

    technical_details: dict[str, Any] | None
    error_code: str | None
    related_file_id: uuid.UUID | None
    related_ticket_id: uuid.UUID | None
    #: Values of the model's own columns beyond the specification's (a team's NOT NULL
    #: ``tenant``, say), by attribute name.
    columns: Mapping[str, Any] | None


def build_error(model: Any, caller: str = "build_error()", **fields: Unpack[ErrorFields]) -> Any:
    """Construct (validate and redact) one error of ``model``; nothing touches the database.

    ``recovery_actions`` may be a plain list of steps; ``columns`` sets the model's own extra
    columns. Raises ErrorDataValidationError, and TypeError (naming ``caller``) for a missing
    or unknown keyword argument or a ``columns`` name that is not one of the model's own.
    """
    _check_keywords(caller, fields.keys())
    extra = dict(fields.get("columns") or {})
    _check_extra_columns(model, caller, extra)
    recovery_actions = fields["recovery_actions"]
    actions = (
        {"actions": list(recovery_actions)}
        if isinstance(recovery_actions, list | tuple)
        else recovery_actions
    )
    technical_details = fields.get("technical_details")
    return model(
        session_id=fields["session_id"],
        error_category=fields["category"],
        severity=fields["severity"],
        operation_stage=fields["stage"],
        user_message=fields["user_message"],
        recovery_actions=actions,
        technical_details=technical_details if technical_details is not None else {},
        error_code=fields.get("error_code"),
        related_file_id=fields.get("related_file_id"),
        related_ticket_id=fields.get("related_ticket_id"),
        **extra,
    )


#: The attributes ``build_error`` sets itself: never overridden through ``columns``.
_SPEC_ATTRIBUTES = frozenset(
    {
        "id",
        "session_id",
        "error_category",
        "severity",
        "operation_stage",
        "user_message",
        "recovery_actions",
        "technical_details",
        "error_code",
        "related_file_id",
        "related_ticket_id",
        "created_at",
    }
)


def _check_extra_columns(model: Any, caller: str, extra: Mapping[str, Any]) -> None:
    """Refuse a ``columns`` name that is a specification field or not a column of ``model``."""
    if not extra:
        return
    own = {attr.key for attr in inspect(model).column_attrs} - _SPEC_ATTRIBUTES
    for name in extra:
        if name in _SPEC_ATTRIBUTES:
            raise TypeError(
                f"{caller}: columns={{{name!r}: ...}} is a field of the specification; "
                "pass it as its own keyword argument"
            )
        if name not in own:
            listed = ", ".join(sorted(own)) or "none"
            raise TypeError(
                f"{caller}: columns={{{name!r}: ...}} is not a column of {model.__name__} "
                f"(its own columns: {listed})"
            )


def _check_keywords(caller: str, given: Iterable[str]) -> None:
    """Raise TypeError as Python would for a missing or unexpected keyword argument."""
    names = set(given)
    unknown = sorted(names - ErrorFields.__required_keys__ - ErrorFields.__optional_keys__)
    if unknown:
        raise TypeError(f"{caller} got an unexpected keyword argument {unknown[0]!r}")
    missing = [name for name in _RequiredErrorFields.__annotations__ if name not in names]
    if missing:
        listed = ", ".join(repr(name) for name in missing)
        raise TypeError(f"{caller} missing required keyword-only argument(s): {listed}")
