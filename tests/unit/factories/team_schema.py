"""A team's own schema, as a team adopting the kit keeps it (imported by the factory tests).

Its own declarative Base; ``sessions`` with NOT NULL columns of every kind the kit fills by type
(``jira_user_id`` and more) and no ``name``; ``tickets`` with NOT NULL ``title`` and ``summary``
and no relationship to the session; ``uploaded_files`` without ``filename``; the error model is
the kit's mixin on the team's Base.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Enum, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from sessionerror import SessionErrorMixin


class TeamBase(DeclarativeBase):
    """The team's own declarative base."""


class Plan(enum.Enum):
    """The team's own enum."""

    FREE = "free"
    PRO = "pro"


class TeamSession(TeamBase):
    """The team's ``sessions``: NOT NULL columns the kit does not know, of every common type."""

    __tablename__ = "sessions"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    jira_user_id: Mapped[str] = mapped_column(String(24), unique=True)
    seats: Mapped[int] = mapped_column(Integer)
    archived: Mapped[bool] = mapped_column(Boolean)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    plan: Mapped[Plan] = mapped_column(Enum(Plan, name="team_plan"))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    session_errors: Mapped[list[TeamError]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True
    )


class TeamFile(TeamBase):
    """The team's uploaded files: a relationship to the session, no ``filename``."""

    __tablename__ = "uploaded_files"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    storage_key: Mapped[str] = mapped_column(String(64))
    owner: Mapped[TeamSession] = relationship()


class TeamTicket(TeamBase):
    """The team's tickets: NOT NULL ``title`` and ``summary``, only a foreign-key column."""

    __tablename__ = "tickets"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    priority: Mapped[int] = mapped_column(Integer)


class TeamError(SessionErrorMixin, TeamBase):
    """The team's error model: the kit's mixin, plus a NOT NULL tenant of its own."""

    sessionerror_session_model = "TeamSession"
    tenant: Mapped[str] = mapped_column(String(16))
