"""The reference schema: parent tables, the SessionError model and the mixin behind it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    event,
    exists,
    func,
    select,
)
from sqlalchemy import Enum as SQLEnum
from sqlalchemy.engine import Connection
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Mapper,
    Session,
    declared_attr,
    mapped_column,
    relationship,
    validates,
)

from sessionerror.errors import ErrorDataValidationError
from sessionerror.models.audit import get_logger
from sessionerror.models.binding import current_session
from sessionerror.models.enums import ErrorCategory, ErrorSeverity, OperationStage, enum_values
from sessionerror.models.types import GUID, JSONDocument, UTCDateTime, utcnow
from sessionerror.models.validation import (
    coerce_enum,
    validate_error_code,
    validate_operation_stage,
    validate_recovery_actions,
    validate_technical_details,
    validate_user_message,
    validate_uuid,
)

__all__ = [
    "NAMING_CONVENTION",
    "USER_MESSAGE_CHECK",
    "Base",
    "SessionError",
    "SessionErrorMixin",
    "Ticket",
    "UploadedFile",
    "WorkflowSession",
    "seed_sqlite_planner_statistics",
]

#: Stable constraint names on every backend (``ck_session_errors_user_message_not_blank`` ...).
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: ASCII characters str.strip() removes, as SQL expressions for the user_message CHECK.
_WHITESPACE_CODES = [code for code in range(128) if chr(code).isspace()]
_pg_whitespace = " || ".join(f"chr({code})" for code in _WHITESPACE_CODES)
_sqlite_whitespace = f"char({', '.join(str(code) for code in _WHITESPACE_CODES)})"

#: The not-blank CHECK on ``user_message`` per dialect. ``trim()`` alone strips spaces only, so
#: every ASCII whitespace character ``str.strip()`` strips is listed.
USER_MESSAGE_CHECK: dict[str, str] = {
    "postgresql": f"length(btrim(user_message, {_pg_whitespace})) > 0",
    "sqlite": f"length(trim(user_message, {_sqlite_whitespace})) > 0",
}

_REQUIRED = ("error_category", "severity", "operation_stage", "user_message", "recovery_actions")
#: Fields validated and redacted when set, and checked for changes before every write.
_SCRUBBED = ("user_message", "recovery_actions", "technical_details", "error_code")
#: Instance attribute holding copies of the clean values of ``_SCRUBBED`` fields.
_CLEAN = "_sessionerror_clean"


def _structure_copy(value: Any) -> Any:
    """Copy the dicts and lists of an already validated value (strings are shared).

    The value is at most MAX_NESTING_DEPTH levels deep (validated), so recursion is bounded.
    """
    if isinstance(value, dict):
        return {key: _structure_copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_structure_copy(item) for item in value]
    return value


def _same(current: Any, clean: Any) -> bool:
    """True if ``current`` still equals the clean copy, same types at every level.

    The comparison descends only as deep as the clean copy (bounded), so a value made deeper in
    place cannot raise RecursionError here; it is simply "changed".
    """
    if isinstance(clean, dict):
        return (
            isinstance(current, dict)
            and current.keys() == clean.keys()
            and all(_same(current[key], item) for key, item in clean.items())
        )
    if isinstance(clean, list):
        return (
            isinstance(current, list)
            and len(current) == len(clean)
            and all(_same(a, b) for a, b in zip(current, clean, strict=True))
        )
    return type(current) is type(clean) and bool(current == clean)


class Base(DeclarativeBase):
    """Declarative base of the reference schema, with a constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _enum_type(enum_cls: type[ErrorCategory] | type[ErrorSeverity], name: str) -> SQLEnum:
    # values_callable: the database stores 'user_fixable', never the member name USER_FIXABLE.
    return SQLEnum(
        enum_cls,
        name=name,
        values_callable=enum_values,
        validate_strings=True,
        create_constraint=True,
    )


def seed_sqlite_planner_statistics(table: Any, connection: Connection, **_: Any) -> None:
    """On SQLite, tell the query planner that ``session_id`` is the selective index.

    Without statistics SQLite breaks the tie between the three single-column indexes by
    creation order, which ``create_all`` does not fix: half the time it answered
    ``has_blocking_errors`` through the ``severity`` index, reading a third of the table.
    Seeded ``sqlite_stat1`` rows (overwritten by any later ``ANALYZE``) make the choice stable.
    """
    if connection.dialect.name != "sqlite":
        return
    name = table.name
    stats = {
        f"idx_{name}_session_id": "100000 10",
        f"idx_{name}_category": "100000 33334",
        f"idx_{name}_severity": "100000 33334",
    }
    connection.exec_driver_sql(f'ANALYZE "{name}"')  # creates sqlite_stat1 if missing
    connection.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE tbl = ?", (name,))
    connection.exec_driver_sql(
        "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)",
        [(name, index, stat) for index, stat in stats.items()],
    )
    connection.exec_driver_sql("ANALYZE sqlite_schema")  # reload the statistics


