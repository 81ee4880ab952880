import pytest

from sessionerror import AsyncSessionErrorRepository
from sessionerror.factories import SessionErrorFactory


@pytest.mark.asyncio
async def test_blocking(sessionerror_async_db):  # [sqlite] and [postgresql], like the sync fixtures
    error = await SessionErrorFactory.create_async(blocking=True, with_file=True)
    await sessionerror_async_db.commit()  # allowed: rolled back after the test
    repo = AsyncSessionErrorRepository(sessionerror_async_db)
    assert await repo.has_blocking_errors(error.session_id)
