"""``await Factory.create_async(...)`` for the kit's factories, through the bound AsyncSession.

factory-boy is synchronous; ``AsyncSession.run_sync`` hands a sync ``Session`` (sharing the
AsyncSession's transaction) to a function inside SQLAlchemy's greenlet, where the ordinary
``create()`` runs unchanged: traits, parents (SubFactory) and sequences work as in the sync API,
and rows are flushed, never committed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from sessionerror.models.binding import bind_session
from sessionerror.models.binding_async import current_async_session

__all__ = ["AsyncFactoryMixin"]


def _create_in(db: Session, factory: Any, size: int | None, kwargs: dict[str, Any]) -> Any:
    with bind_session(db):
        if size is None:
            return factory.create(**kwargs)
        return factory.create_batch(size, **kwargs)


class AsyncFactoryMixin:
    """Adds ``create_async`` / ``create_batch_async`` to a factory whose session is looked up
    through :func:`~sessionerror.bind_session` (the kit's ``SessionErrorKitFactory``)."""

    @classmethod
    async def create_async(cls, **kwargs: Any) -> Any:
        """Create (and flush) one object in the bound AsyncSession; same arguments as
        ``create()``. In pytest, ``sessionerror_async_db`` is bound for every test."""
        db = current_async_session()
        return await db.run_sync(_create_in, cls, None, kwargs)

    @classmethod
    async def create_batch_async(cls, size: int, **kwargs: Any) -> list[Any]:
        """Create (and flush) ``size`` objects in the bound AsyncSession (one greenlet hop)."""
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError(f"size must be a non-negative int, got {size!r}")
        db = current_async_session()
        created: list[Any] = await db.run_sync(_create_in, cls, size, kwargs)
        return created
