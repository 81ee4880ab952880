import uuid

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from sessionerror import SessionError, SessionErrorMixin
from sessionerror.conformance import assert_conforms, run_conformance


class AppBase(DeclarativeBase):  # your own Base, parents and error class
    pass


class AppSession(AppBase):
    __tablename__ = "sessions"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    jira_user_id: Mapped[str] = mapped_column(String(64))  # NOT NULL: filled by type
    session_errors: Mapped[list["AppError"]] = relationship(
        back_populates="session", passive_deletes=True
    )


class UploadedFile(AppBase):
    __tablename__ = "uploaded_files"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))


class Ticket(AppBase):
    __tablename__ = "tickets"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))


class AppError(SessionErrorMixin, AppBase):
    sessionerror_session_model = "AppSession"


def test_our_class_honours_the_specification():
    assert_conforms(AppError)  # a throwaway SQLite file with AppBase's schema


def test_on_the_test_database(sessionerror_engine):
    # on a database: inside one transaction, rolled back (here the kit's reference schema)
    report = run_conformance(SessionError, db=sessionerror_engine)
    assert report.ok, report.format()
