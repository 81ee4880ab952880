"""Bind an ORM session to the current context for the model's class-level queries.

``SessionError.find_by_category`` and ``has_blocking_errors`` keep the spec's signatures; they use
``db=`` when given, else the session bound here. The pytest plugin binds ``sessionerror_db`` for
each test, so tests need no wiring.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from sessionerror.models.context_slot import SessionSlot
from sessionerror.models.session_guard import require_sync_session

__all__ = ["bind_session", "bound_session", "class_query_session", "current_session"]

_slot: SessionSlot[Session] = SessionSlot(
    "sessionerror_bound_session",
    "no database session bound: pass db=<sqlalchemy Session>, or wrap the call in "
    "`with sessionerror.bind_session(db): ...` (in pytest, use the sessionerror_db fixture)",
)


@contextmanager
def bind_session(db: Session) -> Iterator[Session]:
    """Bind ``db`` for the duration of the ``with`` block (nesting restores the outer one)."""
    # -- an AsyncSession is refused naming the async binding (issue 10)
    require_sync_session(db, "bind_session()", async_api="sessionerror.bind_async_session(db)")
    with _slot.bind(db):
        yield db


def bound_session() -> Session | None:
    """Return the session bound to the current context, or None."""
    return _slot.get()


def current_session(db: Session | None = None) -> Session:
    """Return ``db`` if given, else the bound session; raise NoSessionBoundError if none."""
    return _slot.current(db)


def class_query_session(db: Session | None, method: str) -> Session:
    """The session a ``SessionError`` class-level query runs on: ``db`` or the bound one.

    An AsyncSession (passed or bound) is a TypeError naming the async API to use instead.
    """
    return require_sync_session(
        current_session(db),
        f"SessionError.{method}()",
        async_api=f"await AsyncSessionErrorRepository(db).{method}(...)",
    )
