"""Schema checks of the enum columns and the contract's CHECK constraints, with their fixes.

On PostgreSQL an enum column must use the enum type *named* as the model declares it
(:data:`~sessionerror.models.contract.ENUM_TYPE_NAMES`): asyncpg casts every written value to
that name, so a VARCHAR column or a type of another name refuses every write of the model, however
right its labels are. Every fix creates exactly that name, and applied verbatim makes the next
check pass.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import types as sqltypes

from sessionerror.check.catalog import (
    CatalogSchema,
    pg_enum_labels,
    pg_type_column_count,
)
from sessionerror.check.report import CheckResult, CheckStatus, Fix
from sessionerror.models.contract import SESSION_ERRORS_TABLE, CheckRule, ColumnRule, column_rule
from sessionerror.models.ddl import (
    SQLITE_REBUILD,
    check_constraint_ddl,
    check_constraint_sqlalchemy,
    column_ddl,
    column_sqlalchemy,
    enum_column_ddl,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

__all__ = ["check_constraint_fix", "check_contract_constraint", "check_enum", "enum_fix"]

_TABLE = SESSION_ERRORS_TABLE


def _result(check_id: str, title: str, problems: list[str], expected: str, fix: Fix) -> CheckResult:
    if problems:
        return CheckResult(check_id, title, CheckStatus.FAIL, "; ".join(problems), expected, fix)
    return CheckResult(check_id, title, CheckStatus.PASS, expected=expected)


def _enum_type_of(schema: CatalogSchema, name: str) -> str | None:
    """The enum type name of column ``name`` on PostgreSQL, None for any other type."""
    type_ = schema.columns[name]["type"]
    if isinstance(type_, sqltypes.Enum) and type_.name:
        return str(type_.name)
    return None


def enum_fix(conn: Connection, schema: CatalogSchema, column: ColumnRule) -> Fix:
    """The fix giving ENUM ``column`` the contract's type (PostgreSQL) or CHECK (SQLite).

    On PostgreSQL the DDL depends on what exists: a type of the contract's name with other
    labels is renamed away, the column's old type is dropped when nothing else uses it.
    """
    name = column.name
    enum_class = column.enum.__name__ if column.enum else ""
    sqlalchemy = f"{name}: Mapped[{enum_class}] = {column_sqlalchemy(column)}"
    if not schema.is_pg():
        ddl = SQLITE_REBUILD.format(piece=column_ddl(column, "sqlite")) + (
            f"; UPDATE {_TABLE} SET {name} = lower({name})"
        )
        return Fix(ddl, sqlalchemy)
    type_name = str(column.enum_type_name)
    current = _enum_type_of(schema, name) if name in schema.columns else None
    existing = pg_enum_labels(conn, type_name)
    right_labels = sorted(existing) == sorted(column.enum_values)
    renamed = f"{type_name}_old" if existing and not right_labels else None
    drop: list[str] = []
    if renamed and current == type_name:
        drop.append(renamed)
    elif current and current != type_name and pg_type_column_count(conn, current) <= 1:
        drop.append(current)
    if renamed and renamed not in drop and pg_type_column_count(conn, type_name) == 0:
        drop.append(renamed)
    ddl = enum_column_ddl(
        column,
        create_type=not existing or renamed is not None,
        rename_existing_to=renamed,
        drop_default=bool(schema.columns.get(name, {}).get("default")),
        drop_types=tuple(drop),
    )
    return Fix(ddl, sqlalchemy)


def _labels_from_checks(schema: CatalogSchema, name: str) -> tuple[list[str], str] | None:
    """The quoted labels of the first CHECK mentioning column ``name``, and its text."""
    pattern = re.compile(rf"\b{name}\b")
    for check in schema.checks:
        sqltext = str(check["sqltext"])
        if pattern.search(sqltext):
            return re.findall(r"'([^']*)'", sqltext), f"CHECK ({sqltext})"
    return None


def check_enum(conn: Connection, schema: CatalogSchema, column: ColumnRule) -> CheckResult:
    """``schema.enum.<column>``: exactly the spec's values; on PostgreSQL through the enum type
    named as the model binds it."""
    name = column.name
    check_id, title = f"schema.enum.{name}", f"{name} accepts exactly the spec's values"
    wanted = column.enum_values
    type_name = str(column.enum_type_name)
    expected = f"values {', '.join(wanted)}"
    if schema.is_pg():
        expected = f"enum type {type_name} with {expected}"
    if name not in schema.columns:
        return CheckResult(check_id, title, CheckStatus.SKIP, reason=f"column {name} missing")
    problems: list[str] = []
    allowed: list[str] | None = None
    source = ""
    current = _enum_type_of(schema, name) if schema.is_pg() else None
    if current is not None:
        allowed, source = pg_enum_labels(conn, current), f"enum type {current}"
        if current != type_name:
            problems.append(
                f"{name} uses enum type {current}, but the model binds {type_name}: asyncpg "
                f"casts every write to ::{type_name}"
            )
    else:
        found = _labels_from_checks(schema, name)
        if found is not None:
            allowed, source = found
        if schema.is_pg():
            shown = schema.columns[name]["type"].compile(dialect=conn.dialect)
            problems.append(
                f"{name} is {shown}, not the enum type {type_name} the "
                f"model binds: asyncpg casts every write to ::{type_name}"
            )
    if allowed is None:
        problems.append(f"{name} accepts any text (no enum type, no CHECK constraint)")
    elif sorted(allowed) == sorted(column.enum_names):
        problems.append(
            f"enum stored as NAMES ({', '.join(allowed)}) in {source}: "
            "Enum() without values_callable stores member names"
        )
    elif sorted(allowed) != sorted(wanted):
        problems.append(f"{source} allows {', '.join(allowed) or 'nothing'}")
    fix = enum_fix(conn, schema, column) if problems else Fix("", "")
    return _result(check_id, title, problems, expected, fix)


def check_constraint_fix(rule: CheckRule, dialect: str) -> Fix:
    """How to add the contract CHECK ``rule`` on ``dialect`` (DDL and SQLAlchemy)."""
    return Fix(check_constraint_ddl(rule, dialect), check_constraint_sqlalchemy(rule, dialect))


def _matches(rule: CheckRule, sqltext: str) -> bool:
    """Whether a database CHECK's text does what ``rule`` does (its labels or its markers)."""
    column = column_rule(rule.column)
    if column.enum is not None:
        return sorted(set(re.findall(r"'([^']*)'", sqltext))) == sorted(column.enum_values)
    lowered = sqltext.lower()
    return all(marker in lowered for marker in rule.markers)


def check_contract_constraint(schema: CatalogSchema, rule: CheckRule) -> CheckResult:
    """``schema.check.<rule>``: a CHECK on the rule's column doing what the contract's does."""
    dialect = "postgresql" if schema.is_pg() else "sqlite"
    pattern = re.compile(rf"\b{rule.column}\b")
    on_column = [str(c["sqltext"]) for c in schema.checks if pattern.search(str(c["sqltext"]))]
    problems = []
    if not any(_matches(rule, sqltext) for sqltext in on_column):
        problem = f"no CHECK constraint on {rule.column}"
        if on_column:
            problem += f" that {rule.purpose} (found CHECK ({'), CHECK ('.join(on_column)}))"
        problems.append(f"{problem}; the database accepts {rule.bad_example}")
    return _result(
        f"schema.check.{rule.name}",
        f"a CHECK {rule.purpose}",
        problems,
        f"a CHECK that {rule.purpose}: {rule.sql_for(dialect)}",
        check_constraint_fix(rule, dialect),
    )
