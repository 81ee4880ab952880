import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

import sessionerror


class AppBase(DeclarativeBase):  # your own Base
    pass


class AppSession(AppBase):  # no `name`; a NOT NULL column the kit does not know
    __tablename__ = "sessions"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    jira_user_id: Mapped[str] = mapped_column(String(64))
    session_errors: Mapped[list["AppError"]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True
    )


class AppFile(AppBase):
    __tablename__ = "uploaded_files"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))


class AppTicket(AppBase):  # NOT NULL title and summary
    __tablename__ = "tickets"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))


class AppError(sessionerror.SessionErrorMixin, AppBase):
    sessionerror_session_model = "AppSession"
