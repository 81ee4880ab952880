"""The contract rendered as text: per-dialect DDL and SQLAlchemy declarations.

The checker's fixes are these texts, derived from :mod:`sessionerror.models.contract`, so a
change to the contract changes the advice with it. Pure string building: no SQLAlchemy import.
"""

from __future__ import annotations

from sessionerror.models.contract import (
    CHECKS,
    FOREIGN_KEYS,
    SESSION_ERRORS_TABLE,
    CheckRule,
    ColumnKind,
    ColumnRule,
    ForeignKeyRule,
    IndexRule,
    column_rule,
)

__all__ = [
    "SQLITE_REBUILD",
    "check_constraint_ddl",
    "check_constraint_name",
    "check_constraint_sqlalchemy",
    "column_ddl",
    "column_sqlalchemy",
    "enum_column_ddl",
    "foreign_key_ddl",
    "foreign_key_name",
    "foreign_key_sqlalchemy",
    "foreign_key_sqlalchemy_argument",
    "index_ddl",
    "index_sqlalchemy",
    "sql_type",
]

#: How to change a column or constraint on SQLite, which cannot ALTER them; ``{piece}`` is the DDL.
_TABLE = SESSION_ERRORS_TABLE
SQLITE_REBUILD = (
    "SQLite cannot alter a column or constraint: rebuild the table with {piece} "
    f"(PRAGMA foreign_keys=OFF; CREATE TABLE {_TABLE}_new (...); "
    f"INSERT INTO {_TABLE}_new SELECT * FROM {_TABLE}; DROP TABLE {_TABLE}; "
    f"ALTER TABLE {_TABLE}_new RENAME TO {_TABLE}; PRAGMA foreign_keys=ON)"
)

_PG_TYPES = {
    ColumnKind.UUID: "UUID",
    ColumnKind.TEXT: "TEXT",
    ColumnKind.JSON: "JSONB",
    ColumnKind.TIMESTAMP: "TIMESTAMPTZ",
}
_SQLITE_TYPES = {
    ColumnKind.UUID: "CHAR(32)",
    ColumnKind.TEXT: "TEXT",
    ColumnKind.JSON: "JSON",
    ColumnKind.TIMESTAMP: "DATETIME",
}
_SA_TYPES = {
    ColumnKind.UUID: "Uuid(as_uuid=True)",
    ColumnKind.TEXT: "Text",
    ColumnKind.JSON: "JSON().with_variant(JSONB(), 'postgresql')",
    ColumnKind.TIMESTAMP: "DateTime(timezone=True)",
}
_SA_SERVER_DEFAULTS = {"now()": "func.now()"}


def _foreign_key(column: str) -> ForeignKeyRule | None:
    return next((rule for rule in FOREIGN_KEYS if rule.column == column), None)


def _checks_on(column: str) -> list[CheckRule]:
    # Only the CHECKs the checker verifies are spelled inline: the others are extra guards.
    return [rule for rule in CHECKS if rule.column == column and rule.verified_by_checker]


def sql_type(column: ColumnRule, dialect: str) -> str:
    """The column's SQL type on ``dialect`` (an ENUM is a named type on PostgreSQL)."""
    if column.kind is ColumnKind.ENUM:
        if dialect == "postgresql":
            return str(column.enum_type_name)
        return f"VARCHAR({max(len(value) for value in column.enum_values)})"
    if column.kind is ColumnKind.STRING:
        return f"VARCHAR({column.length})"
    return (_PG_TYPES if dialect == "postgresql" else _SQLITE_TYPES)[column.kind]


def column_ddl(column: ColumnRule, dialect: str) -> str:
    """The column's definition in CREATE TABLE / ADD COLUMN on ``dialect``."""
    parts = [column.name, sql_type(column, dialect)]
    if column.primary_key:
        parts.append("PRIMARY KEY")
    elif not column.nullable:
        parts.append("NOT NULL")
    if dialect in column.server_default:
        parts.append(f"DEFAULT {column.server_default[dialect]}")
    foreign_key = _foreign_key(column.name)
    if foreign_key is not None:
        parts.append(
            f"REFERENCES {foreign_key.table} ({foreign_key.target_column}) "
            f"ON DELETE {foreign_key.on_delete}"
        )
    if column.kind is ColumnKind.ENUM and dialect != "postgresql":
        values = ", ".join(f"'{value}'" for value in column.enum_values)
        parts.append(f"CHECK ({column.name} IN ({values}))")
    parts += [f"CHECK ({rule.sql_for(dialect)})" for rule in _checks_on(column.name)]
    return " ".join(parts)


