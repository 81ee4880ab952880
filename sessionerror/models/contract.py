"""The SessionError contract as data: tables, columns, foreign keys, indexes, CHECKs, enum values.

Written once here; the model (:mod:`sessionerror.models.mixin`) builds its indexes, foreign keys
and CHECK constraints from it, and the checker (:mod:`sessionerror.check`) derives its
expectations and fix texts from it, so the two cannot drift apart. Pure data: importing this
module does not import SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from sessionerror.models.enums import ErrorCategory, ErrorSeverity, OperationStage, enum_values

__all__ = [
    "CHECKS",
    "COLUMNS",
    "COLUMN_NAMES",
    "DIALECTS",
    "ENUM_TYPE_NAMES",
    "FOREIGN_KEYS",
    "INDEXES",
    "PARENT_TABLES",
    "SESSIONS_TABLE",
    "SESSION_ERRORS_TABLE",
    "TABLES",
    "TICKETS_TABLE",
    "UPLOADED_FILES_TABLE",
    "USER_MESSAGE_CHECK",
    "CheckRule",
    "ColumnKind",
    "ColumnRule",
    "ForeignKeyRule",
    "IndexRule",
    "column_rule",
]

SESSION_ERRORS_TABLE = "session_errors"
SESSIONS_TABLE = "sessions"
UPLOADED_FILES_TABLE = "uploaded_files"
TICKETS_TABLE = "tickets"
#: Tables ``session_errors`` references.
PARENT_TABLES = (SESSIONS_TABLE, UPLOADED_FILES_TABLE, TICKETS_TABLE)
#: Every table of the contract, ``session_errors`` first.
TABLES = (SESSION_ERRORS_TABLE, *PARENT_TABLES)
#: The dialects the contract spells CHECK SQL for.
DIALECTS = ("postgresql", "sqlite")


class ColumnKind(str, Enum):
    """The kind of value a contract column stores."""

    UUID = "uuid"
    ENUM = "enum"
    STRING = "string"
    TEXT = "text"
    JSON = "json"
    TIMESTAMP = "timestamp"


@dataclass(frozen=True)
class ColumnRule:
    """One column of ``session_errors``."""

    name: str
    kind: ColumnKind
    nullable: bool
    #: VARCHAR length of STRING columns.
    length: int | None = None
    #: Python enum of ENUM columns, and the PostgreSQL enum type's name.
    enum: type[Enum] | None = None
    enum_type_name: str | None = None
    primary_key: bool = False
    #: Server-side default per dialect, as SQL.
    server_default: dict[str, str] = field(default_factory=dict)
    #: Python-side default, as the SQLAlchemy argument text (``uuid.uuid4``, ``dict``).
    python_default: str | None = None
    #: Whether the checker reports a wrong nullability (the primary key and the columns with a
    #: default are not checked).
    checked_nullability: bool = True

    @property
    def enum_values(self) -> list[str]:
        """The stored values of an ENUM column (empty for other kinds)."""
        return enum_values(self.enum) if self.enum is not None else []

    @property
    def enum_names(self) -> list[str]:
        """The member names of an ENUM column (what a misconfigured ``Enum()`` stores)."""
        return [member.name for member in self.enum] if self.enum is not None else []


@dataclass(frozen=True)
class ForeignKeyRule:
    """A foreign key of ``session_errors``: column -> target table.column, ON DELETE rule."""

    column: str
    table: str
    on_delete: str
    target_column: str = "id"

    @property
    def target(self) -> str:
        """``table.column`` as written in ``ForeignKey(...)``."""
        return f"{self.table}.{self.target_column}"


@dataclass(frozen=True)
class IndexRule:
    """An index of ``session_errors``, named ``idx_<table>_<suffix>``."""

    suffix: str
    columns: tuple[str, ...]
    #: The seeded SQLite planner statistics (``sqlite_stat1.stat``) of the index.
    sqlite_stat: str

    def name_for(self, table: str = SESSION_ERRORS_TABLE) -> str:
        """The index name on ``table``."""
        return f"idx_{table}_{self.suffix}"


@dataclass(frozen=True)
class CheckRule:
    """A CHECK constraint, named ``ck_<table>_<name>`` by the naming convention.

    ``sql`` maps each dialect to its SQL; the key ``"*"`` means the same SQL on every dialect.
    """

    name: str
    column: str
    sql: dict[str, str]
    #: Whether ``sessionerror check`` verifies it (``schema.check.<name>``): every contract
    #: CHECK is, since a missing one lets raw SQL store what the model refuses.
    verified_by_checker: bool = True
    #: Words a database CHECK on ``column`` must contain to count as this rule (lower case);
    #: on an enum-like column (``operation_stage``) its quoted labels are compared instead.
    markers: tuple[str, ...] = ()
    #: What the CHECK does, and a value it keeps out (for the checker's report).
    purpose: str = ""
    bad_example: str = ""

    def sql_for(self, dialect: str) -> str:
        """The constraint's SQL on ``dialect``."""
        return self.sql.get(dialect) or self.sql["*"]


