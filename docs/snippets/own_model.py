import uuid

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from sessionerror import SessionErrorMixin, SessionErrorRepository, assert_contract
from sessionerror.engines.sqlite import create_sqlite_engine


class AppBase(DeclarativeBase):  # your own Base
    pass


class AppSession(AppBase):  # your own parents, with columns the kit does not know
    __tablename__ = "sessions"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    jira_user_id: Mapped[str] = mapped_column(String(64))  # NOT NULL
    session_errors: Mapped[list["AppError"]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True
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


class AppError(SessionErrorMixin, AppBase):  # the contract's columns, checks and methods
    sessionerror_session_model = "AppSession"


engine = create_sqlite_engine(":memory:")
AppBase.metadata.create_all(engine)
assert_contract(engine)  # your schema honours the contract

with Session(engine) as db:
    owner = AppSession(jira_user_id="jira-42")
    db.add(owner)
    db.flush()
    error = SessionErrorRepository(db, model=AppError).record(
        session_id=owner.id,
        category="temporary",
        severity="warning",
        stage="jira_export",
        user_message="Jira did not answer; we will retry",
        recovery_actions=["Wait a minute"],
    )
    assert isinstance(error, AppError)
    assert AppError.has_blocking_errors(owner.id, db=db) is False
