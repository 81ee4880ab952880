"""What Alembic's ``compare_metadata`` does not compare: CHECK constraints and enum types.

A revision that forgets a CHECK, or creates an enum type under another name or with other
labels, passes Alembic's comparison; these functions list each such difference between a
models' ``MetaData`` and the database. CHECKs are matched by name (the naming convention
applied) and by expression, normalised: on PostgreSQL by the server itself (the model's
expression is added, in a transaction that is rolled back, to an empty temporary copy of the
table and read back with ``pg_get_constraintdef``), on SQLite as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import CheckConstraint, Connection, MetaData, Table

__all__ = [
    "check_constraint_drift",
    "enum_type_drift",
    "normalise_check_sql",
    "schema_object_drift",
]

_PROBE = "sessionerror_check_probe"


@dataclass(frozen=True)
class _Check:
    name: str | None
    sql: str


def normalise_check_sql(sql: str) -> str:
    """``sql`` without whitespace, case (outside quotes) and redundant outer parentheses."""
    parts = re.split(r"('(?:[^']|'')*')", sql.strip())
    text = "".join(
        part if part.startswith("'") else re.sub(r"\s+", "", part).lower() for part in parts
    )
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1]
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for char in re.sub(r"'(?:[^']|'')*'", "''", text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _created_on(constraint: CheckConstraint, dialect: Any) -> bool:
    """Whether ``constraint`` is part of the table's DDL on ``dialect``."""
    ddl_if = getattr(constraint, "_ddl_if", None)
    wanted = getattr(ddl_if, "dialect", None)
    if isinstance(wanted, str) and wanted != dialect.name:
        return False
    if isinstance(wanted, tuple | list) and dialect.name not in wanted:
        return False
    rule = getattr(constraint, "_create_rule", None)  # an Enum's CHECK: not with native enums
    return rule is None or bool(rule(SimpleNamespace(dialect=dialect)))


def _model_name(constraint: CheckConstraint, dialect: Any) -> str | None:
    """The constraint's name in the DDL (naming convention applied), None when unnamed."""
    if constraint.name is None:
        return None
    try:
        name = dialect.identifier_preparer.format_constraint(constraint)
    except Exception:  # an unnamed constraint under a convention that needs its name
        return None
    return str(name).strip('"') if name else None


def _model_sql(constraint: CheckConstraint, dialect: Any) -> str:
    compiler = dialect.statement_compiler(dialect, None)
    return str(compiler.process(constraint.sqltext, include_table=False, literal_binds=True))


def _model_checks(table: Table, dialect: Any) -> list[_Check]:
    from sqlalchemy import CheckConstraint

    return [
        _Check(_model_name(c, dialect), _model_sql(c, dialect))
        for c in table.constraints
        if isinstance(c, CheckConstraint) and _created_on(c, dialect)
    ]


def _pg_definition(definition: str) -> str:
    match = re.fullmatch(r"CHECK \((.*)\)(?: NOT VALID)?", definition.strip(), re.DOTALL)
    return match.group(1) if match else definition


def _pg_checks(connection: Connection, table: str) -> list[_Check]:
    from sqlalchemy import text

    rows = connection.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = to_regclass(:table) AND contype = 'c' ORDER BY conname"
        ),
        {"table": table},
    )
    return [_Check(str(name), _pg_definition(str(definition))) for name, definition in rows]


def _pg_normalised(connection: Connection, table: str, checks: list[_Check]) -> list[str]:
    """The model's CHECK expressions as PostgreSQL writes them back for ``table``'s columns."""
    from sqlalchemy.exc import DBAPIError

    preparer = connection.dialect.identifier_preparer
    outer = connection.begin_nested() if connection.in_transaction() else connection.begin()
    try:
        connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {_PROBE} (LIKE {preparer.quote(table)})"
        )
        normalised = []
        for index, check in enumerate(checks):
            name = f"{_PROBE}_{index}"
            savepoint = connection.begin_nested()
            try:
                connection.exec_driver_sql(
                    f"ALTER TABLE {_PROBE} ADD CONSTRAINT {name} CHECK ({check.sql}) NOT VALID"
                )
                probe = _pg_checks(connection, f"pg_temp.{_PROBE}")
                normalised.append(next(c.sql for c in probe if c.name == name))
            except DBAPIError:  # e.g. a column the database lacks: compare the text
                savepoint.rollback()
                normalised.append(check.sql)
            else:
                savepoint.rollback()
        return normalised
    finally:
        outer.rollback()


