"""The 7-day cleanup: delete old workflow sessions; their errors go with them by CASCADE."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from sessionerror.models import WorkflowSession
from sessionerror.models.audit import get_logger
from sessionerror.models.types import utcnow

__all__ = ["DEFAULT_RETENTION_DAYS", "purge_expired_sessions"]

DEFAULT_RETENTION_DAYS = 7


def purge_expired_sessions(
    db: Session,
    *,
    older_than_days: float = DEFAULT_RETENTION_DAYS,
    now: datetime | None = None,
    session_model: Any = WorkflowSession,
) -> int:
    """Delete sessions created more than ``older_than_days`` ago; return how many went.

    One bulk DELETE inside the caller's transaction (nothing is committed here): the database's
    ON DELETE CASCADE removes their errors, files and tickets. Errors of live sessions stay,
    whatever happened to their files and tickets.
    """
    if older_than_days < 0:
        raise ValueError(f"older_than_days must be >= 0, got {older_than_days}")
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    result = db.execute(
        delete(session_model)
        .where(session_model.created_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    db.expire_all()  # loaded children may have been removed by the database
    count = int(getattr(result, "rowcount", 0) or 0)
    get_logger().info("Retention cleanup removed %d session(s) created before %s", count, cutoff)
    return count
