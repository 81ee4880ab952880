"""create_async / create_batch_async on all four factories, through the bound AsyncSession."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sessionerror import NoSessionBoundError, SessionError, Ticket, UploadedFile, WorkflowSession
from sessionerror.factories import (
    SessionErrorFactory,
    TicketFactory,
    UploadedFileFactory,
    WorkflowSessionFactory,
)
from sessionerror.models.enums import ErrorCategory, ErrorSeverity

pytestmark = pytest.mark.asyncio


async def count(db: AsyncSession, model: Any) -> int:
    return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_traits_and_parents(sessionerror_async_db: AsyncSession) -> None:
    error = await SessionErrorFactory.create_async(
        blocking=True, admin_required=True, jira_export=True, with_file=True, with_ticket=True
    )
    assert error.severity is ErrorSeverity.BLOCKING
    assert error.error_category is ErrorCategory.ADMIN_REQUIRED
    assert error.operation_stage == "jira_export"
    assert error.related_file_id is not None and error.related_ticket_id is not None
    file = await sessionerror_async_db.get(UploadedFile, error.related_file_id)
    ticket = await sessionerror_async_db.get(Ticket, error.related_ticket_id)
    assert file is not None and ticket is not None
    assert file.session_id == ticket.session_id == error.session_id  # one parent session
    assert await count(sessionerror_async_db, WorkflowSession) == 1


async def test_every_factory_and_batches(sessionerror_async_db: AsyncSession) -> None:
    session = await WorkflowSessionFactory.create_async(name="Q3 import")
    assert session.name == "Q3 import"
    assert (await UploadedFileFactory.create_async(session=session)).session_id == session.id
    assert (await TicketFactory.create_async(session=session, exported=True)).jira_key
    errors = await SessionErrorFactory.create_batch_async(4, session_id=session.id, info=True)
    assert len({e.id for e in errors}) == 4
    assert await count(sessionerror_async_db, SessionError) == 4
    assert await count(sessionerror_async_db, WorkflowSession) == 1
    with pytest.raises(ValueError, match="non-negative int"):
        await SessionErrorFactory.create_batch_async(-1)


async def test_factory_fixtures(async_session_error: Any, async_workflow_session: Any) -> None:
    assert async_session_error.session_id == async_workflow_session.id
    assert async_session_error.severity is ErrorSeverity.WARNING
    assert async_session_error.error_category == "user_fixable"
    assert async_session_error.operation_stage == "upload"


async def test_without_a_bound_session_the_error_says_what_to_do() -> None:
    with pytest.raises(NoSessionBoundError, match="sessionerror_async_db"):
        await SessionErrorFactory.create_async()