COLUMNS: tuple[ColumnRule, ...] = (
    ColumnRule(
        "id",
        ColumnKind.UUID,
        nullable=False,
        primary_key=True,
        python_default="uuid.uuid4",
        checked_nullability=False,
    ),
    ColumnRule("session_id", ColumnKind.UUID, nullable=False),
    ColumnRule(
        "error_category",
        ColumnKind.ENUM,
        nullable=False,
        enum=ErrorCategory,
        enum_type_name="error_category",
    ),
    ColumnRule(
        "severity",
        ColumnKind.ENUM,
        nullable=False,
        enum=ErrorSeverity,
        enum_type_name="error_severity",
    ),
    ColumnRule(
        "operation_stage", ColumnKind.STRING, nullable=False, length=32, enum=OperationStage
    ),
    ColumnRule("related_file_id", ColumnKind.UUID, nullable=True),
    ColumnRule("related_ticket_id", ColumnKind.UUID, nullable=True),
    ColumnRule("user_message", ColumnKind.TEXT, nullable=False),
    ColumnRule("recovery_actions", ColumnKind.JSON, nullable=False),
    ColumnRule(
        "technical_details",
        ColumnKind.JSON,
        nullable=False,
        server_default={"postgresql": "'{}'"},
        python_default="dict",
        checked_nullability=False,
    ),
    ColumnRule(
        "error_code", ColumnKind.STRING, nullable=True, length=64, checked_nullability=False
    ),
    ColumnRule(
        "created_at",
        ColumnKind.TIMESTAMP,
        nullable=False,
        server_default={"postgresql": "now()", "sqlite": "CURRENT_TIMESTAMP"},
        checked_nullability=False,
    ),
)
#: The 12 spec columns of ``session_errors``, in spec order.
COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in COLUMNS)

FOREIGN_KEYS: tuple[ForeignKeyRule, ...] = (
    ForeignKeyRule("session_id", SESSIONS_TABLE, "CASCADE"),
    ForeignKeyRule("related_file_id", UPLOADED_FILES_TABLE, "SET NULL"),
    ForeignKeyRule("related_ticket_id", TICKETS_TABLE, "SET NULL"),
)

INDEXES: tuple[IndexRule, ...] = (
    IndexRule("session_id", ("session_id",), sqlite_stat="100000 10"),
    IndexRule("category", ("error_category",), sqlite_stat="100000 33334"),
    IndexRule("severity", ("severity",), sqlite_stat="100000 33334"),
)

#: ASCII characters str.strip() removes, as SQL expressions for the user_message CHECK.
_WHITESPACE_CODES = [code for code in range(128) if chr(code).isspace()]
_PG_WHITESPACE = " || ".join(f"chr({code})" for code in _WHITESPACE_CODES)
_SQLITE_WHITESPACE = f"char({', '.join(str(code) for code in _WHITESPACE_CODES)})"
_STAGES = ", ".join(f"'{value}'" for value in enum_values(OperationStage))

CHECKS: tuple[CheckRule, ...] = (
    # ``trim()`` alone strips spaces only, so every ASCII whitespace str.strip() strips is listed.
    CheckRule(
        "user_message_not_blank",
        "user_message",
        {
            "postgresql": f"length(btrim(user_message, {_PG_WHITESPACE})) > 0",
            "sqlite": f"length(trim(user_message, {_SQLITE_WHITESPACE})) > 0",
        },
        purpose="refuses empty and whitespace-only user_message",
        bad_example="a blank user_message",
    ),
    CheckRule(
        "operation_stage_valid",
        "operation_stage",
        {"*": f"operation_stage IN ({_STAGES})"},
        purpose="allows only the spec's operation_stage values",
        bad_example="operation_stage='uploading'",
    ),
    # A missing 'actions' key gives NULL, and a NULL CHECK passes: coalesce refuses it.
    CheckRule(
        "recovery_actions_list",
        "recovery_actions",
        {
            "postgresql": "coalesce(jsonb_typeof(recovery_actions -> 'actions'), '') = 'array'",
            "sqlite": "coalesce(json_type(recovery_actions, '$.actions'), '') = 'array'",
        },
        markers=("actions", "array"),
        purpose="requires recovery_actions to hold an 'actions' list",
        bad_example="recovery_actions without an 'actions' list",
    ),
    CheckRule(
        "technical_details_object",
        "technical_details",
        {
            "postgresql": "jsonb_typeof(technical_details) = 'object'",
            "sqlite": "json_type(technical_details) = 'object'",
        },
        markers=("object",),
        purpose="requires technical_details to be a JSON object",
        bad_example="technical_details that is a list, a string or null",
    ),
)

#: The PostgreSQL enum type name of each ENUM column: the one name the model and the mixin bind
#: (asyncpg casts every write to it), the checker verifies and every fix creates.
ENUM_TYPE_NAMES: dict[str, str] = {
    column.name: column.enum_type_name
    for column in COLUMNS
    if column.kind is ColumnKind.ENUM and column.enum_type_name
}

#: The not-blank CHECK on ``user_message`` per dialect.
USER_MESSAGE_CHECK: dict[str, str] = dict(CHECKS[0].sql)


def column_rule(name: str) -> ColumnRule:
    """The contract's rule for column ``name``."""
    for column in COLUMNS:
        if column.name == name:
            return column
    raise KeyError(name)
