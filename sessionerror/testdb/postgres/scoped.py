"""The context-manager protocol of the PostgreSQL helpers: ``with`` acquires, leaving releases.

:class:`~sessionerror.testdb.postgres.janitor.DatabaseJanitor` (create / drop a database) and
:class:`~sessionerror.testdb.postgres.provider.PostgresProvider` (start / stop a server) share it.
"""

from __future__ import annotations

from types import TracebackType
from typing import Generic, TypeVar

__all__ = ["Scoped"]

T = TypeVar("T")


class Scoped(Generic[T]):
    """``__enter__`` returns :meth:`_acquire`; ``__exit__`` always calls :meth:`_release`."""

    def _acquire(self) -> T:
        raise NotImplementedError

    def _release(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> T:
        return self._acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._release()