def _database_checks(connection: Connection, table: str) -> list[_Check]:
    if connection.dialect.name == "postgresql":
        return _pg_checks(connection, table)
    from sqlalchemy import inspect

    return [
        _Check(c.get("name"), str(c["sqltext"]))
        for c in inspect(connection).get_check_constraints(table)
    ]


def check_constraint_drift(connection: Connection, table: Table) -> list[str]:
    """One line per CHECK of ``table`` that differs between the model and the database."""
    dialect = connection.dialect
    model = _model_checks(table, dialect)
    found = _database_checks(connection, table.name)
    if dialect.name == "postgresql" and model:
        wanted = _pg_normalised(connection, table.name, model)
    else:
        wanted = [c.sql for c in model]
    found_keys = [normalise_check_sql(c.sql) for c in found]
    # Same-named model CHECKs are per-dialect variants whose ddl_if() a copy lost
    # (Table.to_metadata): a database holds one of them.
    groups: dict[Any, list[tuple[_Check, str, str]]] = {}
    for index, (check, sql) in enumerate(zip(model, wanted, strict=True)):
        key = check.name if check.name else index
        groups.setdefault(key, []).append((check, sql, normalise_check_sql(sql)))
    unmatched = list(range(len(found)))
    lines: list[str] = []
    where = f"on {table.name}"
    for variants in groups.values():
        name = variants[0][0].name
        keys = {key for _check, _sql, key in variants}
        shown = " or ".join(f"CHECK ({sql})" for _check, sql, _key in variants)
        same_name = [i for i in unmatched if name and found[i].name == name]
        same_sql = [i for i in unmatched if found_keys[i] in keys]
        if same_name:
            unmatched.remove(same_name[0])
            if found_keys[same_name[0]] not in keys:
                lines.append(
                    f"CHECK {name} {where}: CHECK ({found[same_name[0]].sql}) in the schema, "
                    f"{shown} in the models"
                )
        elif same_sql:
            unmatched.remove(same_sql[0])
            if name:
                other = found[same_sql[0]].name
                state = f"named {other}" if other else "unnamed"
                lines.append(f"CHECK {name} {where}: {state} in the schema")
        else:
            own = " or ".join(f"CHECK ({check.sql})" for check, _sql, _key in variants)
            lines.append(f"CHECK {name or '(unnamed)'} {where}: models only ({own})")
    for i in unmatched:
        lines.append(
            f"CHECK {found[i].name or '(unnamed)'} {where}: migrated schema only "
            f"(CHECK ({found[i].sql}))"
        )
    return lines


def enum_type_drift(
    connection: Connection, table: Table, reported: frozenset[tuple[str, str]] = frozenset()
) -> list[str]:
    """PostgreSQL: one line per enum column of ``table`` whose type name or labels differ.

    A column that is not an enum in the database, and the ``(table, column)`` pairs in
    ``reported``, are Alembic's type differences already: their type name is not repeated.
    """
    from sqlalchemy import Enum, inspect

    if connection.dialect.name != "postgresql":
        return []
    reflected = {c["name"]: c["type"] for c in inspect(connection).get_columns(table.name)}
    lines: list[str] = []
    for column in table.columns:
        wanted = column.type.dialect_impl(connection.dialect)
        found = reflected.get(column.name)
        if not (isinstance(wanted, Enum) and wanted.native_enum and isinstance(found, Enum)):
            continue
        where = f"column {table.name}.{column.name}"
        if found.name != wanted.name and (table.name, column.name) not in reported:
            lines.append(
                f"{where}: enum type {found.name} in the schema, {wanted.name} in the models "
                f"(asyncpg casts every write to ::{wanted.name})"
            )
        if list(found.enums) != list(wanted.enums):
            lines.append(
                f"{where}: enum labels {list(found.enums)} in the schema, "
                f"{list(wanted.enums)} in the models"
            )
    return lines


def schema_object_drift(
    connection: Connection,
    metadata: MetaData,
    reported: frozenset[tuple[str, str]] = frozenset(),
) -> list[str]:
    """CHECK and enum differences of every ``metadata`` table the database has.

    ``reported``: the ``(table, column)`` pairs whose type Alembic reported as different.
    """
    from sqlalchemy import inspect

    existing = set(inspect(connection).get_table_names())
    lines: list[str] = []
    for table in metadata.sorted_tables:
        if table.schema is None and table.name in existing:
            lines += check_constraint_drift(connection, table)
            lines += enum_type_drift(connection, table, reported)
    return lines
