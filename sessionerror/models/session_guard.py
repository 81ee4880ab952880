"""Refuse an AsyncSession (or anything else) where a sync ORM Session is needed.

A sync API that calls an ``AsyncSession`` method gets back an un-awaited coroutine, which is
truthy: ``has_blocking_errors`` would answer True for any session. These checks turn that into a
TypeError naming the async API to use. Whether an object is async is answered by
:mod:`sessionerror.engines.kinds` (which never imports ``sqlalchemy.ext.asyncio``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from sessionerror.engines.kinds import is_async_object

__all__ = ["require_sync_connection", "require_sync_session"]


def require_sync_session(db: Any, call: str, *, async_api: str) -> Session:
    """Return ``db`` if it is a sync ``Session``; else raise TypeError naming the fix.

    ``call`` names the refused API (``"SessionError.has_blocking_errors()"``); ``async_api`` is
    what to use with an AsyncSession instead.
    """
    if isinstance(db, Session):
        return db
    if is_async_object(db):
        raise TypeError(
            f"{call} got an {type(db).__name__}, which it cannot await (the result would be an "
            f"un-awaited coroutine); for async code use {async_api}"
        )
    raise TypeError(
        f"{call} needs a sqlalchemy.orm.Session, got {type(db).__name__}; pass the ORM session "
        f"your code uses (for an AsyncSession use {async_api})"
    )


def require_sync_connection(connection: Any, call: str, *, async_api: str) -> Connection:
    """Return ``connection`` if it is a sync ``Connection``; else raise TypeError naming the fix."""
    if isinstance(connection, Connection):
        return connection
    if is_async_object(connection):
        raise TypeError(
            f"{call} got an {type(connection).__name__}, which it cannot await; "
            f"for async code use {async_api}"
        )
    raise TypeError(
        f"{call} needs a sqlalchemy Connection, got {type(connection).__name__} "
        f"(e.g. `with engine.connect() as connection:`)"
    )
