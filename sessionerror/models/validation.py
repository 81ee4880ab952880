"""Validation of SessionError data (spec §8); every failure is an ErrorDataValidationError."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from enum import Enum
from functools import partial
from typing import Any, TypeVar

from sessionerror.errors import ErrorDataValidationError
from sessionerror.models.enums import ErrorCategory, ErrorSeverity, OperationStage, enum_values
from sessionerror.redaction import redact, redact_text

__all__ = [
    "ERROR_FIELD_VALIDATORS",
    "MAX_NESTING_DEPTH",
    "coerce_enum",
    "validate_error_code",
    "validate_error_fields",
    "validate_operation_stage",
    "validate_recovery_actions",
    "validate_technical_details",
    "validate_user_message",
    "validate_uuid",
]

E = TypeVar("E", bound=Enum)

#: Deepest nesting of dicts/lists accepted in ``technical_details`` and ``recovery_actions``
#: (the top-level dict is level 1). Deeper values raise ErrorDataValidationError.
MAX_NESTING_DEPTH = 64
#: A refused enum value quoted in an error message: a short word of letters, like the allowed
#: values; digits or punctuation may make it a credential, so it is described instead.
_WORD = re.compile(r"[A-Za-z_ ]{1,24}")


def _fail(message: str, field: str) -> ErrorDataValidationError:
    return ErrorDataValidationError(
        message=message, category=ErrorCategory.ADMIN_REQUIRED, field=field
    )


def coerce_enum(enum_cls: type[E], value: object, field: str) -> E:
    """Return the member of ``enum_cls`` for ``value`` (a member or its stored value)."""
    if isinstance(value, enum_cls):
        return value
    try:
        return enum_cls(value)
    except (ValueError, TypeError):
        allowed = ", ".join(enum_values(enum_cls))
        raise _fail(f"Invalid {field} {_shown(value)}: expected one of {allowed}", field) from None


def validate_operation_stage(value: object) -> str:
    """Return the stage's stored value; raise for anything that is not one of the four stages."""
    return coerce_enum(OperationStage, value, "operation_stage").value


def validate_user_message(value: object) -> str:
    """Require a non-blank user-facing message (spec §8); return it with secrets redacted."""
    if not isinstance(value, str) or len(value.strip()) == 0:
        raise _fail("Error must have user-friendly message", "user_message")
    _require_storable_text(value, "user_message")
    return redact_text(value)


def validate_recovery_actions(value: object) -> dict[str, Any]:
    """Require ``{"actions": [non-empty strings, ...], ...}`` (spec §8); return a redacted copy.

    Nesting deeper than :data:`MAX_NESTING_DEPTH` levels is refused.
    """
    if not isinstance(value, dict) or "actions" not in value:
        raise _fail("Invalid recovery actions format", "recovery_actions")
    actions = value["actions"]
    if not isinstance(actions, list) or not all(
        isinstance(step, str) and step.strip() for step in actions
    ):
        raise _fail(
            "Invalid recovery actions format: 'actions' must be a list of non-empty strings",
            "recovery_actions",
        )
    _require_json(value, "recovery_actions")
    # Each step is a sentence shown to the user: scrubbed as text, never read as a header pair
    # (``["Auth", "0"]`` are two steps, not a header named Auth and its secret value).
    others = {key: item for key, item in value.items() if key != "actions"}
    scrubbed: dict[str, Any] = redact(others) if others else {}
    return {"actions": [redact_text(step) for step in actions], **scrubbed}


def validate_technical_details(value: object) -> dict[str, Any]:
    """Require a JSON-serialisable dict; return a redacted copy safe to store.

    Nesting deeper than :data:`MAX_NESTING_DEPTH` levels is refused.
    """
    if not isinstance(value, dict):
        raise _fail(
            f"Invalid technical_details: expected a JSON object (dict), got {type(value).__name__}",
            "technical_details",
        )
    _require_json(value, "technical_details")
    redacted: dict[str, Any] = redact(value)
    return redacted


