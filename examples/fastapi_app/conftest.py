"""The whole recipe: each request gets its own AsyncSession on the test's rolled-back connection."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio
from app import app, get_db
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@pytest.fixture
def test_app(
    sessionerror_async_sessionmaker: async_sessionmaker[AsyncSession],
) -> Iterator[FastAPI]:
    """The app with ``get_db`` opening a fresh session per request on the test's connection.

    A fresh identity map per request reads what the database holds (ON DELETE SET NULL and
    CASCADE included); its ``commit()`` releases a SAVEPOINT; the test's outer transaction
    rolls everything back. Sharing ``sessionerror_async_db`` itself would serve stale rows.
    """

    async def test_db() -> AsyncIterator[AsyncSession]:
        async with sessionerror_async_sessionmaker() as db:
            yield db

    app.dependency_overrides[get_db] = test_db
    yield app
    app.dependency_overrides.clear()


@pytest_asyncio.fixture
async def client(test_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client calling the app in-process (no server, no lifespan)."""
    transport = httpx.ASGITransport(app=test_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
