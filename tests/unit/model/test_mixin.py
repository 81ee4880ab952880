"""A team's own models with SessionErrorMixin, in a separate database, honour the contract."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import datetime

import pytest
from sqlalchemy import Engine, ForeignKey, String, delete, func, inspect, select, text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from sessionerror.errors import ErrorDataValidationError
from sessionerror.models import SessionErrorMixin
from sessionerror.models.enums import ErrorCategory
from sessionerror.models.types import GUID, UTCDateTime, utcnow
from sessionerror.testing import sessionerror_db_factory, sessionerror_engine_factory

from .conftest import SPEC_COLUMNS


class TeamBase(DeclarativeBase):
    pass


class Session_(TeamBase):  # a team's own naming
    __tablename__ = "sessions"
    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    session_errors: Mapped[list[TeamError]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True
    )


class File(TeamBase):
    __tablename__ = "uploaded_files"
    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("sessions.id", ondelete="CASCADE")
    )


class Ticket(TeamBase):
    __tablename__ = "tickets"
    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("sessions.id", ondelete="CASCADE")
    )


class TeamError(SessionErrorMixin, TeamBase):
    sessionerror_session_model = "Session_"


# One engine per backend, chosen per test. A single
# ``sessionerror_engine_factory(metadata=...)`` (backend taken from the current test) is
# session-scoped but looks the backend up with getfixturevalue, so pytest caches the FIRST
# backend's engine and hands it to the PostgreSQL tests as well (they then run on SQLite).
team_engine_sqlite = sessionerror_engine_factory(metadata=TeamBase.metadata, backend="sqlite")
team_engine_postgresql = sessionerror_engine_factory(
    metadata=TeamBase.metadata, backend="postgresql"
)


@pytest.fixture
def team_engine(request: pytest.FixtureRequest, sessionerror_backend: str) -> Engine:
    engine: Engine = request.getfixturevalue(f"team_engine_{sessionerror_backend}")
    return engine


team_db = sessionerror_db_factory(engine="team_engine")


def _fields(session_id: uuid.UUID, **overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "session_id": session_id,
        "error_category": "user_fixable",
        "severity": "blocking",
        "operation_stage": "review",
        "user_message": "Ticket summary is empty",
        "recovery_actions": {"actions": ["Write a summary"]},
        "technical_details": {"Authorization": "Bearer abc"},
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def team_parents(team_db: Session, sessionerror_backend: str) -> tuple[Session_, File, Ticket]:
    # sessionerror_backend is named here so the plugin parametrises the tests over backends:
    # the factory's fixtures reach it only through getfixturevalue, which pytest cannot see.
    owner = Session_(title="team")
    team_db.add(owner)
    team_db.flush()
    file, ticket = File(session_id=owner.id), Ticket(session_id=owner.id)
    team_db.add_all([file, ticket])
    team_db.flush()
    return owner, file, ticket


def test_team_database_is_separate_and_on_the_current_backend(
    team_engine: Engine, sessionerror_engine: Engine, sessionerror_backend: str
) -> None:
    assert team_engine.dialect.name == sessionerror_backend
    assert team_engine.url != sessionerror_engine.url
    assert set(inspect(team_engine).get_table_names()) == {
        "sessions",
        "uploaded_files",
        "tickets",
        "session_errors",
    }


def test_team_schema_matches_the_contract(team_engine: Engine, sessionerror_backend: str) -> None:
    inspector = inspect(team_engine)
    columns = {c["name"]: c for c in inspector.get_columns("session_errors")}
    assert list(columns) == SPEC_COLUMNS
    assert {n for n, c in columns.items() if c["nullable"]} == {
        "related_file_id",
        "related_ticket_id",
        "error_code",
    }
    assert {i["name"] for i in inspector.get_indexes("session_errors")} == {
        "idx_session_errors_session_id",
        "idx_session_errors_category",
        "idx_session_errors_severity",
    }
    rules = {
        fk["constrained_columns"][0]: (fk["referred_table"], fk["options"].get("ondelete"))
        for fk in inspector.get_foreign_keys("session_errors")
    }
    assert rules == {
        "session_id": ("sessions", "CASCADE"),
        "related_file_id": ("uploaded_files", "SET NULL"),
        "related_ticket_id": ("tickets", "SET NULL"),
    }
    if sessionerror_backend == "postgresql":
        with team_engine.connect() as connection:
            labels = connection.execute(
                text(
                    "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
                    "WHERE t.typname = 'error_category' ORDER BY e.enumsortorder"
                )
            ).scalars()
            assert list(labels) == ["user_fixable", "admin_required", "temporary"]


def test_team_model_validates_and_behaves(
    team_db: Session, team_parents: tuple[Session_, File, Ticket]
) -> None:
    owner, file, ticket = team_parents
    with pytest.raises(ErrorDataValidationError, match="user-friendly message"):
        TeamError(**_fields(owner.id, user_message="  "))
    with pytest.raises(ErrorDataValidationError, match="Invalid recovery actions format"):
        TeamError(**_fields(owner.id, recovery_actions={"steps": []}))
    error = TeamError(**_fields(owner.id, related_file_id=file.id, related_ticket_id=ticket.id))
    team_db.add(error)
    team_db.flush()
    team_db.expire_all()
    assert error.is_blocking() is True
    assert error.is_user_fixable is True
    assert error.requires_admin is False
    assert error.get_recovery_action_list() == ["Write a summary"]
    assert error.technical_details == {"Authorization": "[REDACTED]"}
    assert error.session.title == "team"
    assert [e.id for e in owner.session_errors] == [error.id]
    assert 0 <= error.age_minutes < 1
    assert "technical_details" not in error.to_user_dict()
    # class-level queries use the bound team session
    assert TeamError.has_blocking_errors(owner.id) is True
    assert [e.id for e in TeamError.find_by_category(owner.id, ErrorCategory.USER_FIXABLE)] == [
        error.id
    ]
    assert TeamError.find_by_category(owner.id, "temporary", db=team_db) == []


def test_team_database_checks_and_delete_rules(
    team_db: Session, team_parents: tuple[Session_, File, Ticket], sessionerror_backend: str
) -> None:
    owner, file, ticket = team_parents
    owner_id = owner.id
    error = TeamError(**_fields(owner.id, related_file_id=file.id, related_ticket_id=ticket.id))
    team_db.add(error)
    team_db.flush()
    raw = (lambda v: v.hex) if sessionerror_backend == "sqlite" else str
    with pytest.raises((IntegrityError, DataError)), team_db.begin_nested():
        team_db.execute(
            text(
                "INSERT INTO session_errors (id, session_id, error_category, severity, "
                "operation_stage, user_message, recovery_actions, technical_details, created_at) "
                "VALUES (:id, :sid, 'user_fixable', 'blocking', 'review', ' ', "
                "'{\"actions\": []}', '{}', CURRENT_TIMESTAMP)"
            ),
            {"id": raw(uuid.uuid4()), "sid": raw(owner.id)},
        )
    team_db.execute(delete(File).where(File.id == file.id))
    team_db.execute(text("DELETE FROM tickets WHERE id = :id"), {"id": raw(ticket.id)})
    team_db.expire_all()
    assert (error.related_file_id, error.related_ticket_id) == (None, None)
    team_db.delete(owner)
    team_db.flush()
    team_db.expire_all()
    count = team_db.scalar(
        select(func.count()).select_from(TeamError).where(TeamError.session_id == owner_id)
    )
    assert count == 0


#: A team's process that imports the mixin from its own module and never the reference model:
#: its own Base, a parent with an extra NOT NULL column, a password put into the JSON in place.
_ONLY_THE_MIXIN = """
import json, sys, uuid
from datetime import UTC, datetime
from sqlalchemy import DateTime, String, Uuid, create_engine, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from sessionerror.models.mixin import SessionErrorMixin

