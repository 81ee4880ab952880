"""Classes for the conformance suite: two that conform, and a library of broken ones.

Each class lives on its own declarative Base with the team's own parents (``sessions`` with a
NOT NULL ``jira_user_id``, ``uploaded_files`` with a NOT NULL ``filename``, ``tickets`` with NOT
NULL ``title`` and ``summary``), as a team's schema would. ``TeamError`` uses the kit's mixin;
``HandWrittenError`` is written from the specification without it, and every broken class is
it (or the mixin model) with exactly one defect. :data:`BROKEN` maps each to the clause that
must catch it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text, Uuid, event, exists, func, select
from sqlalchemy import Enum as SQLEnum
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    declared_attr,
    mapped_column,
    relationship,
)

from sessionerror import SessionErrorMixin
from sessionerror.errors import ErrorDataValidationError
from sessionerror.models.enums import ErrorCategory, ErrorSeverity
from sessionerror.redaction import redact

logger = logging.getLogger("teamapp.errors")


def _values(enum_class: type[Any]) -> list[str]:
    return [member.value for member in enum_class]


def _schema(error_class: str) -> type[DeclarativeBase]:
    """A new declarative Base holding the team's three parent classes."""

    class TeamBase(DeclarativeBase):
        pass

    class TeamSession(TeamBase):
        __tablename__ = "sessions"
        id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
        jira_user_id: Mapped[str] = mapped_column(String(64))
        session_errors: Mapped[list[Any]] = relationship(
            error_class, back_populates="session", passive_deletes=True
        )

    class TeamFile(TeamBase):
        __tablename__ = "uploaded_files"
        id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
        session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
        filename: Mapped[str] = mapped_column(String(255))

    class TeamTicket(TeamBase):
        __tablename__ = "tickets"
        id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
        session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
        title: Mapped[str] = mapped_column(String(200))
        summary: Mapped[str] = mapped_column(Text)
        priority: Mapped[int] = mapped_column()

    # The class registry holds weak references: keep the parents alive with their Base.
    TeamBase.parents = (TeamSession, TeamFile, TeamTicket)
    return TeamBase


class HandWritten:
    """A team's own SessionError written from the specification, without the kit's mixin."""

    __tablename__ = "session_errors"
    store_values: ClassVar[bool] = True
    session_on_delete: ClassVar[str | None] = "CASCADE"
    file_on_delete: ClassVar[str] = "SET NULL"
    blank_message: ClassVar[str] = "Error must have user-friendly message"
    validation_category: ClassVar[str] = "admin_required"
    created_line: ClassVar[str] = "SessionError created for session %s: %s - %s"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    operation_stage: Mapped[str] = mapped_column(String(32))
    user_message: Mapped[str] = mapped_column(Text)
    recovery_actions: Mapped[dict[str, Any]] = mapped_column(JSON)
    technical_details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(UTC)
    )

    @declared_attr
    def session_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(ForeignKey("sessions.id", ondelete=cls.session_on_delete), index=True)

    @declared_attr
    def related_file_id(cls) -> Mapped[uuid.UUID | None]:
        return mapped_column(ForeignKey("uploaded_files.id", ondelete=cls.file_on_delete))

    @declared_attr
    def related_ticket_id(cls) -> Mapped[uuid.UUID | None]:
        return mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))

    @declared_attr
    def error_category(cls) -> Mapped[ErrorCategory]:
        options = {"values_callable": _values} if cls.store_values else {}
        return mapped_column(SQLEnum(ErrorCategory, name="error_category", **options))

    @declared_attr
    def severity(cls) -> Mapped[ErrorSeverity]:
        options = {"values_callable": _values} if cls.store_values else {}
        return mapped_column(SQLEnum(ErrorSeverity, name="error_severity", **options))

    @declared_attr
    def session(cls) -> Mapped[Any]:
        return relationship("TeamSession", back_populates="session_errors")

    def __init__(self, **values: Any) -> None:
        self.check(values)
        values["technical_details"] = self.scrub(values.get("technical_details") or {})
        super().__init__(**values)

    def check(self, values: dict[str, Any]) -> None:
        message, actions = values.get("user_message"), values.get("recovery_actions")
        if not isinstance(message, str) or not message.strip():
            raise ErrorDataValidationError(self.blank_message, self.validation_category)
        if not isinstance(actions, dict) or "actions" not in actions:
            raise ErrorDataValidationError(
                "Invalid recovery actions format", self.validation_category
            )

    def scrub(self, details: dict[str, Any]) -> dict[str, Any]:
        cleaned: dict[str, Any] = redact(details)
        return cleaned

    def log_created(self) -> None:
        category = ErrorCategory(self.error_category).value
        logger.info(self.created_line, self.session_id, category, self.user_message)
        logger.debug(
            "Error linked to %s stage, file: %s, ticket: %s",
            self.operation_stage,
            self.related_file_id,
            self.related_ticket_id,
        )

    def is_blocking(self) -> bool:
        return self.severity == ErrorSeverity.BLOCKING

    def get_recovery_action_list(self) -> list[str]:
        return [str(step) for step in self.recovery_actions.get("actions", [])]

    @property
    def is_user_fixable(self) -> bool:
        return self.error_category == ErrorCategory.USER_FIXABLE

    @property
    def requires_admin(self) -> bool:
        return self.error_category == ErrorCategory.ADMIN_REQUIRED

    @property
    def age_minutes(self) -> float:
        created = self.created_at
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        return (datetime.now(UTC) - created).total_seconds() / 60

    @classmethod
    def find_by_category(cls, session_id: uuid.UUID, category: Any, *, db: Session) -> list[Any]:
        query = select(cls).where(cls.session_id == session_id, cls.error_category == category)
        return list(db.scalars(query.order_by(cls.created_at)))

    @classmethod
    def has_blocking_errors(cls, session_id: uuid.UUID, *, db: Session) -> bool:
        blocking = cls.severity == ErrorSeverity.BLOCKING
        return bool(db.scalar(select(exists().where(cls.session_id == session_id, blocking))))