def column_sqlalchemy(column: ColumnRule) -> str:
    """The column's ``mapped_column(...)`` declaration (and inline CHECK) in SQLAlchemy."""
    if column.kind is ColumnKind.ENUM:
        assert column.enum is not None
        return (
            f"mapped_column(Enum({column.enum.__name__}, name='{column.enum_type_name}', "
            "values_callable=lambda e: [m.value for m in e], create_constraint=True), "
            f"nullable={column.nullable})"
        )
    if column.kind is ColumnKind.STRING:
        arguments = [f"String({column.length})"]
    else:
        arguments = [_SA_TYPES[column.kind]]
    foreign_key = _foreign_key(column.name)
    if foreign_key is not None:
        arguments.append(foreign_key_sqlalchemy_argument(foreign_key))
    if column.primary_key:
        arguments.append("primary_key=True")
    else:
        arguments.append(f"nullable={column.nullable}")
    if column.python_default is not None:
        arguments.append(f"default={column.python_default}")
    server_default = column.server_default.get("postgresql")
    if server_default in _SA_SERVER_DEFAULTS:
        arguments.append(f"server_default={_SA_SERVER_DEFAULTS[server_default]}")
    declaration = f"mapped_column({', '.join(arguments)})"
    for rule in _checks_on(column.name):
        declaration += " + __table_args__ " + check_constraint_sqlalchemy(rule, "postgresql")
        if "*" not in rule.sql:
            declaration += ", " + check_constraint_sqlalchemy(rule, "sqlite")
    return declaration


def enum_column_ddl(
    column: ColumnRule,
    *,
    create_type: bool = True,
    rename_existing_to: str | None = None,
    drop_default: bool = False,
    drop_types: tuple[str, ...] = (),
) -> str:
    """PostgreSQL DDL giving ENUM ``column`` the contract's enum type, converting stored text.

    ``rename_existing_to``: a type of the contract's name exists with other labels; rename it
    away first. ``drop_types``: the column's old types, dropped once nothing uses them. The
    stored text is converted with ``lower()`` (member names become the values).
    """
    name = column.name
    type_name = str(column.enum_type_name)
    labels = ", ".join(f"'{value}'" for value in column.enum_values)
    statements = []
    if rename_existing_to:
        statements.append(f"ALTER TYPE {type_name} RENAME TO {rename_existing_to}")
    if create_type:
        statements.append(f"CREATE TYPE {type_name} AS ENUM ({labels})")
    if drop_default:
        statements.append(f"ALTER TABLE {_TABLE} ALTER COLUMN {name} DROP DEFAULT")
    statements.append(
        f"ALTER TABLE {_TABLE} ALTER COLUMN {name} TYPE {type_name} "
        f"USING lower({name}::text)::{type_name}"
    )
    statements += [f"DROP TYPE {old}" for old in drop_types]
    return "; ".join(statements)


def check_constraint_name(rule: CheckRule, table: str = SESSION_ERRORS_TABLE) -> str:
    """The CHECK's name under the naming convention (``ck_<table>_<name>``)."""
    return f"ck_{table}_{rule.name}"


def check_constraint_ddl(rule: CheckRule, dialect: str) -> str:
    """DDL adding the CHECK on ``dialect`` (on SQLite: rebuilding the table with it inline)."""
    if dialect == "postgresql":
        return (
            f"ALTER TABLE {_TABLE} ADD CONSTRAINT {check_constraint_name(rule)} "
            f"CHECK ({rule.sql_for(dialect)})"
        )
    return SQLITE_REBUILD.format(piece=column_ddl(column_rule(rule.column), dialect))


def check_constraint_sqlalchemy(rule: CheckRule, dialect: str) -> str:
    """The CHECK as a SQLAlchemy ``CheckConstraint`` for ``dialect`` (``ddl_if`` unless the
    SQL is the same on every dialect)."""
    declaration = f"CheckConstraint({rule.sql_for(dialect)!r}, name='{rule.name}')"
    if "*" in rule.sql:
        return declaration
    return f"{declaration}.ddl_if(dialect='{dialect}')"


def foreign_key_name(rule: ForeignKeyRule, table: str = SESSION_ERRORS_TABLE) -> str:
    """The foreign key's name under the naming convention."""
    return f"fk_{table}_{rule.column}_{rule.table}"


def foreign_key_sqlalchemy_argument(rule: ForeignKeyRule) -> str:
    """``ForeignKey('table.id', ondelete='RULE')``."""
    return f"ForeignKey('{rule.target}', ondelete='{rule.on_delete}')"


def foreign_key_ddl(rule: ForeignKeyRule, *, name: str | None = None, replace: bool) -> str:
    """PostgreSQL DDL adding the foreign key (dropping constraint ``name`` first if ``replace``)."""
    name = name or foreign_key_name(rule)
    drop = f"ALTER TABLE {SESSION_ERRORS_TABLE} DROP CONSTRAINT {name}; " if replace else ""
    return (
        f"{drop}ALTER TABLE {SESSION_ERRORS_TABLE} ADD CONSTRAINT {name} FOREIGN KEY "
        f"({rule.column}) REFERENCES {rule.table} ({rule.target_column}) "
        f"ON DELETE {rule.on_delete}"
    )


def foreign_key_sqlalchemy(rule: ForeignKeyRule) -> str:
    """The foreign-key column as a SQLAlchemy declaration."""
    return f"mapped_column(Uuid(as_uuid=True), {foreign_key_sqlalchemy_argument(rule)})"


def index_ddl(rule: IndexRule) -> str:
    """``CREATE INDEX`` for the index."""
    return f"CREATE INDEX {rule.name_for()} ON {SESSION_ERRORS_TABLE} ({', '.join(rule.columns)})"


def index_sqlalchemy(rule: IndexRule) -> str:
    """The index in ``__table_args__``."""
    columns = ", ".join(f"'{column}'" for column in rule.columns)
    return f"__table_args__ = (Index('{rule.name_for()}', {columns}), ...)"
