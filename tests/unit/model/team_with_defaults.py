"""A team's schema whose error model has a column default (imported by tests and a subprocess).

Its own declarative Base, a parent with an extra NOT NULL column, and a nullable ``tenant``
column filled by a Python default: written through the kit's reference class instead, the row
would silently get NULL there.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from sessionerror import SessionErrorMixin


class DefaultsBase(DeclarativeBase):
    """The team's own declarative base."""


class TeamSession(DefaultsBase):
    """The team's parent of errors, with a NOT NULL column of its own."""

    __tablename__ = "sessions"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner: Mapped[str] = mapped_column(String(40))
    session_errors: Mapped[list[DefaultedError]] = relationship(
        back_populates="session", passive_deletes=True
    )


class TeamFile(DefaultsBase):
    """The team's uploaded files."""

    __tablename__ = "uploaded_files"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("sessions.id", ondelete="CASCADE")
    )


class TeamTicket(DefaultsBase):
    """The team's tickets."""

    __tablename__ = "tickets"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class DefaultedError(SessionErrorMixin, DefaultsBase):
    """The team's error model: the contract plus a column with a Python default."""

    sessionerror_session_model = "TeamSession"
    tenant: Mapped[str | None] = mapped_column(String(32), default="acme")
