"""The example app against a real database, once per backend (``-k sqlite`` / ``-m postgresql``).

The requests run in sessions of their own; the test reads the database with column queries,
which never answer from an identity map.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sessionerror import SessionError
from sessionerror.factories import SessionErrorFactory, WorkflowSessionFactory

ERROR = {
    "category": "user_fixable",
    "severity": "blocking",
    "stage": "upload",
    "user_message": "The file has no header row",
    "recovery_actions": ["Add a header row", "Upload the file again"],
    "technical_details": {"headers": {"Authorization": "Bearer s3cr3t-token"}},
}


@pytest.mark.asyncio
async def test_record_then_blocking(
    client: httpx.AsyncClient, sessionerror_async_db: AsyncSession
) -> None:
    session = await WorkflowSessionFactory.create_async()
    url = f"/sessions/{session.id}"
    assert (await client.get(f"{url}/blocking")).json()["has_blocking_errors"] is False

    response = await client.post(f"{url}/errors", json=ERROR)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["is_blocking"] is True
    assert "technical_details" not in body
    assert (await client.get(f"{url}/blocking")).json()["has_blocking_errors"] is True
    stored = await sessionerror_async_db.scalar(
        select(SessionError.technical_details).where(SessionError.session_id == session.id)
    )
    assert stored is not None
    assert "s3cr3t-token" not in str(stored)


@pytest.mark.asyncio
async def test_warning_only_is_not_blocking(client: httpx.AsyncClient) -> None:
    error = await SessionErrorFactory.create_async(warning=True)
    response = await client.get(f"/sessions/{error.session_id}/blocking")
    assert response.json()["has_blocking_errors"] is False


@pytest.mark.asyncio
async def test_invalid_error_is_refused(client: httpx.AsyncClient) -> None:
    session = await WorkflowSessionFactory.create_async()
    response = await client.post(
        f"/sessions/{session.id}/errors", json={**ERROR, "user_message": "  "}
    )
    assert response.status_code == 422
    assert "user-friendly message" in response.json()["detail"]


@pytest.mark.asyncio
async def test_deleted_file_is_unlinked_by_the_database_for_the_next_request(
    client: httpx.AsyncClient, sessionerror_async_db: AsyncSession
) -> None:
    error = await SessionErrorFactory.create_async(with_file=True)
    url = f"/sessions/{error.session_id}/errors"
    listed = (await client.get(url)).json()  # loads the error, linked to its file
    assert [item["related_file_id"] for item in listed] == [str(error.related_file_id)]

    response = await client.delete(f"/files/{error.related_file_id}")

    assert response.status_code == 204
    # The next request reads the row as the database holds it now: kept, link set to NULL.
    listed = (await client.get(url)).json()
    assert [(item["id"], item["related_file_id"]) for item in listed] == [(str(error.id), None)]
    kept = select(func.count()).where(
        SessionError.id == error.id, SessionError.related_file_id.is_(None)
    )
    assert await sessionerror_async_db.scalar(kept) == 1
