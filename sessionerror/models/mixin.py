"""SessionErrorMixin: the columns, constraints, validation and methods of the contract.

Indexes, foreign-key rules and CHECK constraints are built from :mod:`sessionerror.models.contract`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import ForeignKey, Index, String, Text, event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import (
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
from sessionerror.models.base import created_at_column, seed_sqlite_planner_statistics
from sessionerror.models.binding import class_query_session
from sessionerror.models.contract import CHECKS, FOREIGN_KEYS, INDEXES, SESSION_ERRORS_TABLE
from sessionerror.models.enums import ErrorCategory, ErrorSeverity, OperationStage, enum_values
from sessionerror.models.mixin_parts import (
    check_constraints,
    contract_order,
    enum_type,
    same_value,
    structure_copy,
)
from sessionerror.models.queries import find_by_category_statement, has_blocking_statement
from sessionerror.models.types import GUID, JSONDocument, utcnow
from sessionerror.models.validation import (
    ERROR_FIELD_VALIDATORS,
    validate_error_fields,
    validate_recovery_actions,
    validate_user_message,
    validate_uuid,
)

__all__ = ["SessionErrorMixin"]

_FK = {rule.column: rule for rule in FOREIGN_KEYS}

_REQUIRED = ("error_category", "severity", "operation_stage", "user_message", "recovery_actions")
#: Fields validated and redacted when set, and checked for changes before every write.
_SCRUBBED = ("user_message", "recovery_actions", "technical_details", "error_code")
#: Instance attribute holding copies of the clean values of ``_SCRUBBED`` fields.
_CLEAN = "_sessionerror_clean"
#: Instance attribute set while ``__init__`` assigns values validate_error_fields has checked.
_TRUSTED = "_sessionerror_trusted"
_STAGES = frozenset(enum_values(OperationStage))


class SessionErrorMixin:
    """Columns, constraints, indexes, validation and methods of the SessionError contract.

    Mix into your own declarative model to get the contract on your own ``session_errors``
    table. Override the ``sessionerror_*`` class attributes when your parent tables or the parent
    model are named differently.
    """

    __tablename__: ClassVar[str] = SESSION_ERRORS_TABLE
    #: Target of ``session_id`` (ON DELETE CASCADE).
    sessionerror_session_fk: ClassVar[str] = _FK["session_id"].target
    #: Target of ``related_file_id`` (ON DELETE SET NULL).
    sessionerror_file_fk: ClassVar[str] = _FK["related_file_id"].target
    #: Target of ``related_ticket_id`` (ON DELETE SET NULL).
    sessionerror_ticket_fk: ClassVar[str] = _FK["related_ticket_id"].target
    #: Name of the parent model class, which must declare ``session_errors`` back_populates.
    sessionerror_session_model: ClassVar[str] = "WorkflowSession"

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        table = cls.__tablename__
        return (
            *(Index(index.name_for(table), *index.columns) for index in INDEXES),
            *(constraint for rule in CHECKS for constraint in check_constraints(rule)),
        )

    #: Primary key, generated when the object is constructed.
    id: Mapped[uuid.UUID] = mapped_column(
        GUID, primary_key=True, default=uuid.uuid4, sort_order=contract_order("id")
    )

    @declared_attr
    @classmethod
    def session_id(cls) -> Mapped[uuid.UUID]:
        """The owning workflow session; the error is deleted with it (CASCADE)."""
        return mapped_column(
            GUID,
            ForeignKey(cls.sessionerror_session_fk, ondelete=_FK["session_id"].on_delete),
            nullable=False,
            sort_order=contract_order("session_id"),
        )

    @declared_attr
    @classmethod
    def error_category(cls) -> Mapped[ErrorCategory]:
        """Who can fix it: user_fixable, admin_required or temporary."""
        return mapped_column(
            enum_type("error_category"),
            nullable=False,
            sort_order=contract_order("error_category"),
        )

    @declared_attr
    @classmethod
    def severity(cls) -> Mapped[ErrorSeverity]:
        """blocking, warning or info."""
        return mapped_column(
            enum_type("severity"),
            nullable=False,
            sort_order=contract_order("severity"),
        )

    #: Workflow stage: upload, processing, review or jira_export.
    operation_stage: Mapped[str] = mapped_column(
        String(32), nullable=False, sort_order=contract_order("operation_stage")
    )

    @declared_attr
    @classmethod
    def related_file_id(cls) -> Mapped[uuid.UUID | None]:
        """File the error concerns; set to NULL when the file is deleted (audit trail kept)."""
        return mapped_column(
            GUID,
            ForeignKey(cls.sessionerror_file_fk, ondelete=_FK["related_file_id"].on_delete),
            nullable=True,
            sort_order=contract_order("related_file_id"),
        )

    @declared_attr
    @classmethod
    def related_ticket_id(cls) -> Mapped[uuid.UUID | None]:
        """Ticket the error concerns; set to NULL when the ticket is deleted."""
        return mapped_column(
            GUID,
            ForeignKey(cls.sessionerror_ticket_fk, ondelete=_FK["related_ticket_id"].on_delete),
            nullable=True,
            sort_order=contract_order("related_ticket_id"),
        )

    #: User-friendly description; never blank.
    user_message: Mapped[str] = mapped_column(
        Text, nullable=False, sort_order=contract_order("user_message")
    )
    #: ``{"actions": ["step", ...]}``: what the user or admin can do about it.
    #: Top-level changes in place (``error.recovery_actions["actions"] = [...]``) are tracked
    #: and validated before the write; changes deeper down need a reassignment.
    recovery_actions: Mapped[dict[str, Any]] = mapped_column(
        MutableDict.as_mutable(JSONDocument),
        nullable=False,
        sort_order=contract_order("recovery_actions"),
    )
    #: Stack traces, API responses...; secrets are redacted before storage.
    technical_details: Mapped[dict[str, Any]] = mapped_column(
        MutableDict.as_mutable(JSONDocument),
        nullable=False,
        default=dict,
        sort_order=contract_order("technical_details"),
    )
    #: Application-specific error code such as ``JIRA_AUTH_401``.
    error_code: Mapped[str | None] = mapped_column(
        String(64), nullable=True, sort_order=contract_order("error_code")
    )
    #: When the error was recorded (timezone-aware UTC).
    created_at: Mapped[datetime] = created_at_column(
        nullable=False, sort_order=contract_order("created_at")
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
        # Each value is validated (and redacted) once, here; the validator lets the constructor
        # assign it unchecked, and the check before the write skips it while it is unchanged.
        fields = {key: kwargs.get(key) for key in ERROR_FIELD_VALIDATORS}
        kwargs.update(validate_error_fields(**fields))
        self.__dict__[_CLEAN] = {key: structure_copy(kwargs[key]) for key in _SCRUBBED}
        self.__dict__[_TRUSTED] = True
        try:
            super().__init__(**kwargs)
        finally:
            del self.__dict__[_TRUSTED]

    # -- validation: once on construction, on every assignment, and changes before a write ---

    @validates(*ERROR_FIELD_VALIDATORS)
    def _validate_field(self, key: str, value: object) -> Any:
        """Validate (and redact) an assigned value; keep a copy of the clean text and JSON.

        The copy lets the check before the write skip what has not changed since, and re-check
        and re-redact whatever was changed in place, at any depth.
        """
        if _TRUSTED in self.__dict__:
            return value
        clean = ERROR_FIELD_VALIDATORS[key](value)
        if key in _SCRUBBED:
            self.__dict__.setdefault(_CLEAN, {})[key] = structure_copy(clean)
        return clean

    @validates("session_id", "related_file_id", "related_ticket_id")
    def _validate_ids(self, key: str, value: object) -> uuid.UUID | None:
        return validate_uuid(value, key, required=key == "session_id")

    def validate(self) -> None:
        """Validate the whole row; raise :class:`ErrorDataValidationError` on the first problem.

        Runs automatically before every INSERT/UPDATE. Text and JSON fields unchanged since they
        were set (validated and redacted then) are not scrubbed again; anything changed since,
        in place at any depth included, is validated and redacted again.
        """
        # Assignments were validated when made: only a value that bypassed the attribute (set
        # through ``__dict__``, or loaded) and is not a valid member is assigned again, to fail.
        if not isinstance(self.error_category, ErrorCategory):
            self.error_category = self.error_category
        if not isinstance(self.severity, ErrorSeverity):
            self.severity = self.severity
        if self.operation_stage not in _STAGES:
            self.operation_stage = self.operation_stage
        clean: dict[str, Any] = self.__dict__.get(_CLEAN, {})
        for key in _SCRUBBED:
            current = getattr(self, key)
            if key in clean and same_value(current, clean[key]):
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
        """Errors of ``category`` in ``session_id``, oldest first (one query).

        Sync only: an AsyncSession is a TypeError naming ``AsyncSessionErrorRepository``.
        """
        statement = find_by_category_statement(cls, session_id, category)
        return list(class_query_session(db, "find_by_category").scalars(statement))

    @classmethod
    def has_blocking_errors(cls, session_id: uuid.UUID, *, db: Session | None = None) -> bool:
        """True if ``session_id`` has any blocking error (one EXISTS query, no rows loaded).

        Sync only: an AsyncSession is a TypeError naming ``AsyncSessionErrorRepository``.
        """
        statement = has_blocking_statement(cls, session_id)
        return bool(class_query_session(db, "has_blocking_errors").scalar(statement))

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


# -- write hooks: registered here, on the mixin itself, so every model that mixes it in
# validates and redacts before each INSERT/UPDATE whatever module it was imported from (they
# used to live beside the reference model: a team importing only this module wrote unchecked).


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
