"""Storage faults on asyncpg map like on psycopg2: refused/lost -> StorageUnavailableError
(admin_required), lock timeout -> StorageTimeoutError (temporary); nothing half-written and no
password in any message. Real PostgreSQL server, no mocks."""

from __future__ import annotations

import asyncio
import socket
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from sessionerror import (
    AsyncSessionErrorRepository,
    SessionError,
    StorageTimeoutError,
    StorageUnavailableError,
    WorkflowSession,
)
from sessionerror.models.enums import ErrorCategory

pytestmark = [pytest.mark.asyncio, pytest.mark.sessionerror(backends=["postgresql"])]

PASSWORD = "pw-never-shown-7781"


async def unavailable_on(url: str | URL, record: dict[str, Any]) -> StorageUnavailableError:
    """Record through a fresh engine on ``url``; the StorageUnavailableError it must raise."""
    engine = create_async_engine(url)
    try:
        async with AsyncSession(engine) as db:
            with pytest.raises(StorageUnavailableError) as caught:
                await AsyncSessionErrorRepository(db, model=SessionError).record(
                    session_id=uuid.uuid4(), **record
                )
    finally:
        await engine.dispose()
    return caught.value


async def committed_parent(db: AsyncSession, name: str) -> WorkflowSession:
    """A workflow session committed (so another connection sees and can lock it)."""
    parent = WorkflowSession(name=name)
    db.add(parent)
    await db.commit()
    return parent


async def errors_after_rollback(db: AsyncSession, engine: AsyncEngine) -> int:
    """Roll ``db`` back; how many errors another connection then sees."""
    await db.rollback()
    async with engine.connect() as check:
        return int(await check.scalar(select(func.count()).select_from(SessionError)) or 0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_refused_connection_is_storage_unavailable(
    sessionerror_backend: str, timeout_record: dict[str, Any]
) -> None:
    url = f"postgresql+asyncpg://app:{PASSWORD}@127.0.0.1:{free_port()}/app"
    error = await unavailable_on(url, timeout_record)
    assert error.category is ErrorCategory.ADMIN_REQUIRED
    assert isinstance(error.__cause__, OSError)  # asyncpg: not a DBAPI error
    assert PASSWORD not in str(error)
    assert "StorageUnavailableError" in str(error)


@pytest.mark.sessionerror(committed=True, backends=["postgresql"])
@pytest.mark.parametrize("pause", [0.0, 0.3], ids=["at-once", "after-fatal-read"])
async def test_terminated_backend_is_storage_unavailable(
    sessionerror_async_db: AsyncSession,
    sessionerror_async_engine: AsyncEngine,
    timeout_record: dict[str, Any],
    pause: float,
) -> None:
    """Both ways asyncpg reports a backend killed between statements are storage faults:
    the lost socket, and (once the loop has read the server's FATAL message) a protocol in
    the "failed" state, raised unwrapped as InternalClientError."""
    parent = await committed_parent(sessionerror_async_db, "terminated")
    pid = await sessionerror_async_db.scalar(text("select pg_backend_pid()"))
    async with sessionerror_async_engine.connect() as admin:
        await admin.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
    await asyncio.sleep(pause)
    with pytest.raises(StorageUnavailableError) as caught:
        await AsyncSessionErrorRepository(sessionerror_async_db).record(
            session_id=parent.id, **timeout_record
        )
    assert caught.value.category is ErrorCategory.ADMIN_REQUIRED
    stored = await errors_after_rollback(sessionerror_async_db, sessionerror_async_engine)
    assert stored == 0  # nothing half-written


@pytest.mark.sessionerror(committed=True, backends=["postgresql"])
async def test_lock_timeout_is_storage_timeout(
    sessionerror_async_db: AsyncSession,
    sessionerror_async_engine: AsyncEngine,
    timeout_record: dict[str, Any],
) -> None:
    parent = await committed_parent(sessionerror_async_db, "locked")
    async with sessionerror_async_engine.connect() as locker:
        await locker.begin()
        # The error's FK check needs a KEY SHARE lock on the parent row: FOR UPDATE blocks it.
        await locker.execute(
            text("select id from sessions where id = :id for update"), {"id": parent.id}
        )
        await sessionerror_async_db.execute(text("set lock_timeout = '200ms'"))
        with pytest.raises(StorageTimeoutError) as caught:
            await AsyncSessionErrorRepository(sessionerror_async_db).record(
                session_id=parent.id, **timeout_record
            )
        await locker.rollback()
    assert caught.value.category is ErrorCategory.TEMPORARY
    assert "lock timeout" in str(caught.value)
    stored = await errors_after_rollback(sessionerror_async_db, sessionerror_async_engine)
    assert stored == 0


async def test_unknown_database_is_storage_unavailable_without_password(
    sessionerror_async_engine: AsyncEngine, timeout_record: dict[str, Any]
) -> None:
    url = make_url(str(sessionerror_async_engine.url.render_as_string(hide_password=False)))
    wrong = url.set(database=f"missing_{uuid.uuid4().hex[:8]}", password=PASSWORD)
    error = await unavailable_on(wrong, timeout_record)
    assert PASSWORD not in str(error)