class WorkflowSession(Base):
    """A workflow session (table ``sessions``); named so it is not confused with ORM Session."""

    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid.uuid4)
    #: Human-readable name, e.g. the uploaded batch's title.
    name: Mapped[str] = mapped_column(String(200))
    #: Current workflow stage: upload, processing, review or jira_export.
    current_stage: Mapped[str] = mapped_column(String(32), default=OperationStage.UPLOAD.value)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, server_default=func.now()
    )

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

    __tablename__ = "uploaded_files"

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    #: Original file name as uploaded.
    filename: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now()
    )

    session: Mapped[WorkflowSession] = relationship(back_populates="uploaded_files")

    def __repr__(self) -> str:
        return f"<UploadedFile {self.id} {self.filename!r}>"


class Ticket(Base):
    """A ticket drafted in review and exported to Jira (table ``tickets``)."""

    __tablename__ = "tickets"

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    #: One-line summary of the ticket.
    summary: Mapped[str] = mapped_column(String(500))
    #: Jira issue key once exported (e.g. ``OPS-42``), else NULL.
    jira_key: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, server_default=func.now()
    )

    session: Mapped[WorkflowSession] = relationship(back_populates="tickets")

    def __repr__(self) -> str:
        return f"<Ticket {self.id} {self.summary!r}>"