def validate_error_code(value: object) -> str | None:
    """Allow None or a non-blank string of at most 64 characters; return it redacted.

    A redacted code that grew past 64 characters is cut to 64 (the secret stays hidden).
    """
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise _fail(
            "Invalid error_code: expected None or a non-blank string of at most 64 characters",
            "error_code",
        )
    _require_storable_text(value, "error_code")
    return redact_text(value)[:64]


def validate_error_fields(
    *,
    error_category: object,
    severity: object,
    operation_stage: object,
    user_message: object,
    recovery_actions: object,
    technical_details: object,
    error_code: object,
) -> dict[str, Any]:
    """Validate (and redact) an error's seven content fields, in this order; return them.

    The one sequence the model, the data sets and the bulk history use. The first problem
    raises :class:`ErrorDataValidationError` whose ``field`` names the column.
    """
    values = {
        "error_category": error_category,
        "severity": severity,
        "operation_stage": operation_stage,
        "user_message": user_message,
        "recovery_actions": recovery_actions,
        "technical_details": technical_details,
        "error_code": error_code,
    }
    return {key: validate(values[key]) for key, validate in ERROR_FIELD_VALIDATORS.items()}


#: The validator of each content field of an error, in the order they are checked: the
#: model runs one when a field is assigned, :func:`validate_error_fields` runs them all.
ERROR_FIELD_VALIDATORS: dict[str, Callable[[object], Any]] = {
    "error_category": partial(coerce_enum, ErrorCategory, field="error_category"),
    "severity": partial(coerce_enum, ErrorSeverity, field="severity"),
    "operation_stage": validate_operation_stage,
    "user_message": validate_user_message,
    "recovery_actions": validate_recovery_actions,
    "technical_details": validate_technical_details,
    "error_code": validate_error_code,
}


def validate_uuid(value: object, field: str, *, required: bool) -> uuid.UUID | None:
    """Accept a UUID or its string form; None only when not ``required``."""
    if value is None:
        if required:
            raise _fail(f"{field} is required", field)
        return None
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise _fail(f"Invalid {field} ({_kind(value)}): expected a UUID or its string form", field)


def _require_json(value: dict[str, Any], field: str) -> None:
    """Refuse anything json.dumps or a backend would not store, without recursion.

    Containers deeper than :data:`MAX_NESTING_DEPTH` (or containing themselves) are refused
    before anything else looks at them, so no RecursionError can escape.
    """
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list | tuple):
            if depth > MAX_NESTING_DEPTH:
                raise _fail(
                    f"Invalid {field}: nested more than {MAX_NESTING_DEPTH} levels deep (or "
                    "it contains itself); flatten it or store the deep part as a string",
                    field,
                )
            if isinstance(item, dict):
                for key, child in item.items():
                    if not isinstance(key, str):
                        raise _fail(
                            f"Invalid {field}: JSON object keys must be strings, got a "
                            f"{type(key).__name__} key",
                            field,
                        )
                    _require_storable_text(key, field)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            _require_storable_text(item, field)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise _fail(f"Invalid {field}: {item} is not valid JSON", field)
        elif item is not None and not isinstance(item, int):
            raise _fail(
                f"Invalid {field}: not JSON-serialisable ({type(item).__name__} is not "
                "JSON-serialisable; convert it to a string, number, list or dict)",
                field,
            )


def _require_storable_text(value: str, field: str) -> None:
    """Refuse what no backend can store: NUL, and lone surrogates (not encodable as UTF-8)."""
    if "\x00" in value:
        raise _fail(f"Invalid {field}: NUL characters cannot be stored", field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _fail(
            f"Invalid {field}: lone surrogate characters cannot be stored as UTF-8", field
        ) from None


def _shown(value: object) -> str:
    """A refused enum value for an error message: quoted only when it is a short word like
    the allowed values (``'fatal'``); anything else may hold a secret, so only its kind."""
    if isinstance(value, str) and _WORD.fullmatch(value):
        return repr(value)
    return f"({_kind(value)})"


def _kind(value: object) -> str:
    """What a refused value is, never what it holds: ``a str of 12 characters``, ``a tuple``."""
    if isinstance(value, str | bytes):
        return f"a {type(value).__name__} of {len(value)} characters"
    return f"a {type(value).__name__}"
