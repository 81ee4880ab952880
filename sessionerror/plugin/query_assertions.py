"""Internal: the callable behind ``sessionerror_assert_max_queries`` / ``..._num_queries``.

Annotate with :class:`QueryAssertion` from :mod:`sessionerror.testing`.

It watches the current backend's sync engine and every AsyncEngine the async fixtures made for
it, or the ``engine=`` given; see :mod:`sessionerror.testdb.querywatch`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from sessionerror.plugin.state_async import existing_async_registry

if TYPE_CHECKING:
    from sessionerror.testdb.provisioning import ProvidedDatabase

__all__ = ["QueryAssertion", "make_query_assertion"]


class QueryAssertion(Protocol):
    """``sessionerror_assert_max_queries`` / ``..._num_queries``: ``with fixture(n): ...``."""

    def __call__(self, limit: int, *, engine: Any = None) -> AbstractContextManager[list[str]]:
        """A block that fails (listing the statements) when the count does not fit ``limit``.

        ``engine`` (an Engine or AsyncEngine) watches that engine only; by default the current
        backend's sync engine and the async fixtures' engines on the same database.
        """
        ...


def make_query_assertion(
    config: pytest.Config, database: ProvidedDatabase, *, exact: bool
) -> QueryAssertion:
    """Build the assertion callable for one test."""
    from sessionerror.testdb.querywatch import as_sync_engine, watch_queries

    def assertion(limit: int, *, engine: Any = None) -> AbstractContextManager[list[str]]:
        if engine is not None:
            watched = [as_sync_engine(engine)]
        else:
            watched = [database.engine]
            registry = existing_async_registry(config)
            if registry is not None:
                watched += [
                    async_engine.sync_engine
                    for async_engine in registry.engines(database.backend)
                    if async_engine.url.database == database.engine.url.database
                ]
        return watch_queries(limit, watched=watched, exact=exact)

    return assertion
