import asyncio
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, create_engine
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

import sessionerror
from sessionerror.factories import factories_for


class Base(DeclarativeBase):  # your own Base
    pass


class JiraSession(Base):  # no `name`; NOT NULL columns the kit does not know
    __tablename__ = "sessions"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    jira_user_id: Mapped[str] = mapped_column(String(64))
    seats: Mapped[int]
    started_at: Mapped[datetime]
    session_errors: Mapped[list["JiraError"]] = relationship(back_populates="session")


class Attachment(Base):  # no `filename`
    __tablename__ = "uploaded_files"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id"))


class JiraTicket(Base):  # NOT NULL title and summary
    __tablename__ = "tickets"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id"))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))


class JiraError(sessionerror.SessionErrorMixin, Base):
    sessionerror_session_model = "JiraSession"


factories = factories_for(JiraError)  # built once per model, then cached
ErrorFactory = factories.session_error

engine = create_engine("sqlite:///team.db")
Base.metadata.create_all(engine)
with Session(engine) as db, sessionerror.bind_session(db):
    error = ErrorFactory(blocking=True, jira_export=True, with_ticket=True)
    assert isinstance(error, JiraError) and isinstance(error.session, JiraSession)
    assert error.session.jira_user_id and error.related_ticket_id  # filled by type, linked
    ErrorFactory.create_batch(3, session=error.session, with_file=True)
    db.commit()


async def main() -> None:
    async_engine = create_async_engine("sqlite+aiosqlite:///team.db")
    async with AsyncSession(async_engine) as db:
        with sessionerror.bind_async_session(db):
            errors = await ErrorFactory.create_batch_async(2, temporary=True)
            assert all(isinstance(e, JiraError) for e in errors)
            await db.commit()
    await async_engine.dispose()


asyncio.run(main())

# Declare what the kit cannot fill (or override what it fills), per table.column: a value,
# a no-argument callable or a factory-boy declaration. Other values rebuild the factories.
factories = factories_for(JiraError, values={"sessions.jira_user_id": lambda: "svc-export"})
with Session(engine) as db, sessionerror.bind_session(db):
    assert factories.session_error().session.jira_user_id == "svc-export"
