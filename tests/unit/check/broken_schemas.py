"""Deliberately broken schemas, built by raw DDL the way a team's migration would write them.

Also the small database helpers the checker tests share (engines, DDL, row counts).

``ddl(dialect, **mistake)`` renders the contract's tables with one mistake switched on; each
:class:`Broken` names the checks that must catch it and key words of found / expected / fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, create_engine, event, text

__all__ = [
    "BROKEN",
    "TABLES",
    "Broken",
    "count_rows",
    "ddl",
    "make_engine",
    "pg_schema_snapshot",
    "run_ddl",
]

TABLES = ("sessions", "uploaded_files", "tickets", "session_errors")

_VALUES = ("user_fixable", "admin_required", "temporary")
_NAMES = ("USER_FIXABLE", "ADMIN_REQUIRED", "TEMPORARY")


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def ddl(
    dialect: str,
    *,
    session_fk: str = "ON DELETE CASCADE",
    file_fk: str = "ON DELETE SET NULL",
    categories: tuple[str, ...] = _VALUES,
    session_id_null: str = "NOT NULL",
    json_type: str = "JSONB",
    created_at_type: str = "TIMESTAMPTZ",
    message_check: bool = True,
    contract_checks: bool = True,
    enum_columns: str = "native",
    category_type: str = "error_category",
    indexes: tuple[str, ...] = (
        "CREATE INDEX errors_by_session ON session_errors (session_id, created_at)",
        "CREATE INDEX errors_by_category ON session_errors (error_category)",
        "CREATE INDEX errors_by_severity ON session_errors (severity)",
    ),
) -> list[str]:
    """The DDL of a team's schema (index names differ from the reference on purpose)."""
    pg = dialect == "postgresql"
    uuid_t = "UUID" if pg else "CHAR(32)"
    ts = "TIMESTAMPTZ" if pg else "DATETIME"
    now = "now()" if pg else "CURRENT_TIMESTAMP"
    check = ",\n  CONSTRAINT message_not_blank CHECK (length(trim(user_message)) > 0)"
    tail = check if message_check else ""
    if contract_checks:  # the contract's other CHECKs, under the team's own names
        json_type_of = ("jsonb_typeof" if json_type == "JSONB" else "json_typeof") if pg else ""
        actions = (
            f"coalesce({json_type_of}(recovery_actions -> 'actions'), '') = 'array'"
            if pg
            else "coalesce(json_type(recovery_actions, '$.actions'), '') = 'array'"
        )
        details = (
            f"{json_type_of}(technical_details) = 'object'"
            if pg
            else "json_type(technical_details) = 'object'"
        )
        tail += (
            ",\n  CONSTRAINT stage_known CHECK (operation_stage IN "
            "('upload', 'processing', 'review', 'jira_export'))"
            f",\n  CONSTRAINT actions_list CHECK ({actions})"
            f",\n  CONSTRAINT details_object CHECK ({details})"
        )
    statements = []
    if pg and enum_columns == "varchar":  # the app's real schema: enums as plain text
        category_col = "error_category VARCHAR(50) NOT NULL"
        severity_col = "severity VARCHAR(50) NOT NULL"
    elif pg:
        statements += [
            f"CREATE TYPE {category_type} AS ENUM ({_quoted(categories)})",
            "CREATE TYPE error_severity AS ENUM ('blocking', 'warning', 'info')",
        ]
        category_col = f"error_category {category_type} NOT NULL"
        severity_col = "severity error_severity NOT NULL"
    else:
        category_col = (
            f"error_category VARCHAR(14) NOT NULL CHECK (error_category IN ({_quoted(categories)}))"
        )
        severity_col = (
            "severity VARCHAR(8) NOT NULL CHECK (severity IN ('blocking', 'warning', 'info'))"
        )
    statements += [
        f"""CREATE TABLE sessions (
  id {uuid_t} PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  owner_email VARCHAR(120) NOT NULL,
  created_at {ts} NOT NULL DEFAULT {now})""",
        f"""CREATE TABLE uploaded_files (
  id {uuid_t} PRIMARY KEY,
  session_id {uuid_t} NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  filename VARCHAR(255) NOT NULL,
  size_bytes INTEGER NOT NULL)""",
        f"""CREATE TABLE tickets (
  id {uuid_t} PRIMARY KEY,
  session_id {uuid_t} NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  summary VARCHAR(500) NOT NULL,
  created_at {ts} NOT NULL)""",
        f"""CREATE TABLE session_errors (
  id {uuid_t} PRIMARY KEY,
  session_id {uuid_t} {session_id_null} REFERENCES sessions (id) {session_fk},
  {category_col},
  {severity_col},
  operation_stage VARCHAR(32) NOT NULL,
  related_file_id {uuid_t} REFERENCES uploaded_files (id) {file_fk},
  related_ticket_id {uuid_t} REFERENCES tickets (id) ON DELETE SET NULL,
  user_message TEXT NOT NULL,
  recovery_actions {json_type if pg else "JSON"} NOT NULL,
  technical_details {json_type if pg else "JSON"} NOT NULL,
  error_code VARCHAR(64),
  created_at {created_at_type if pg else "DATETIME"} NOT NULL DEFAULT {now}{tail})""",
        *indexes,
    ]
    return statements


