"""Every sync API that takes a session refuses an AsyncSession, naming the async API to use.

Before, ``SessionError.has_blocking_errors(id, db=<AsyncSession>)`` answered True for a session
with only a warning: the un-awaited coroutine is truthy.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from sessionerror import (
    SessionError,
    SessionErrorRepository,
    bind_session,
    purge_expired_sessions,
)
from sessionerror.factories import SessionErrorFactory, bulk_create_history
from sessionerror.testing import load_dataset, rolled_back_session


@pytest.mark.asyncio
async def test_class_methods_refuse_an_async_session(sessionerror_async_db: AsyncSession) -> None:
    warning = await SessionErrorFactory.create_async(warning=True)
    with pytest.raises(TypeError) as caught:
        SessionError.has_blocking_errors(warning.session_id, db=sessionerror_async_db)
    message = str(caught.value)
    assert "AsyncSession" in message
    assert "await AsyncSessionErrorRepository(db).has_blocking_errors(...)" in message
    with pytest.raises(TypeError, match=r"AsyncSessionErrorRepository\(db\)\.find_by_category"):
        SessionError.find_by_category(warning.session_id, "user_fixable", db=sessionerror_async_db)


@pytest.mark.asyncio
async def test_helpers_refuse_an_async_session(sessionerror_async_db: AsyncSession) -> None:
    cases: list[tuple[Any, str]] = [
        (lambda: SessionErrorRepository(sessionerror_async_db), "AsyncSessionErrorRepository"),
        (lambda: purge_expired_sessions(sessionerror_async_db), "purge_expired_sessions_async"),
        (lambda: load_dataset(sessionerror_async_db, "upload_rejected"), "run_sync"),
        (
            lambda: bulk_create_history(sessionerror_async_db, sessions=1, errors_per_session=1),
            "run_sync",
        ),
    ]
    for call, fix in cases:
        with pytest.raises(TypeError, match=fix):
            call()
    with (
        pytest.raises(TypeError, match=r"bind_async_session\(db\)"),
        bind_session(
            sessionerror_async_db  # type: ignore[arg-type]
        ),
    ):
        pass


@pytest.mark.asyncio
async def test_rolled_back_session_refuses_an_async_connection(
    sessionerror_async_connection: Any,
) -> None:
    with (
        pytest.raises(TypeError, match="async_rolled_back_session"),
        rolled_back_session(sessionerror_async_connection),
    ):
        pass


def test_wrong_types_are_named(sessionerror_db: Any) -> None:
    session_id = SessionErrorFactory().session_id
    with pytest.raises(TypeError, match=r"needs a sqlalchemy.orm.Session, got str"):
        SessionError.has_blocking_errors(session_id, db="db")  # type: ignore[arg-type]
