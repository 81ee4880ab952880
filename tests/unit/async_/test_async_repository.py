"""AsyncSessionErrorRepository and the async retention on both backends (real databases)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sessionerror import (
    AsyncSessionErrorRepository,
    ErrorDataValidationError,
    SessionError,
    WorkflowSession,
    purge_expired_sessions_async,
)
from sessionerror.factories import SessionErrorFactory, WorkflowSessionFactory
from sessionerror.models.types import utcnow

pytestmark = pytest.mark.asyncio

RECORD: dict[str, Any] = {
    "category": "admin_required",
    "severity": "blocking",
    "stage": "jira_export",
    "user_message": "Jira rejected our credentials",
    "recovery_actions": ["Ask a Jira administrator for help", "Export again"],
    "technical_details": {"headers": {"Authorization": "Bearer tok-123456789"}},
    "error_code": "JIRA_AUTH_401",
}


async def count_errors(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(SessionError)) or 0)


async def test_record_validates_redacts_and_flushes_without_committing(
    sessionerror_async_db: AsyncSession,
) -> None:
    session = await WorkflowSessionFactory.create_async()
    repo = AsyncSessionErrorRepository(sessionerror_async_db)

    error = await repo.record(session_id=session.id, **RECORD)

    assert isinstance(error, SessionError)
    assert error.recovery_actions == {
        "actions": ["Ask a Jira administrator for help", "Export again"]
    }
    assert "tok-123456789" not in str(error.technical_details)
    assert await count_errors(sessionerror_async_db) == 1
    assert sessionerror_async_db.in_transaction()


async def test_invalid_data_writes_nothing(sessionerror_async_db: AsyncSession) -> None:
    session = await WorkflowSessionFactory.create_async()
    repo = AsyncSessionErrorRepository(sessionerror_async_db)
    with pytest.raises(ErrorDataValidationError, match="user-friendly message"):
        await repo.record(session_id=session.id, **{**RECORD, "user_message": "  "})
    with pytest.raises(ErrorDataValidationError, match="recovery actions"):
        await repo.record(session_id=session.id, **{**RECORD, "recovery_actions": {"x": 1}})
    assert await count_errors(sessionerror_async_db) == 0


async def test_queries_answer_right_in_one_statement_each(
    sessionerror_async_db: AsyncSession, sessionerror_assert_num_queries: Any
) -> None:
    blocked = await SessionErrorFactory.create_async(blocking=True, user_fixable=True)
    warned = await SessionErrorFactory.create_async(warning=True, user_fixable=True)
    await SessionErrorFactory.create_async(info=True, temporary=True, session_id=warned.session_id)
    repo = AsyncSessionErrorRepository(sessionerror_async_db)

    with sessionerror_assert_num_queries(1):
        assert await repo.has_blocking_errors(blocked.session_id) is True
    with sessionerror_assert_num_queries(1):
        assert await repo.has_blocking_errors(warned.session_id) is False
    with sessionerror_assert_num_queries(1):
        found = await repo.find_by_category(warned.session_id, "user_fixable")
    assert [e.id for e in found] == [warned.id]
    assert await repo.has_blocking_errors(uuid.uuid4()) is False


async def test_purge_expired_sessions_async(sessionerror_async_db: AsyncSession) -> None:
    old = await WorkflowSessionFactory.create_async(created_at=utcnow() - timedelta(days=8))
    live = await WorkflowSessionFactory.create_async()
    await SessionErrorFactory.create_async(session_id=old.id)
    kept = await SessionErrorFactory.create_async(session_id=live.id)

    assert await purge_expired_sessions_async(sessionerror_async_db) == 1

    names = (await sessionerror_async_db.scalars(select(WorkflowSession.id))).all()
    assert names == [live.id]
    ids = (await sessionerror_async_db.scalars(select(SessionError.id))).all()
    assert ids == [kept.id]  # the old session's error went by CASCADE


async def test_the_async_api_refuses_a_sync_session(sessionerror_db: Any) -> None:
    with pytest.raises(TypeError, match=r"SessionErrorRepository\(db\)"):
        AsyncSessionErrorRepository(sessionerror_db)
    with pytest.raises(TypeError, match=r"purge_expired_sessions\(db\)"):
        await purge_expired_sessions_async(sessionerror_db)