@dataclass(frozen=True)
class Broken:
    """One deliberate mistake and how the checker must report it."""

    name: str
    dialects: tuple[str, ...]
    mistake: dict[str, Any]
    #: Check ids that must FAIL, and no others.
    failing: frozenset[str]
    #: The schema check that names the mistake, and key words of its found / expected / fix.
    check_id: str
    found: tuple[str, ...]
    expected: tuple[str, ...]
    fix: tuple[str, ...]
    #: Connect without PRAGMA foreign_keys=ON (SQLite only).
    foreign_keys_off: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


BROKEN: tuple[Broken, ...] = (
    Broken(
        "missing_cascade",
        ("sqlite", "postgresql"),
        {"session_fk": ""},
        frozenset({"schema.fk.session_id", "behaviour.cascade_session"}),
        "schema.fk.session_id",
        ("NO ACTION", "missing ON DELETE CASCADE"),
        ("CASCADE",),
        ("ForeignKey('sessions.id', ondelete='CASCADE')", "ON DELETE CASCADE"),
    ),
    Broken(
        "missing_set_null_file",
        ("sqlite", "postgresql"),
        {"file_fk": ""},
        frozenset({"schema.fk.related_file_id", "behaviour.set_null_file"}),
        "schema.fk.related_file_id",
        ("missing ON DELETE SET NULL",),
        ("uploaded_files", "SET NULL"),
        ("ForeignKey('uploaded_files.id', ondelete='SET NULL')", "ON DELETE SET NULL"),
    ),
    Broken(
        "enum_names",
        ("sqlite", "postgresql"),
        {"categories": _NAMES},
        frozenset(
            {
                "schema.enum.error_category",
                "behaviour.insert_valid",
            }
        ),
        "schema.enum.error_category",
        ("NAMES", "USER_FIXABLE", "values_callable"),
        ("user_fixable", "admin_required", "temporary"),
        ("values_callable",),
    ),
    Broken(
        "nullable_session_id",
        ("sqlite", "postgresql"),
        {"session_id_null": ""},
        frozenset({"schema.nullability"}),
        "schema.nullability",
        ("session_id is nullable",),
        ("NOT NULL", "session_id"),
        ("nullable=False",),
    ),
    Broken(
        "json_not_jsonb",
        ("postgresql",),
        {"json_type": "JSON"},
        frozenset({"schema.jsonb"}),
        "schema.jsonb",
        ("recovery_actions is JSON", "technical_details is JSON"),
        ("JSONB",),
        ("TYPE JSONB", "with_variant(JSONB()"),
    ),
    Broken(
        "missing_index",
        ("sqlite", "postgresql"),
        {
            "indexes": (
                "CREATE INDEX errors_by_session ON session_errors (session_id)",
                "CREATE INDEX errors_by_category ON session_errors (error_category, severity)",
            )
        },
        frozenset({"schema.index.severity"}),
        "schema.index.severity",
        ("no index whose first column is severity",),
        ("severity",),
        ("CREATE INDEX idx_session_errors_severity ON session_errors (severity)", "Index("),
    ),
    Broken(
        "naive_timestamp",
        ("postgresql",),
        {"created_at_type": "TIMESTAMP"},
        frozenset({"schema.created_at_timezone"}),
        "schema.created_at_timezone",
        ("timestamp without time zone", "naive"),
        ("with time zone",),
        ("timestamptz", "DateTime(timezone=True)"),
    ),
    Broken(
        "missing_message_check",
        ("sqlite", "postgresql"),
        {"message_check": False},
        frozenset({"schema.check.user_message_not_blank", "behaviour.rejects_blank_message"}),
        "schema.check.user_message_not_blank",
        ("no CHECK constraint on user_message",),
        ("whitespace-only user_message",),
        ("CheckConstraint(", "user_message_not_blank", "trim(user_message, "),
    ),
    Broken(
        "foreign_keys_off",
        ("sqlite",),
        {},
        frozenset(
            {
                "sqlite.foreign_keys",
                "behaviour.cascade_session",
                "behaviour.set_null_file",
                "behaviour.set_null_ticket",
                "behaviour.rejects_orphan",
            }
        ),
        "sqlite.foreign_keys",
        ("PRAGMA foreign_keys = 0",),
        ("PRAGMA foreign_keys = 1",),
        ("PRAGMA foreign_keys=ON", "connect"),
        foreign_keys_off=True,
    ),
)


def _foreign_keys_on(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str, *, foreign_keys: bool = True) -> Engine:
    """An engine for ``url``; on SQLite with PRAGMA foreign_keys=ON unless told otherwise."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite" and foreign_keys:
        event.listen(engine, "connect", _foreign_keys_on)
    return engine


def run_ddl(url: str, statements: list[str]) -> None:
    """Execute raw DDL statements in one transaction."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def count_rows(url: str) -> dict[str, int]:
    """Rows per contract table."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in TABLES
            }
    finally:
        engine.dispose()


def pg_schema_snapshot(url: str) -> list[tuple[Any, ...]]:
    """Columns, constraints, indexes and enum labels of the public schema."""
    engine = make_engine(url)
    queries = (
        "SELECT table_name, column_name, data_type, is_nullable, column_default "
        "FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2",
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE connamespace = 'public'::regnamespace ORDER BY 1",
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
        "SELECT t.typname, e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
        "ORDER BY 1, e.enumsortorder",
    )
    try:
        with engine.connect() as conn:
            return [tuple(row) for q in queries for row in conn.execute(text(q))]
    finally:
        engine.dispose()
