"""What the database catalog says about the contract's tables, read without writing anything.

The SQLAlchemy inspector, ``pg_enum`` and SQLite's ``PRAGMA``s, plus the classification of a
column's reflected type into the kinds the schema checks compare (uuid, json, text, enum...).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, text
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import SAWarning

from sessionerror.models.contract import SESSION_ERRORS_TABLE, TABLES, ColumnKind, column_rule

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

__all__ = [
    "CatalogSchema",
    "allowed_kinds",
    "column_kind",
    "pg_enum_labels",
    "pg_type_column_count",
    "read_catalog",
]

_TABLE = SESSION_ERRORS_TABLE


@dataclass
class CatalogSchema:
    """What the catalog says about the contract's tables."""

    dialect: str
    tables: set[str]
    columns: dict[str, dict[str, Any]]
    declared: dict[str, str]
    checks: list[dict[str, Any]]
    indexes: list[list[str]]
    fks: list[dict[str, Any]]

    def is_pg(self) -> bool:
        """True on PostgreSQL."""
        return self.dialect == "postgresql"


def read_catalog(conn: Connection) -> CatalogSchema:
    """Read the contract's tables, and the columns, constraints and indexes of session_errors."""
    with warnings.catch_warnings():
        # An unknown column type is reported by the type check, not as a reflection warning.
        warnings.simplefilter("ignore", SAWarning)
        insp = inspect(conn)
        tables = set(insp.get_table_names()) & set(TABLES)
        if _TABLE not in tables:
            return CatalogSchema(conn.dialect.name, tables, {}, {}, [], [], [])
        columns = {c["name"]: dict(c) for c in insp.get_columns(_TABLE)}
        checks = [dict(c) for c in insp.get_check_constraints(_TABLE)]
        indexes = [[str(c) for c in i["column_names"]] for i in insp.get_indexes(_TABLE)]
        pk = insp.get_pk_constraint(_TABLE).get("constrained_columns") or []
        uniques = insp.get_unique_constraints(_TABLE)
        fks = [dict(f) for f in insp.get_foreign_keys(_TABLE)]
    indexes += [[str(c) for c in pk]] + [[str(c) for c in u["column_names"]] for u in uniques]
    declared: dict[str, str] = {}
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql(f"PRAGMA table_info({_TABLE})").all()
        declared = {str(row[1]): str(row[2]).upper() for row in rows}
        # The inspector misses ON DELETE of inline REFERENCES clauses; the PRAGMA has it.
        fk_rows = conn.exec_driver_sql(f"PRAGMA foreign_key_list({_TABLE})").all()
        fks = [
            {
                "name": None,
                "constrained_columns": [str(r[3])],
                "referred_table": str(r[2]),
                "referred_columns": [str(r[4]) if r[4] is not None else "id"],
                "options": {"ondelete": str(r[6])},
            }
            for r in fk_rows
        ]
    return CatalogSchema(conn.dialect.name, tables, columns, declared, checks, indexes, fks)


def column_kind(schema: CatalogSchema, name: str) -> tuple[str, str]:
    """(kind, shown type) of column ``name``: uuid, json, jsonb, text, enum, blob, timestamp..."""
    if not schema.is_pg():
        declared = schema.declared.get(name, "")
        kinds = [
            ("JSON", "json"),
            ("UUID", "uuid"),
            ("CHAR", "text"),
            ("TEXT", "text"),
            ("CLOB", "text"),
            ("BLOB", "blob"),
            ("DATE", "timestamp"),
            ("TIME", "timestamp"),
        ]
        for marker, kind in kinds:
            if marker in declared:
                return kind, declared
        return ("blob" if declared == "" else "other"), declared or "(no type)"
    type_ = schema.columns[name]["type"]
    shown = repr(type_)
    if isinstance(type_, JSONB):
        return "jsonb", "JSONB"
    if isinstance(type_, sqltypes.JSON):
        return "json", "JSON"
    if isinstance(type_, sqltypes.Uuid):
        return "uuid", "UUID"
    if isinstance(type_, sqltypes.DateTime):
        aware = bool(getattr(type_, "timezone", False))
        return "timestamp", "timestamptz" if aware else "timestamp without time zone"
    if isinstance(type_, sqltypes.Enum):
        return "enum", f"enum {type_.name}"
    if isinstance(type_, sqltypes.String):
        return "text", shown
    return "other", shown


def allowed_kinds(schema: CatalogSchema, name: str) -> set[str]:
    """The kinds (see :func:`column_kind`) the contract accepts for column ``name``."""
    column = column_rule(name)
    if column.kind is ColumnKind.UUID:
        return {"uuid"} if schema.is_pg() else {"uuid", "text", "blob"}
    if column.kind is ColumnKind.JSON:
        return {"json", "jsonb"} if schema.is_pg() else {"json", "text"}
    if column.kind is ColumnKind.TIMESTAMP:
        return {"timestamp"} if schema.is_pg() else {"timestamp", "text"}
    if column.enum is not None:
        return {"enum", "text"}
    return {"text"}


def pg_enum_labels(conn: Connection, type_name: str) -> list[str]:
    """The labels of PostgreSQL enum type ``type_name`` (on the search path), in order."""
    rows = conn.execute(
        text(
            "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
            "JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE t.typname = :name AND n.nspname = ANY (current_schemas(false)) "
            "ORDER BY e.enumsortorder"
        ),
        {"name": type_name},
    )
    return [str(r[0]) for r in rows]


def pg_type_column_count(conn: Connection, type_name: str) -> int:
    """How many table columns (on the search path) use PostgreSQL type ``type_name``."""
    count = conn.execute(
        text(
            "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_type t ON t.oid = a.atttypid "
            "JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE t.typname = :name AND n.nspname = ANY (current_schemas(false)) "
            "AND NOT a.attisdropped AND a.attnum > 0 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
        ),
        {"name": type_name},
    ).scalar_one()
    return int(count)
