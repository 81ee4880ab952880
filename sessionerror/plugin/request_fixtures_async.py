"""Internal: the per-request session factory for an async web app's tests (FastAPI, Starlette).

Kept apart from :mod:`sessionerror.plugin.database_fixtures_async`: it only builds on their session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

__all__ = ["sessionerror_async_sessionmaker"]


@pytest.fixture
def sessionerror_async_sessionmaker(
    sessionerror_async_db: AsyncSession,
) -> async_sessionmaker[AsyncSession]:
    """Sessions for the app's requests on the test's connection and transaction.

    Each request gets its own ``AsyncSession`` (empty identity map: it reads what the database
    holds, SET NULL / CASCADE included); commits release SAVEPOINTs and everything is rolled
    back after the test. With ``committed=True`` the sessions commit for real on the engine.
    """
    from sessionerror.testdb.request_sessions_async import request_sessionmaker

    bind = sessionerror_async_db.bind
    if bind is None:  # pragma: no cover - the kit's sessions are always bound
        pytest.fail("sessionerror_async_db has no bind", pytrace=False)
    return request_sessionmaker(bind)