event.listen(
    HandWritten, "after_insert", lambda _m, _c, target: target.log_created(), propagate=True
)


def _model(name: str, base: type[Any] = HandWritten, **namespace: Any) -> type[Any]:
    """``base`` with ``namespace`` overriding it, mapped on a schema of its own."""
    extra = {"sessionerror_session_model": "TeamSession"} if base is SessionErrorMixin else {}
    body = {"__module__": __name__, "__qualname__": name, **extra, **namespace}
    return type(name, (base, _schema(name)), body)


# -- the classes that conform ------------------------------------------------------------------
TeamError = _model(  # with a NOT NULL column of the team's own on session_errors too
    "TeamError", SessionErrorMixin, tenant=mapped_column(String(32), nullable=False)
)
HandWrittenError = _model("HandWrittenError")


# -- the broken library: one defect each -------------------------------------------------------
def _find_ignoring_category(cls: Any, session_id: Any, category: Any, *, db: Session) -> Any:
    return list(db.scalars(select(cls).where(cls.session_id == session_id)))


def _find_one_by_one(cls: Any, session_id: Any, category: Any, *, db: Session) -> Any:
    query = select(cls.id).where(cls.session_id == session_id, cls.error_category == category)
    return [db.get(cls, error_id) for error_id in db.scalars(query).all()]


def _blocking_by_loading(cls: Any, session_id: Any, *, db: Session) -> bool:
    return any(e.is_blocking() for e in db.scalars(select(cls).where(cls.session_id == session_id)))


def _blocking_anywhere(cls: Any, session_id: Any, *, db: Session) -> bool:
    return bool(db.scalar(select(exists().where(cls.severity == ErrorSeverity.BLOCKING))))


WrongIsBlocking = _model(
    "WrongIsBlocking", SessionErrorMixin, is_blocking=lambda self: self.severity != "info"
)
RecoveryListOfKeys = _model(
    "RecoveryListOfKeys", get_recovery_action_list=lambda self: list(self.recovery_actions)
)
AdminIncludesTemporary = _model(
    "AdminIncludesTemporary",
    requires_admin=property(lambda self: self.error_category != ErrorCategory.USER_FIXABLE),
)
AgeInSeconds = _model(
    "AgeInSeconds", age_minutes=property(lambda self: HandWritten.age_minutes.__get__(self) * 60)
)
FindIgnoresCategory = _model(
    "FindIgnoresCategory", find_by_category=classmethod(_find_ignoring_category)
)
FindLoadsOneByOne = _model("FindLoadsOneByOne", find_by_category=classmethod(_find_one_by_one))
BlockingLoadsRows = _model(
    "BlockingLoadsRows", has_blocking_errors=classmethod(_blocking_by_loading)
)
BlockingIgnoresSession = _model(
    "BlockingIgnoresSession", has_blocking_errors=classmethod(_blocking_anywhere)
)
EnumsStoredByName = _model("EnumsStoredByName", store_values=False)
NoValidation = _model("NoValidation", check=lambda self, values: None)
OtherMessage = _model("OtherMessage", blank_message="user_message must not be blank")
OtherCategory = _model("OtherCategory", validation_category="user_fixable")
ChangedLogLine = _model("ChangedLogLine", created_line="New error in session %s (%s): %s")
NoRedaction = _model("NoRedaction", scrub=lambda self, details: details)
FileCascades = _model("FileCascades", file_on_delete="CASCADE")
SessionNoAction = _model("SessionNoAction", session_on_delete=None)
ServerClock = _model(  # created_at only from the server, not fetched back: expired after flush
    "ServerClock",
    created_at=mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False),
    __mapper_args__={"eager_defaults": False},
)

#: Each broken class -> the clauses that must report it (and no other clause may fail).
BROKEN: dict[str, set[str]] = {
    "WrongIsBlocking": {"§4.is_blocking"},
    "RecoveryListOfKeys": {"§4.get_recovery_action_list"},
    "AdminIncludesTemporary": {"§4.requires_admin"},
    "AgeInSeconds": {"§4.age_minutes"},
    "FindIgnoresCategory": {"§4.find_by_category"},
    "FindLoadsOneByOne": {"§4.find_by_category.statements"},
    "BlockingLoadsRows": {"§4.has_blocking_errors.statements"},
    "BlockingIgnoresSession": {"§4.has_blocking_errors"},
    "EnumsStoredByName": {"§4.enums"},
    "NoValidation": {"§8.user_message", "§8.recovery_actions"},
    "OtherMessage": {"§8.user_message"},
    "OtherCategory": {"§8.user_message", "§8.recovery_actions"},
    "ChangedLogLine": {"§7.info"},
    "NoRedaction": {"kit.redaction"},
    "FileCascades": {"§6.related_file_id"},
    "SessionNoAction": {"§6.session_id"},
    "ServerClock": {"async.write"},
}
