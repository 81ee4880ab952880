"""Query-count assertions count the engine the test used and never pass on another engine's
statements (before: ``assert_max_queries(0)`` passed after five statements on the async engine)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from sessionerror import WorkflowSession
from sessionerror.testdb.querycount import QueryCountError


@pytest.fixture
def other_engine(tmp_path: Any) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    yield engine
    engine.dispose()


@pytest.mark.asyncio
async def test_async_statements_are_counted(
    sessionerror_async_db: AsyncSession, sessionerror_assert_max_queries: Any
) -> None:
    expected = "Expected at most 0 queries, 5 were executed"
    with pytest.raises(QueryCountError, match=expected), sessionerror_assert_max_queries(0):
        for _ in range(5):
            await sessionerror_async_db.scalar(select(func.count(WorkflowSession.id)))


def test_statements_on_another_engine_fail_instead_of_passing(
    sessionerror_db: Any, sessionerror_assert_max_queries: Any, other_engine: Engine
) -> None:
    with (
        pytest.raises(QueryCountError) as caught,
        sessionerror_assert_max_queries(0),
        other_engine.connect() as connection,
    ):
        for _ in range(5):
            connection.execute(text("select 1"))
    message = str(caught.value)
    assert "No statement ran on the watched engine(s)" in message
    assert "5 on sqlite:///" in message
    assert "engine=" in message


def test_engine_argument_watches_that_engine(
    sessionerror_db: Any, sessionerror_assert_num_queries: Any, other_engine: Engine
) -> None:
    with sessionerror_assert_num_queries(2, engine=other_engine) as statements:
        with other_engine.connect() as connection:
            connection.execute(text("select 1"))
            connection.execute(text("select 2"))
        sessionerror_db.execute(text("select 3"))  # not the watched engine: not counted
    assert statements == ["select 1", "select 2"]
    with (
        pytest.raises(QueryCountError, match="Expected exactly 1 queries, 2 were executed"),
        sessionerror_assert_num_queries(1, engine=other_engine),
        other_engine.connect() as connection,
    ):
        connection.execute(text("select 1"))
        connection.execute(text("select 2"))


@pytest.mark.asyncio
async def test_engine_argument_takes_an_async_engine(
    sessionerror_db: Any, sessionerror_assert_num_queries: Any, tmp_path: Any
) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    try:
        with sessionerror_assert_num_queries(1, engine=engine):
            async with engine.connect() as connection:
                await connection.execute(text("select 1"))
    finally:
        await engine.dispose()


def test_sync_counting_is_unchanged(
    sessionerror_db: Any, sessionerror_assert_num_queries: Any
) -> None:
    with sessionerror_assert_num_queries(1) as statements:
        sessionerror_db.execute(text("select 1"))
    assert statements == ["select 1"]