class Base(DeclarativeBase):
    pass

class Owner(Base):
    __tablename__ = "sessions"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(UTC)
    )
    session_errors: Mapped[list["OnlyMixinError"]] = relationship(back_populates="session")

class File(Base):
    __tablename__ = "uploaded_files"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)

class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)

class OnlyMixinError(SessionErrorMixin, Base):
    sessionerror_session_model = "Owner"

out = {}
with create_engine(sys.argv[1]).connect() as connection:
    connection.begin()  # never committed
    db = Session(bind=connection)
    owner = Owner(title="team")
    db.add(owner)
    db.flush()
    error = OnlyMixinError(
        session_id=owner.id, error_category="user_fixable", severity="blocking",
        operation_stage="upload", user_message="only-the-mixin",
        recovery_actions={"actions": ["Retry"]}, technical_details={},
    )
    error.technical_details["password"] = "hunter2-on-insert"
    db.add(error)
    db.flush()
    error.technical_details["password"] = "hunter2-on-update"
    db.flush()
    out["stored"] = str(connection.execute(text(
        "SELECT technical_details FROM session_errors WHERE user_message = 'only-the-mixin'"
    )).scalar_one())
    error.recovery_actions["actions"] = ["", 3]
    try:
        db.flush()
        out["invalid"] = "accepted"
    except Exception as exc:
        out["invalid"] = type(exc).__name__ + ": " + str(exc)
out["reference_loaded"] = "sessionerror.models.session_error" in sys.modules
print(json.dumps(out))
"""


def test_mixin_imported_alone_validates_and_redacts_before_writes(team_engine: Engine) -> None:
    # A fresh interpreter: in this one the reference model is loaded, with or without the fix.
    url = team_engine.url.render_as_string(hide_password=False)
    completed = subprocess.run(
        [sys.executable, "-c", _ONLY_THE_MIXIN, url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    out = json.loads(completed.stdout)
    assert out["reference_loaded"] is False  # the situation of the issue, really
    assert "hunter2" not in out["stored"]
    assert "[REDACTED]" in out["stored"]
    assert out["invalid"].startswith("ErrorDataValidationError: Invalid recovery actions format")
