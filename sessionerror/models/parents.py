"""The parent tables of ``session_errors``: workflow sessions, uploaded files and tickets."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sessionerror.models.base import Base, created_at_column, updated_at_column
from sessionerror.models.contract import SESSIONS_TABLE, TICKETS_TABLE, UPLOADED_FILES_TABLE
from sessionerror.models.enums import OperationStage
from sessionerror.models.types import GUID

if TYPE_CHECKING:
    from sessionerror.models.session_error import SessionError

__all__ = ["Ticket", "UploadedFile", "WorkflowSession"]

_SESSION_ID = f"{SESSIONS_TABLE}.id"


class WorkflowSession(Base):
    """A workflow session (table ``sessions``); named so it is not confused with ORM Session."""

    __tablename__ = SESSIONS_TABLE

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid.uuid4)
    #: Human-readable name, e.g. the uploaded batch's title.
    name: Mapped[str] = mapped_column(String(200))
    #: Current workflow stage: upload, processing, review or jira_export.
    current_stage: Mapped[str] = mapped_column(String(32), default=OperationStage.UPLOAD.value)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    # The database deletes children (ON DELETE CASCADE); the ORM never NULLs their FKs.
    uploaded_files: Mapped[list[UploadedFile]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True
    )
    tickets: Mapped[list[Ticket]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True
    )
    session_errors: Mapped[list[SessionError]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<WorkflowSession {self.id} {self.name!r}>"


class UploadedFile(Base):
    """A file uploaded into a session (table ``uploaded_files``)."""

    __tablename__ = UPLOADED_FILES_TABLE

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey(_SESSION_ID, ondelete="CASCADE"), index=True
    )
    #: Original file name as uploaded.
    filename: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = created_at_column()

    session: Mapped[WorkflowSession] = relationship(back_populates="uploaded_files")

    def __repr__(self) -> str:
        return f"<UploadedFile {self.id} {self.filename!r}>"


class Ticket(Base):
    """A ticket drafted in review and exported to Jira (table ``tickets``)."""

    __tablename__ = TICKETS_TABLE

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey(_SESSION_ID, ondelete="CASCADE"), index=True
    )
    #: One-line summary of the ticket.
    summary: Mapped[str] = mapped_column(String(500))
    #: Jira issue key once exported (e.g. ``OPS-42``), else NULL.
    jira_key: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    session: Mapped[WorkflowSession] = relationship(back_populates="tickets")

    def __repr__(self) -> str:
        return f"<Ticket {self.id} {self.summary!r}>"
