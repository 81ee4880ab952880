"""The async test helpers refuse the wrong kind of object in one line, never run on it."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from sessionerror.testdb.isolation_async import async_rolled_back_session
from sessionerror.testdb.request_sessions_async import request_sessionmaker


def test_request_sessionmaker_refuses_a_sync_engine(sessionerror_engine: Engine) -> None:
    with pytest.raises(TypeError) as caught:
        request_sessionmaker(sessionerror_engine)  # type: ignore[arg-type]
    assert str(caught.value).startswith(
        "request_sessionmaker() needs an AsyncConnection or AsyncEngine, got Engine; "
    )


@pytest.mark.asyncio
async def test_request_sessionmaker_refuses_a_session(sessionerror_async_db: AsyncSession) -> None:
    with pytest.raises(TypeError, match=r"got AsyncSession; pass sessionerror_async_db\.bind"):
        request_sessionmaker(sessionerror_async_db)  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_request_sessionmaker_takes_the_tests_connection(
    sessionerror_async_db: AsyncSession,
) -> None:
    maker = request_sessionmaker(sessionerror_async_db.bind)  # type: ignore[arg-type]
    async with maker() as db:
        assert db.bind is sessionerror_async_db.bind


@pytest.mark.asyncio
async def test_async_rolled_back_session_refuses_a_sync_connection(
    sessionerror_engine: Engine,
) -> None:
    with sessionerror_engine.connect() as connection, pytest.raises(TypeError) as caught:
        async with async_rolled_back_session(connection):  # type: ignore[arg-type]
            pass  # pragma: no cover - never entered
    assert str(caught.value) == (
        "async_rolled_back_session() needs an AsyncConnection, got Connection; "
        "for a sync Connection use rolled_back_session()"
    )
