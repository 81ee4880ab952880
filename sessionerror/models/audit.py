"""Logging of the error lifecycle (spec §7): the ``sessionerror`` logger and its AUDIT level."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from sessionerror.redaction import redact_text

__all__ = [
    "AUDIT",
    "LOGGER_NAME",
    "audit_resolution_attempt",
    "audit_user_action",
    "get_logger",
]

LOGGER_NAME = "sessionerror"
#: Between INFO (20) and WARNING (30): audit records pass an INFO-level handler.
AUDIT = 25

if logging.getLevelName(AUDIT) != "AUDIT":
    logging.addLevelName(AUDIT, "AUDIT")


class _Identified(Protocol):
    id: Any
    session_id: Any


def get_logger() -> logging.Logger:
    """Return the ``sessionerror`` logger."""
    return logging.getLogger(LOGGER_NAME)


def _error_fields(error: _Identified) -> dict[str, Any]:
    return {"error_id": str(error.id), "session_id": str(error.session_id)}


def audit_resolution_attempt(
    error: _Identified, *, action: str, succeeded: bool, actor: str | None = None
) -> None:
    """Record at AUDIT level that someone tried to resolve ``error`` with ``action``.

    ``action`` and ``actor`` are logged with secrets redacted.
    """
    action = redact_text(action)
    actor = redact_text(actor) if actor is not None else None
    outcome = "succeeded" if succeeded else "failed"
    get_logger().log(
        AUDIT,
        "Resolution attempt for error %s in session %s by %s: %s (%s)",
        error.id,
        error.session_id,
        actor or "system",
        action,
        outcome,
        extra={
            "sessionerror": {
                **_error_fields(error),
                "action": action,
                "outcome": outcome,
                "actor": actor,
            }
        },
    )


def audit_user_action(error: _Identified, *, action: str, actor: str | None = None) -> None:
    """Record at AUDIT level a user action taken in response to ``error`` (secrets redacted)."""
    action = redact_text(action)
    actor = redact_text(actor) if actor is not None else None
    get_logger().log(
        AUDIT,
        "User action on error %s in session %s by %s: %s",
        error.id,
        error.session_id,
        actor or "user",
        action,
        extra={"sessionerror": {**_error_fields(error), "action": action, "actor": actor}},
    )
