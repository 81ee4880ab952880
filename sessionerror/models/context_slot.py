"""A context-local slot for one session: what the sync and the async bindings share.

:mod:`sessionerror.models.binding` keeps a ``Session`` in one,
:mod:`sessionerror.models.binding_async` an ``AsyncSession``; each checks the session's kind
before binding it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Generic, TypeVar

from sessionerror.errors import NoSessionBoundError

__all__ = ["SessionSlot"]

S = TypeVar("S")


class SessionSlot(Generic[S]):
    """A ContextVar holding the bound session; ``missing`` is the NoSessionBoundError text."""

    def __init__(self, name: str, missing: str) -> None:
        self._var: ContextVar[S | None] = ContextVar(name, default=None)
        self._missing = missing

    @contextmanager
    def bind(self, db: S) -> Iterator[S]:
        """Bind ``db`` for the duration of the ``with`` block (nesting restores the outer one)."""
        token = self._var.set(db)
        try:
            yield db
        finally:
            self._var.reset(token)

    def get(self) -> S | None:
        """The session bound to the current context, or None."""
        return self._var.get()

    def current(self, db: S | None = None) -> S:
        """Return ``db`` if given, else the bound session; raise NoSessionBoundError if none."""
        if db is not None:
            return db
        session = self._var.get()
        if session is None:
            raise NoSessionBoundError(self._missing)
        return session
