"""Bind an AsyncSession to the current context, for the async factories and helpers.

The async counterpart of :mod:`sessionerror.models.binding`. ``sessionerror_async_db`` binds its
session for each test; elsewhere wrap the calls in ``with bind_async_session(db): ...``.
``sqlalchemy.ext.asyncio`` is not imported here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sessionerror.engines.kinds import async_kind
from sessionerror.models.context_slot import SessionSlot

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["bind_async_session", "current_async_session", "require_async_session"]

_slot: SessionSlot[AsyncSession] = SessionSlot(
    "sessionerror_bound_async_session",
    "no AsyncSession bound: in pytest use the sessionerror_async_db fixture; elsewhere "
    "wrap the calls in `with sessionerror.bind_async_session(db): ...`",
)


def require_async_session(db: Any, call: str, *, sync_api: str) -> AsyncSession:
    """Return ``db`` if it is an AsyncSession; else raise TypeError naming ``sync_api``."""
    if async_kind(db) not in ("", "AsyncConnection"):
        return db  # type: ignore[no-any-return]
    raise TypeError(
        f"{call} needs a sqlalchemy.ext.asyncio.AsyncSession, got {type(db).__name__}; "
        f"for a sync Session use {sync_api}"
    )


@contextmanager
def bind_async_session(db: AsyncSession) -> Iterator[AsyncSession]:
    """Bind ``db`` for the duration of the ``with`` block (nesting restores the outer one)."""
    require_async_session(db, "bind_async_session()", sync_api="sessionerror.bind_session(db)")
    with _slot.bind(db):
        yield db


def current_async_session(db: AsyncSession | None = None) -> AsyncSession:
    """Return ``db`` if given, else the bound AsyncSession; raise NoSessionBoundError if none."""
    return _slot.current(db)
