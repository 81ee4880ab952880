"""Internal: run-wide async state on ``config.stash``, the per-event-loop AsyncEngine registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sessionerror.testdb.isolation_async import AsyncEngineRegistry

__all__ = ["async_registry", "existing_async_registry"]

_registry_key = pytest.StashKey["AsyncEngineRegistry"]()


def async_registry(config: pytest.Config) -> AsyncEngineRegistry:
    """This run's AsyncEngine registry, created on first use and closed when the run ends."""
    registry = config.stash.get(_registry_key, None)
    if registry is None:
        from sessionerror.testdb.isolation_async import AsyncEngineRegistry

        registry = AsyncEngineRegistry()
        config.stash[_registry_key] = registry
        config.add_cleanup(registry.close)
    return registry


def existing_async_registry(config: pytest.Config) -> AsyncEngineRegistry | None:
    """The registry if an async fixture has run in this run, else None (nothing imported)."""
    return config.stash.get(_registry_key, None)
