"""A session per request on the test's database: what an async web app's tests hand the app.

One ``AsyncSession`` shared by the test and every request keeps one identity map: a row the
database itself changed (ON DELETE SET NULL / CASCADE, triggers) is then read back as the
session last saw it. :func:`request_sessionmaker` makes a fresh session per request on the
test's own ``AsyncConnection`` instead: each request starts with an empty identity map, its
``await db.commit()`` releases a SAVEPOINT, and the test's outer transaction still rolls
everything back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sessionerror.engines.kinds import async_kind

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import (
        AsyncConnection,
        AsyncEngine,
        AsyncSession,
        async_sessionmaker,
    )

__all__ = ["request_sessionmaker"]


def request_sessionmaker(bind: AsyncConnection | AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """An ``async_sessionmaker`` (``expire_on_commit=False``) for the app's requests in a test.

    On an ``AsyncConnection`` inside a transaction (rollback mode) each session joins it with
    ``join_transaction_mode="create_savepoint"``; on an ``AsyncEngine`` (committed mode) the
    sessions are plain ones whose commits are real. Requests must run one at a time on a
    connection (one asyncpg connection runs one statement at a time).
    """
    from sqlalchemy.ext.asyncio import async_sessionmaker

    kind = async_kind(bind)
    if kind not in ("AsyncConnection", "AsyncEngine"):
        raise TypeError(
            f"request_sessionmaker() needs an AsyncConnection or AsyncEngine, got "
            f"{type(bind).__name__}; "
            "pass sessionerror_async_db.bind (or use the sessionerror_async_sessionmaker fixture)"
        )
    options: dict[str, Any] = {"expire_on_commit": False}
    if kind == "AsyncConnection":
        options["join_transaction_mode"] = "create_savepoint"
    return async_sessionmaker(bind=bind, **options)
