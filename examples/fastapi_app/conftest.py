"""Tests of the example app: every request runs in the test's rolled-back AsyncSession."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio
from app import app, get_db
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession


@pytest.fixture
def test_app(sessionerror_async_db: AsyncSession) -> Iterator[FastAPI]:
    """The app with ``get_db`` answering the test's ``sessionerror_async_db``."""

    async def test_db() -> AsyncIterator[AsyncSession]:
        yield sessionerror_async_db

    app.dependency_overrides[get_db] = test_db
    yield app
    app.dependency_overrides.clear()


@pytest_asyncio.fixture
async def client(test_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client calling the app in-process (no server, no lifespan)."""
    transport = httpx.ASGITransport(app=test_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
