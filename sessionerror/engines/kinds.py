"""Is this SQLAlchemy object async? The one answer, for every part that must refuse or route it.

Looked up by class name along the MRO (subclasses count), never by ``isinstance``:
``sqlalchemy.ext.asyncio`` is never imported here, so the question costs nothing and works
without the ``async`` extra (no async object can exist without it anyway).
"""

from __future__ import annotations

__all__ = ["ASYNC_KINDS", "async_kind", "is_async_object"]

#: SQLAlchemy's async classes (``sqlalchemy.ext.asyncio``), by the name :func:`async_kind` gives.
ASYNC_KINDS = frozenset({"AsyncSession", "async_scoped_session", "AsyncConnection", "AsyncEngine"})
_ASYNC_MODULE = "sqlalchemy.ext.asyncio"


def async_kind(value: object) -> str:
    """``"AsyncEngine"``, ``"AsyncConnection"``, ``"AsyncSession"`` or ``"async_scoped_session"``
    for SQLAlchemy's async objects (and their subclasses), else ``""``."""
    for cls in type(value).__mro__:
        if cls.__name__ in ASYNC_KINDS and cls.__module__.startswith(_ASYNC_MODULE):
            return cls.__name__
    return ""


def is_async_object(value: object) -> bool:
    """True for SQLAlchemy's AsyncSession / AsyncConnection / AsyncEngine (and subclasses)."""
    return async_kind(value) != ""
