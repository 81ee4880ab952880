"""Record errors inside the caller's transaction, mapping storage faults to the kit's errors."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from sessionerror.errors import StorageError, StorageTimeoutError, StorageUnavailableError
from sessionerror.models import SessionError
from sessionerror.models.enums import ErrorCategory, ErrorSeverity, OperationStage

__all__ = ["SessionErrorRepository", "classify_storage_fault"]

# SQLSTATEs: 57014 query_canceled (statement_timeout), 55P03 lock_not_available (lock_timeout),
# 40P01 deadlock_detected. Class 08 = connection exception; 57P01-57P03 = server shut down.
_TIMEOUT_CODES = {"57014", "55P03", "40P01"}
_UNAVAILABLE_PREFIXES = ("08", "57P", "53", "28")
_SQLITE_TIMEOUT = ("database is locked", "database table is locked")


def classify_storage_fault(error: sa_exc.DBAPIError) -> type[StorageError] | None:
    """Return the kit error class for a driver error, or None if it is not a storage fault."""
    code = getattr(error.orig, "pgcode", None) or getattr(error.orig, "sqlstate", None)
    text = str(error.orig).lower()
    if code in _TIMEOUT_CODES or any(marker in text for marker in _SQLITE_TIMEOUT):
        return StorageTimeoutError
    if error.connection_invalidated or (code and code.startswith(_UNAVAILABLE_PREFIXES)):
        return StorageUnavailableError
    if isinstance(error, sa_exc.OperationalError):
        return StorageUnavailableError
    return None


class SessionErrorRepository:
    """Records SessionErrors in the caller's session; never commits on its own."""

    def __init__(self, db: Session, *, model: type[Any] = SessionError) -> None:
        self.db = db
        self.model = model

    def record(
        self,
        *,
        session_id: uuid.UUID,
        category: ErrorCategory | str,
        severity: ErrorSeverity | str,
        stage: OperationStage | str,
        user_message: str,
        recovery_actions: list[str] | dict[str, Any],
        technical_details: dict[str, Any] | None = None,
        error_code: str | None = None,
        related_file_id: uuid.UUID | None = None,
        related_ticket_id: uuid.UUID | None = None,
    ) -> Any:
        """Validate, add and flush one error; return it.

        ``recovery_actions`` may be a plain list of steps. Raises ErrorDataValidationError for
        invalid data (nothing is written), StorageUnavailableError (admin_required) when the
        connection is refused or lost, StorageTimeoutError (temporary) on a statement or lock
        timeout. The caller's transaction decides whether the row is committed.
        """
        actions = (
            {"actions": list(recovery_actions)}
            if isinstance(recovery_actions, list | tuple)
            else recovery_actions
        )
        error = self.model(
            session_id=session_id,
            error_category=category,
            severity=severity,
            operation_stage=stage,
            user_message=user_message,
            recovery_actions=actions,
            technical_details=technical_details if technical_details is not None else {},
            error_code=error_code,
            related_file_id=related_file_id,
            related_ticket_id=related_ticket_id,
        )
        try:
            with self.db.begin_nested():
                self.db.add(error)
                self.db.flush()
        except sa_exc.DBAPIError as exc:
            kind = classify_storage_fault(exc)
            if kind is None:
                raise
            raise kind(
                f"Could not record the error for session {session_id}: "
                f"{_first_line(exc.orig)} ({kind.__name__})"
            ) from exc
        return error


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if error is not None and str(error).strip() else ""
