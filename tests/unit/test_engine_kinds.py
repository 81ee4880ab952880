"""engines.kinds: the one answer to "is this SQLAlchemy object async?"."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import (
    AsyncSession,
    async_scoped_session,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from sessionerror.engines.kinds import async_kind, is_async_object


@pytest.mark.asyncio
async def test_async_objects_are_named() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    try:
        async with engine.connect() as connection:
            assert async_kind(connection) == "AsyncConnection"
        db = AsyncSession(engine)
        scoped = async_scoped_session(async_sessionmaker(engine), scopefunc=lambda: 1)
        assert async_kind(engine) == "AsyncEngine"
        assert async_kind(db) == "AsyncSession"
        assert async_kind(scoped) == "async_scoped_session"
        assert all(is_async_object(value) for value in (engine, db, scoped))
        await db.close()
    finally:
        await engine.dispose()


def test_subclasses_count_and_sync_objects_do_not() -> None:
    class TeamSession(AsyncSession):
        pass

    assert async_kind(TeamSession()) == "AsyncSession"
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as connection:
            for value in (engine, connection, Session(engine), "sqlite://", None):
                assert async_kind(value) == ""
                assert not is_async_object(value)
    finally:
        engine.dispose()


def test_a_look_alike_class_is_not_async() -> None:
    AsyncEngine = type("AsyncEngine", (), {})  # same name, not SQLAlchemy's
    assert not is_async_object(AsyncEngine())


def test_asking_imports_nothing() -> None:
    probe = (
        "import sys, sessionerror.engines.kinds as k; k.async_kind(object()); "
        "print(sorted(m for m in sys.modules if m.startswith('sqlalchemy')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
