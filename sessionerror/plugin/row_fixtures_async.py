"""Internal: the async twins of :mod:`sessionerror.plugin.row_fixtures`.

``async_<model>`` creates one row with the factory's ``create_async()`` in
``sessionerror_async_db`` (pytest-asyncio fixtures, on the async fixtures' event loop).
factory-boy is imported inside the fixture bodies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sessionerror.plugin.database_fixtures_async import asyncio_fixture
from sessionerror.plugin.row_fixtures import model_factories

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["async_session_error", "async_workflow_session"]


@asyncio_fixture
async def async_workflow_session(sessionerror_async_db: AsyncSession) -> Any:
    """One workflow session (of the ``sessionerror_model``'s parents) flushed into
    ``sessionerror_async_db``."""
    return await model_factories().session.create_async()


@asyncio_fixture
async def async_session_error(async_workflow_session: Any) -> Any:
    """One (warning, user-fixable, upload) error of ``async_workflow_session``."""
    return await model_factories().session_error.create_async(
        session=async_workflow_session, user_fixable=True, upload=True
    )
