"""Record errors inside the caller's transaction, mapping storage faults to the kit's errors.

The statements, the validation and the fault classification are shared with
:class:`~sessionerror.runtime.async_repository.AsyncSessionErrorRepository`
(:mod:`sessionerror.models.queries`, :mod:`sessionerror.runtime.faults`).
"""

from __future__ import annotations

from typing import Any, Unpack

from sqlalchemy.orm import Session

from sessionerror.models import SessionError
from sessionerror.models.queries import ErrorFields, build_error
from sessionerror.models.session_guard import require_sync_session
from sessionerror.runtime.faults import classify_storage_fault, mapped_storage_faults

__all__ = ["SessionErrorRepository", "classify_storage_fault"]


class SessionErrorRepository:
    """Records SessionErrors in the caller's session; never commits on its own."""

    def __init__(self, db: Session, *, model: type[Any] = SessionError) -> None:
        self.db = require_sync_session(
            db, "SessionErrorRepository()", async_api="AsyncSessionErrorRepository(db)"
        )
        self.model = model

    def record(self, **fields: Unpack[ErrorFields]) -> Any:
        """Validate, add and flush one error; return it.

        ``recovery_actions`` may be a plain list of steps. Raises ErrorDataValidationError for
        invalid data (nothing is written), StorageUnavailableError (admin_required) when the
        connection is refused or lost, StorageTimeoutError (temporary) on a statement or lock
        timeout. The caller's transaction decides whether the row is committed.
        """
        error = build_error(self.model, "SessionErrorRepository.record()", **fields)
        with mapped_storage_faults(fields["session_id"]), self.db.begin_nested():
            self.db.add(error)
            self.db.flush()
        return error
