"""A small FastAPI app that records workflow errors through sessionerror's async repository.

Run it: ``APP_DATABASE_URL=postgresql+asyncpg://user@host/db uvicorn app:app`` (default: a
SQLite file ``app.db`` through aiosqlite; the schema must exist, e.g. ``sessionerror check``'s
reference schema or your migrations). The tests in ``test_app.py`` override :func:`get_db` with
a session per request on the test's rolled-back connection (``conftest.py``), so they need no
server and leave no rows behind.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from sessionerror import (
    AsyncSessionErrorRepository,
    ErrorDataValidationError,
    SessionError,
    StorageError,
    UploadedFile,
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """One engine per app (not per module): created at start-up, disposed at shutdown."""
    engine = create_async_engine(os.environ.get("APP_DATABASE_URL", "sqlite+aiosqlite:///app.db"))
    # expire_on_commit=False: attributes stay readable after commit without a lazy load
    # (which AsyncSession cannot do: MissingGreenlet).
    app.state.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    yield
    await engine.dispose()


app = FastAPI(title="workflow errors", lifespan=lifespan)


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    """One AsyncSession per request (tests override this dependency)."""
    async with request.app.state.sessionmaker() as db:
        yield db


#: The request's AsyncSession, as a dependency.
DB = Annotated[AsyncSession, Depends(get_db)]


class ErrorIn(BaseModel):
    """What a workflow step reports."""

    category: str = Field(examples=["user_fixable"])
    severity: str = Field(examples=["blocking"])
    stage: str = Field(examples=["upload"])
    user_message: str
    recovery_actions: list[str]
    technical_details: dict[str, Any] = Field(default_factory=dict)
    error_code: str | None = None


@app.post("/sessions/{session_id}/errors", status_code=201)
async def record_error(session_id: uuid.UUID, body: ErrorIn, db: DB) -> dict[str, Any]:
    """Record one error (validated, secrets redacted) and commit it."""
    repository = AsyncSessionErrorRepository(db, model=SessionError)
    try:
        error = await repository.record(
            session_id=session_id,
            category=body.category,
            severity=body.severity,
            stage=body.stage,
            user_message=body.user_message,
            recovery_actions=body.recovery_actions,
            technical_details=body.technical_details,
            error_code=body.error_code,
        )
    except ErrorDataValidationError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    except StorageError as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from exc
    await db.commit()
    return dict(error.to_user_dict())


@app.get("/sessions/{session_id}/blocking")
async def blocking(session_id: uuid.UUID, db: DB) -> dict[str, Any]:
    """Does this session have a blocking error? (one EXISTS query)"""
    repository = AsyncSessionErrorRepository(db, model=SessionError)
    return {
        "session_id": str(session_id),
        "has_blocking_errors": await repository.has_blocking_errors(session_id),
    }


@app.get("/sessions/{session_id}/errors")
async def list_errors(session_id: uuid.UUID, db: DB) -> list[dict[str, Any]]:
    """The session's errors, oldest first, with the file each one concerns (if it still exists)."""
    errors = await db.scalars(
        select(SessionError)
        .where(SessionError.session_id == session_id)
        .order_by(SessionError.created_at, SessionError.id)
    )
    return [
        {**error.to_user_dict(), "related_file_id": _text(error.related_file_id)}
        for error in errors
    ]


@app.delete("/files/{file_id}", status_code=204)
async def delete_file(file_id: uuid.UUID, db: DB) -> None:
    """Delete an uploaded file; the database sets its errors' ``related_file_id`` to NULL."""
    await db.execute(delete(UploadedFile).where(UploadedFile.id == file_id))
    await db.commit()


def _text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)
