"""Record errors inside the caller's transaction, mapping storage faults to the kit's errors.

The statements, the validation and the fault classification are shared with
:class:`~sessionerror.runtime.async_repository.AsyncSessionErrorRepository`
(:mod:`sessionerror.models.queries`, :mod:`sessionerror.runtime.faults`).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from sessionerror.models import SessionError
from sessionerror.models.enums import ErrorCategory, ErrorSeverity, OperationStage
from sessionerror.models.queries import build_error
from sessionerror.models.session_guard import require_sync_session
from sessionerror.runtime.faults import STORAGE_FAULTS, classify_storage_fault, storage_error

__all__ = ["SessionErrorRepository", "classify_storage_fault"]


class SessionErrorRepository:
    """Records SessionErrors in the caller's session; never commits on its own."""

    def __init__(self, db: Session, *, model: type[Any] = SessionError) -> None:
        self.db = require_sync_session(
            db, "SessionErrorRepository()", async_api="AsyncSessionErrorRepository(db)"
        )
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
        error = build_error(
            self.model,
            session_id=session_id,
            category=category,
            severity=severity,
            stage=stage,
            user_message=user_message,
            recovery_actions=recovery_actions,
            technical_details=technical_details,
            error_code=error_code,
            related_file_id=related_file_id,
            related_ticket_id=related_ticket_id,
        )
        try:
            with self.db.begin_nested():
                self.db.add(error)
                self.db.flush()
        except STORAGE_FAULTS as exc:
            mapped = storage_error(exc, session_id)
            if mapped is None:
                raise
            raise mapped from exc
        return error
