"""The async repository: record and query SessionErrors through an ``AsyncSession``.

Same statements, validation, redaction and fault mapping as the sync
:class:`~sessionerror.runtime.repository.SessionErrorRepository` (they are shared, see
:mod:`sessionerror.models.queries` and :mod:`sessionerror.runtime.faults`). Needs the ``async``
extra (``pip install "sessionerror[async]"``) only when used.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any, Unpack

from sessionerror.models.binding_async import require_async_session
from sessionerror.models.enums import ErrorCategory
from sessionerror.models.queries import (
    ErrorFields,
    build_error,
    find_by_category_statement,
    has_blocking_statement,
    purge_statement,
)
from sessionerror.runtime.faults import mapped_storage_faults
from sessionerror.runtime.model_choice import resolve_error_model
from sessionerror.runtime.retention import (
    DEFAULT_RETENTION_DAYS,
    log_purged,
    session_model_or_reference,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["AsyncSessionErrorRepository", "purge_expired_sessions_async"]


class AsyncSessionErrorRepository:
    """Records and queries SessionErrors in the caller's AsyncSession; never commits.

    Typical FastAPI use::

        repo = AsyncSessionErrorRepository(db)
        error = await repo.record(session_id=..., category="user_fixable", ...)
        await db.commit()
        if await repo.has_blocking_errors(session_id): ...

    ``model=`` is the mapped ``session_errors`` class to write (your ``SessionErrorMixin``
    model). Without it: the class ``sessionerror_model`` names, else the one such model of the
    schema the session holds objects of, else the one mapped in the process, else the kit's
    reference ``SessionError``; when that cannot be told (several are mapped) a TypeError asks
    for ``model=`` (:mod:`sessionerror.runtime.model_choice`).
    """

    def __init__(self, db: AsyncSession, *, model: type[Any] | None = None) -> None:
        self.db = require_async_session(
            db, "AsyncSessionErrorRepository()", sync_api="SessionErrorRepository(db)"
        )
        #: The model class written and queried.
        self.model = resolve_error_model(self.db.sync_session, model, "AsyncSessionErrorRepository")

    async def record(self, **fields: Unpack[ErrorFields]) -> Any:
        """Validate, add and flush one error in a SAVEPOINT; return it.

        Raises ErrorDataValidationError for invalid data (nothing is written),
        StorageUnavailableError (admin_required) when the connection is refused or lost,
        StorageTimeoutError (temporary) on a statement or lock timeout; a failed write leaves
        nothing behind. The caller's transaction decides whether the row is committed.
        """
        error = build_error(self.model, "AsyncSessionErrorRepository.record()", **fields)
        with mapped_storage_faults(fields["session_id"]):
            async with self.db.begin_nested():
                self.db.add(error)
                await self.db.flush()
        return error

    async def find_by_category(
        self, session_id: uuid.UUID, category: ErrorCategory | str
    ) -> list[Any]:
        """Errors of ``category`` in ``session_id``, oldest first (one query)."""
        statement = find_by_category_statement(self.model, session_id, category)
        return list((await self.db.scalars(statement)).all())

    async def has_blocking_errors(self, session_id: uuid.UUID) -> bool:
        """True if ``session_id`` has any blocking error (one EXISTS query, no rows loaded)."""
        return bool(await self.db.scalar(has_blocking_statement(self.model, session_id)))


async def purge_expired_sessions_async(
    db: AsyncSession,
    *,
    older_than_days: float = DEFAULT_RETENTION_DAYS,
    now: datetime | None = None,
    session_model: Any = None,
) -> int:
    """Async :func:`~sessionerror.runtime.retention.purge_expired_sessions`: one bulk DELETE.

    Runs in the caller's transaction (nothing is committed); errors, files and tickets of the
    deleted sessions go by ON DELETE CASCADE. Returns how many sessions were deleted. Objects
    already loaded are not expired (an AsyncSession cannot lazy-load them again).
    """
    db = require_async_session(
        db, "purge_expired_sessions_async()", sync_api="purge_expired_sessions(db)"
    )
    parents = session_model_or_reference(session_model)
    statement, cutoff = purge_statement(parents, older_than_days=older_than_days, now=now)
    result = await db.execute(statement)
    # Unlike the sync purge, nothing is expired: an AsyncSession cannot lazy-load an expired
    # attribute (MissingGreenlet). Re-query what you need; deleted rows are gone from the database.
    return log_purged(result, cutoff)