class SessionErrorMixin:
    """Columns, constraints, indexes, validation and methods of the SessionError contract.

    Mix into your own declarative model to get the contract on your own ``session_errors``
    table. Override the ``sessionerror_*`` class attributes when your parent tables or the parent
    model are named differently.
    """

    __tablename__: ClassVar[str] = "session_errors"
    #: Target of ``session_id`` (ON DELETE CASCADE).
    sessionerror_session_fk: ClassVar[str] = "sessions.id"
    #: Target of ``related_file_id`` (ON DELETE SET NULL).
    sessionerror_file_fk: ClassVar[str] = "uploaded_files.id"
    #: Target of ``related_ticket_id`` (ON DELETE SET NULL).
    sessionerror_ticket_fk: ClassVar[str] = "tickets.id"
    #: Name of the parent model class, which must declare ``session_errors`` back_populates.
    sessionerror_session_model: ClassVar[str] = "WorkflowSession"

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        table = cls.__tablename__
        stages = ", ".join(f"'{value}'" for value in enum_values(OperationStage))
        return (
            Index(f"idx_{table}_session_id", "session_id"),
            Index(f"idx_{table}_category", "error_category"),
            Index(f"idx_{table}_severity", "severity"),
            *(
                CheckConstraint(sql, name="user_message_not_blank").ddl_if(dialect=dialect)
                for dialect, sql in USER_MESSAGE_CHECK.items()
            ),
            CheckConstraint(f"operation_stage IN ({stages})", name="operation_stage_valid"),
            # A missing 'actions' key gives NULL, and a NULL CHECK passes: coalesce refuses it.
            CheckConstraint(
                "coalesce(jsonb_typeof(recovery_actions -> 'actions'), '') = 'array'",
                name="recovery_actions_list",
            ).ddl_if(dialect="postgresql"),
            CheckConstraint(
                "coalesce(json_type(recovery_actions, '$.actions'), '') = 'array'",
                name="recovery_actions_list",
            ).ddl_if(dialect="sqlite"),
            CheckConstraint(
                "jsonb_typeof(technical_details) = 'object'", name="technical_details_object"
            ).ddl_if(dialect="postgresql"),
            CheckConstraint(
                "json_type(technical_details) = 'object'", name="technical_details_object"
            ).ddl_if(dialect="sqlite"),
        )

    #: Primary key, generated when the object is constructed.
    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid.uuid4, sort_order=0)

    @declared_attr
    @classmethod
    def session_id(cls) -> Mapped[uuid.UUID]:
        """The owning workflow session; the error is deleted with it (CASCADE)."""
        return mapped_column(
            GUID,
            ForeignKey(cls.sessionerror_session_fk, ondelete="CASCADE"),
            nullable=False,
            sort_order=1,
        )

    @declared_attr
    @classmethod
    def error_category(cls) -> Mapped[ErrorCategory]:
        """Who can fix it: user_fixable, admin_required or temporary."""
        return mapped_column(
            _enum_type(ErrorCategory, "error_category"), nullable=False, sort_order=2
        )

    @declared_attr
    @classmethod
    def severity(cls) -> Mapped[ErrorSeverity]:
        """blocking, warning or info."""
        return mapped_column(
            _enum_type(ErrorSeverity, "error_severity"), nullable=False, sort_order=3
        )

    #: Workflow stage: upload, processing, review or jira_export.
    operation_stage: Mapped[str] = mapped_column(String(32), nullable=False, sort_order=4)

    @declared_attr
    @classmethod
    def related_file_id(cls) -> Mapped[uuid.UUID | None]:
        """File the error concerns; set to NULL when the file is deleted (audit trail kept)."""
        return mapped_column(
            GUID,
            ForeignKey(cls.sessionerror_file_fk, ondelete="SET NULL"),
            nullable=True,
            sort_order=5,
        )

    @declared_attr
    @classmethod
    def related_ticket_id(cls) -> Mapped[uuid.UUID | None]:
        """Ticket the error concerns; set to NULL when the ticket is deleted."""
        return mapped_column(
            GUID,
            ForeignKey(cls.sessionerror_ticket_fk, ondelete="SET NULL"),
            nullable=True,
            sort_order=6,
        )

    #: User-friendly description; never blank.
    user_message: Mapped[str] = mapped_column(Text, nullable=False, sort_order=7)
    #: ``{"actions": ["step", ...]}``: what the user or admin can do about it.
    #: Top-level changes in place (``error.recovery_actions["actions"] = [...]``) are tracked
    #: and validated before the write; changes deeper down need a reassignment.
    recovery_actions: Mapped[dict[str, Any]] = mapped_column(
        MutableDict.as_mutable(JSONDocument), nullable=False, sort_order=8
    )
    #: Stack traces, API responses...; secrets are redacted before storage.
    technical_details: Mapped[dict[str, Any]] = mapped_column(
        MutableDict.as_mutable(JSONDocument), nullable=False, default=dict, sort_order=9
    )
    #: Application-specific error code such as ``JIRA_AUTH_401``.
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True, sort_order=10)
    #: When the error was recorded (timezone-aware UTC).
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, server_default=func.now(), sort_order=11
    )

    @declared_attr
    @classmethod
    def session(cls) -> Mapped[Any]:
        """The owning workflow session (``session.session_errors`` is the other side)."""
        return relationship(cls.sessionerror_session_model, back_populates="session_errors")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table = getattr(cls, "__table__", None)
        if table is not None and table.name == cls.__tablename__:
            event.listen(table, "after_create", seed_sqlite_planner_statistics)

    def __init__(self, **kwargs: Any) -> None:
        missing = [name for name in _REQUIRED if kwargs.get(name) is None]
        if kwargs.get("session_id") is None and kwargs.get("session") is None:
            missing.insert(0, "session_id")
        if missing:
            # The spec's messages for these two (§8), whatever else is missing.
            if "user_message" in missing:
                validate_user_message(None)
            if "recovery_actions" in missing:
                validate_recovery_actions(None)
            raise ErrorDataValidationError(
                f"Missing required field(s): {', '.join(missing)}", field=missing[0]
            )
        kwargs.setdefault("id", uuid.uuid4())
        kwargs.setdefault("technical_details", {})
        super().__init__(**kwargs)

    # -- validation: on construction and assignment (validators) and before every write ------

    @validates("error_category")
    def _validate_category(self, _key: str, value: object) -> ErrorCategory:
        return coerce_enum(ErrorCategory, value, "error_category")

    @validates("severity")
    def _validate_severity(self, _key: str, value: object) -> ErrorSeverity:
        return coerce_enum(ErrorSeverity, value, "severity")

    @validates("operation_stage")
    def _validate_stage(self, _key: str, value: object) -> str:
        return validate_operation_stage(value)

    # The text and JSON fields are validated and redacted once, when set; a copy of the clean
    # value is kept so the check before the write can skip what has not changed since (and
    # re-check and re-redact whatever was changed in place, at any depth).

    def _remember_clean(self, key: str, value: Any) -> Any:
        self.__dict__.setdefault(_CLEAN, {})[key] = _structure_copy(value)
        return value

    @validates("user_message")
    def _validate_message(self, key: str, value: object) -> str:
        return str(self._remember_clean(key, validate_user_message(value)))

    @validates("recovery_actions")
    def _validate_actions(self, key: str, value: object) -> dict[str, Any]:
        clean: dict[str, Any] = self._remember_clean(key, validate_recovery_actions(value))
        return clean

    @validates("technical_details")
    def _validate_details(self, key: str, value: object) -> dict[str, Any]:
        clean: dict[str, Any] = self._remember_clean(key, validate_technical_details(value))
        return clean

    @validates("error_code")
    def _validate_code(self, key: str, value: object) -> str | None:
        code = validate_error_code(value)
        self._remember_clean(key, code)
        return code

    @validates("session_id", "related_file_id", "related_ticket_id")
    def _validate_ids(self, key: str, value: object) -> uuid.UUID | None:
        return validate_uuid(value, key, required=key == "session_id")

    def validate(self) -> None:
        """Validate the whole row; raise :class:`ErrorDataValidationError` on the first problem.

        Runs automatically before every INSERT/UPDATE. Text and JSON fields unchanged since they
        were set (validated and redacted then) are not scrubbed again; anything changed since,
        in place at any depth included, is validated and redacted again.
        """
        self.error_category = coerce_enum(ErrorCategory, self.error_category, "error_category")
        self.severity = coerce_enum(ErrorSeverity, self.severity, "severity")
        self.operation_stage = validate_operation_stage(self.operation_stage)
        clean: dict[str, Any] = self.__dict__.get(_CLEAN, {})
        for key in _SCRUBBED:
            current = getattr(self, key)
            if key in clean and _same(current, clean[key]):
                continue
            setattr(self, key, current)  # the validator checks, redacts and remembers it

    # -- behaviour (spec §4) ----------------------------------------------------------------

    def is_blocking(self) -> bool:
        """True if severity is 'blocking'."""
        return self.severity == ErrorSeverity.BLOCKING

    def get_recovery_action_list(self) -> list[str]:
        """The recovery steps from the ``actions`` list of the JSON field, in order."""
        actions = (self.recovery_actions or {}).get("actions")
        if not isinstance(actions, list):
            return []
        return [str(step) for step in actions]

    @property
    def is_user_fixable(self) -> bool:
        """True if the user can fix the error themselves."""
        return self.error_category == ErrorCategory.USER_FIXABLE

    @property
    def requires_admin(self) -> bool:
        """True if an administrator must act."""
        return self.error_category == ErrorCategory.ADMIN_REQUIRED

    @property
    def age_minutes(self) -> float:
        """Minutes since the error was recorded (0.0 before it is flushed)."""
        if self.created_at is None:
            return 0.0
        return (utcnow() - self.created_at).total_seconds() / 60.0

    @classmethod
    def find_by_category(
        cls,
        session_id: uuid.UUID,
        category: ErrorCategory | str,
        *,
        db: Session | None = None,
    ) -> list[Any]:
        """Errors of ``category`` in ``session_id``, oldest first (one query)."""
        wanted = coerce_enum(ErrorCategory, category, "error_category")
        statement = (
            select(cls)
            .where(cls.session_id == session_id, cls.error_category == wanted)
            .order_by(cls.created_at, cls.id)
        )
        return list(current_session(db).scalars(statement))

    @classmethod
    def has_blocking_errors(cls, session_id: uuid.UUID, *, db: Session | None = None) -> bool:
        """True if ``session_id`` has any blocking error (one EXISTS query, no rows loaded)."""
        statement = select(
            exists().where(cls.session_id == session_id, cls.severity == ErrorSeverity.BLOCKING)
        )
        return bool(current_session(db).scalar(statement))

    def to_user_dict(self) -> dict[str, Any]:
        """User-facing view of the error; never includes ``technical_details``."""
        return {
            "id": str(self.id),
            "session_id": str(self.session_id),
            "error_category": ErrorCategory(self.error_category).value,
            "severity": ErrorSeverity(self.severity).value,
            "operation_stage": self.operation_stage,
            "user_message": self.user_message,
            "recovery_actions": self.get_recovery_action_list(),
            "error_code": self.error_code,
            "is_blocking": self.is_blocking(),
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }

    def __repr__(self) -> str:
        category = getattr(self.error_category, "value", self.error_category)
        severity = getattr(self.severity, "value", self.severity)
        return f"<{type(self).__name__} {self.id} {category}/{severity} {self.operation_stage}>"


class SessionError(SessionErrorMixin, Base):
    """The reference ``session_errors`` model (spec: SessionError)."""

    #: The file the error concerns, if any (no reverse side: the ORM never NULLs the link).
    related_file: Mapped[UploadedFile | None] = relationship()
    #: The ticket the error concerns, if any.
    related_ticket: Mapped[Ticket | None] = relationship()


def _validate_before_write(_mapper: Mapper[Any], _connection: Connection, target: Any) -> None:
    target.validate()


def _log_created(_mapper: Mapper[Any], _connection: Connection, target: Any) -> None:
    logger = get_logger()
    logger.info(
        "SessionError created for session %s: %s - %s",
        target.session_id,
        ErrorCategory(target.error_category).value,
        target.user_message,
    )
    logger.debug(
        "Error linked to %s stage, file: %s, ticket: %s",
        target.operation_stage,
        target.related_file_id,
        target.related_ticket_id,
    )


event.listen(SessionErrorMixin, "before_insert", _validate_before_write, propagate=True)
event.listen(SessionErrorMixin, "before_update", _validate_before_write, propagate=True)
event.listen(SessionErrorMixin, "after_insert", _log_created, propagate=True)
