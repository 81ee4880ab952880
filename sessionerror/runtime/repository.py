"""Record and query errors in the caller's transaction; storage faults become the kit's errors.

The statements, the validation and the fault classification are shared with
:class:`~sessionerror.runtime.repository_async.AsyncSessionErrorRepository`
(:mod:`sessionerror.models.queries`, :mod:`sessionerror.runtime.faults`).
"""

from __future__ import annotations

import uuid
from typing import Any, Unpack

from sqlalchemy.orm import Session

from sessionerror.models.enums import ErrorCategory
from sessionerror.models.queries import (
    ErrorFields,
    build_error,
    find_by_category_statement,
    has_blocking_statement,
)
from sessionerror.models.session_guard import require_sync_session
from sessionerror.runtime.faults import classify_storage_fault, mapped_storage_faults
from sessionerror.runtime.model_choice import resolve_error_model

__all__ = ["SessionErrorRepository", "classify_storage_fault"]


class SessionErrorRepository:
    """Records and queries SessionErrors in the caller's session; never commits on its own.

    The sync twin of :class:`~sessionerror.runtime.repository_async.AsyncSessionErrorRepository`:
    the same methods, names and statements::

        repo = SessionErrorRepository(db)
        error = repo.record(session_id=..., category="user_fixable", ...)
        db.commit()
        if repo.has_blocking_errors(session_id): ...

    ``model=`` is the mapped ``session_errors`` class to write (your ``SessionErrorMixin``
    model). Without it: the class ``sessionerror_model`` names, else the one such model of the
    schema the session holds objects of, else the one mapped in the process, else the kit's
    reference ``SessionError``; when that cannot be told (several are mapped) a TypeError asks
    for ``model=`` (:mod:`sessionerror.runtime.model_choice`).
    """

    def __init__(self, db: Session, *, model: type[Any] | None = None) -> None:
        self.db = require_sync_session(
            db, "SessionErrorRepository()", async_api="AsyncSessionErrorRepository(db)"
        )
        #: The model class written and queried.
        self.model = resolve_error_model(self.db, model, "SessionErrorRepository")

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

    def find_by_category(self, session_id: uuid.UUID, category: ErrorCategory | str) -> list[Any]:
        """Errors of ``category`` in ``session_id``, oldest first (one query)."""
        statement = find_by_category_statement(self.model, session_id, category)
        return list(self.db.scalars(statement).all())

    def has_blocking_errors(self, session_id: uuid.UUID) -> bool:
        """True if ``session_id`` has any blocking error (one EXISTS query, no rows loaded)."""
        return bool(self.db.scalar(has_blocking_statement(self.model, session_id)))
