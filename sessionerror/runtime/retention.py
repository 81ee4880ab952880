"""The 7-day cleanup: delete old workflow sessions; their errors go with them by CASCADE."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from sessionerror.models.audit import get_logger
from sessionerror.models.queries import purge_statement
from sessionerror.models.session_guard import require_sync_session

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "log_purged",
    "purge_expired_sessions",
    "session_model_or_reference",
]

DEFAULT_RETENTION_DAYS = 7


def purge_expired_sessions(
    db: Session,
    *,
    older_than_days: float = DEFAULT_RETENTION_DAYS,
    now: datetime | None = None,
    session_model: Any = None,
) -> int:
    """Delete sessions created more than ``older_than_days`` ago; return how many went.

    One bulk DELETE inside the caller's transaction (nothing is committed here): the database's
    ON DELETE CASCADE removes their errors, files and tickets. Errors of live sessions stay,
    whatever happened to their files and tickets. ``session_model`` is your parent model
    (default: the ``sessionerror_model``'s parent, else the reference ``WorkflowSession``).
    """
    # -- shared with purge_expired_sessions_async (sessionerror.runtime.repository_async) --
    db = require_sync_session(
        db, "purge_expired_sessions()", async_api="await purge_expired_sessions_async(db)"
    )
    parents = session_model_or_reference(session_model)
    statement, cutoff = purge_statement(parents, older_than_days=older_than_days, now=now)
    result = db.execute(statement)
    db.expire_all()  # loaded children may have been removed by the database
    return log_purged(result, cutoff)


def log_purged(result: Any, cutoff: datetime) -> int:
    """Log and return how many sessions a purge removed (shared by the sync and async APIs)."""
    count = int(getattr(result, "rowcount", 0) or 0)
    get_logger().info("Retention cleanup removed %d session(s) created before %s", count, cutoff)
    return count


def session_model_or_reference(session_model: Any) -> Any:
    """``session_model``; when None, the parent of the ``sessionerror_model`` class
    (:func:`~sessionerror.runtime.model_choice.configure_model`), else the reference
    ``WorkflowSession``.

    Imported only then: importing the runtime must not map the kit's reference models into a
    team's process (the repositories pick the one mapped ``session_errors`` model).
    """
    if session_model is not None:
        return session_model
    from sessionerror.models.filling import mapped_class, parent_table
    from sessionerror.runtime.model_choice import configured_model

    named = configured_model()
    sessions = parent_table(named, "session_id") if named is not None else None
    parent = mapped_class(named, sessions) if named is not None and sessions is not None else None
    if parent is not None:
        return parent
    from sessionerror.models import WorkflowSession  # registers SessionError with it

    return WorkflowSession
