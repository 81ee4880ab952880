"""``process_revision_directives``: adopt the contract on an existing table, unedited.

Autogenerate against a ``session_errors`` table that stores the enums as VARCHAR and has no
CHECKs writes bare ``alter_column`` type changes: PostgreSQL refuses them (the enum types do not
exist, and VARCHAR cannot be cast to an enum without ``USING``), and Alembic does not compare
CHECK constraints at all. The hook completes the revision: every column changed to a named enum
gets a check of its stored values, the enum type created first, a ``USING`` cast (and the type
dropped after the columns went back, in ``downgrade()``); every named CHECK of the models that
the database lacks is created (and dropped in ``downgrade()``). Combine it with
``render_as_batch=True`` so SQLite can add the CHECKs (its tables are rebuilt to change them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sessionerror.errors import ErrorDataValidationError
from sessionerror.models.contract import CHECKS, column_rule

__all__ = ["process_revision_directives", "require_values"]

#: At most this many offending values are named by :func:`require_values`.
_SHOWN = 5


def process_revision_directives(context: Any, revision: Any, directives: list[Any]) -> None:
    """Alembic hook: enum types created and cast with USING, missing CHECKs added, all undone.

    Pass it as ``process_revision_directives=`` to ``context.configure()`` in ``env.py``.
    Tables filtered out by ``include_name`` / ``include_object`` are left alone. (Alembic also
    calls the hook for a plain ``alembic revision`` when ``revision_environment`` is on: that
    revision then gets the missing CHECKs too.)
    """
    if not directives or context.connection is None:
        return
    script = directives[0]
    upgrades = getattr(script, "upgrade_ops_list", None) or []
    downgrades = getattr(script, "downgrade_ops_list", None) or []
    for upgrade_ops, downgrade_ops in zip(upgrades, downgrades, strict=True):
        _adopt(context, upgrade_ops, downgrade_ops)


def require_values(
    table: str, column: str, allowed: Sequence[str], *, schema: str | None = None
) -> None:
    """In a migration: raise when ``table.column`` holds a value outside ``allowed``.

    The message names the column, the values found (with their row counts) and the allowed
    ones, instead of the database's cast or CHECK error. Does nothing in offline (``--sql``) mode.
    """
    import sqlalchemy as sa
    from alembic import context, op

    if context.is_offline_mode():
        return
    target = sa.table(table, sa.column(column), schema=schema)
    values = target.c[column]
    statement = (
        sa.select(values, sa.func.count())
        .where(values.not_in(list(allowed)))
        .group_by(values)
        .order_by(values)
    )
    rows = op.get_bind().execute(statement).all()
    if not rows:
        return
    found = ", ".join(
        f"{value!r} ({count} row{'' if count == 1 else 's'})" for value, count in rows[:_SHOWN]
    )
    more = f" and {len(rows) - _SHOWN} other value(s)" if len(rows) > _SHOWN else ""
    names = [repr(str(value)) for value, _count in rows if str(value).lower() in allowed]
    hint = (
        f" ({', '.join(names)} {'is a member name' if len(names) == 1 else 'are member names'}"
        ": the contract stores values)"
        if names
        else ""
    )
    raise ErrorDataValidationError(
        f"{table}.{column} holds {found}{more}, not one of {', '.join(map(repr, allowed))}"
        f"{hint}: update or delete those rows, then run the upgrade again",
        field=column,
    )


def _adopt(context: Any, upgrade_ops: Any, downgrade_ops: Any) -> None:
    from sessionerror.autogenerate import ops as adopt_ops

    checks: list[Any] = []
    created_enums: dict[str, list[str]] = {}
    existing_enums = _database_enums(context.connection)
    for table_ops in list(upgrade_ops.ops):
        for index, operation in enumerate(getattr(table_ops, "ops", [])):
            enum = _enum_conversion(operation)
            if enum is None:
                continue
            table, column = operation.table_name, operation.column_name
            table_ops.ops[index] = adopt_ops.CastAlterColumnOp(operation, _cast(column, enum))
            checks.append(
                adopt_ops.RequireValuesOp(table, column, list(enum.enums), operation.schema)
            )
            if enum.name not in existing_enums:
                created_enums.setdefault(enum.name, list(enum.enums))
    for table, missing in _missing_checks(context, upgrade_ops):
        up = adopt_ops.table_ops(upgrade_ops, table.name, table.schema, first=False)
        down = adopt_ops.table_ops(downgrade_ops, table.name, table.schema, first=True)
        for name, sql in sorted(missing.items()):
            up.ops.append(adopt_ops.AddCheckOp(table.name, name, sql))
            down.ops.insert(0, adopt_ops.DropCheckOp(table.name, name, list(sql)))
            checks += _value_checks(table, name, adopt_ops)
    creates = [adopt_ops.CreateEnumOp(name, values) for name, values in created_enums.items()]
    upgrade_ops.ops[0:0] = [*checks, *creates]
    downgrade_ops.ops.extend(adopt_ops.DropEnumOp(name) for name in created_enums)


def _enum_conversion(operation: Any) -> Any:
    """The named SQL enum an ``alter_column`` changes a non-enum column to, else None."""
    from alembic.operations import ops
    from sqlalchemy import Enum

    if not isinstance(operation, ops.AlterColumnOp):
        return None
    new, old = operation.modify_type, operation.existing_type
    if not isinstance(new, Enum) or not new.name or not new.native_enum:
        return None  # a non-native enum is a VARCHAR with a CHECK: alter_column adds it
    if isinstance(old, Enum):
        return None
    return new


def _cast(column: str, enum: Any) -> str:
    """``column::enum_type`` for PostgreSQL's USING, names quoted where PostgreSQL needs it."""
    schema = f"{_quote(enum.schema)}." if enum.schema else ""
    return f"{_quote(column)}::{schema}{_quote(enum.name)}"


def _quote(name: str) -> str:
    from sqlalchemy.dialects.postgresql.base import RESERVED_WORDS

    if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) and name not in RESERVED_WORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def _database_enums(connection: Any) -> set[str]:
    if connection.dialect.name != "postgresql":
        return set()
    from sqlalchemy import inspect

    return {str(enum["name"]) for enum in inspect(connection).get_enums()}


def _missing_checks(context: Any, upgrade_ops: Any) -> list[tuple[Any, dict[str, Any]]]:
    """Per existing table: the named CHECKs of the models the database lacks, SQL per dialect."""
    from sqlalchemy import inspect

    inspector = inspect(context.connection)
    dialect = context.connection.dialect.name
    found: list[tuple[Any, dict[str, Any]]] = []
    for table in _compared_tables(context, upgrade_ops):
        if not inspector.has_table(table.name, schema=table.schema):
            continue
        reflected = inspector.get_check_constraints(table.name, schema=table.schema)
        present = {check["name"] for check in reflected}
        missing = {
            name: sql
            for name, sql in _named_checks(table).items()
            if name not in present and (None in sql or dialect in sql)
        }
        if missing:
            found.append((table, missing))
    return found


def _compared_tables(context: Any, upgrade_ops: Any) -> list[Any]:
    """The target metadata's tables autogenerate compares (include_name / include_object
    honoured), minus the ones this revision creates."""
    from alembic.autogenerate.api import AutogenContext
    from alembic.operations import ops

    metadata = context.opts.get("target_metadata")
    if metadata is None:
        return []
    autogen = AutogenContext(context)
    created = {
        (op.schema, op.table_name) for op in upgrade_ops.ops if isinstance(op, ops.CreateTableOp)
    }
    return [
        table
        for meta in (metadata if isinstance(metadata, list | tuple) else [metadata])
        for table in meta.sorted_tables
        if (table.schema, table.name) not in created
        and autogen.run_name_filters(table.name, "table", {"schema_name": table.schema})
        and autogen.run_object_filters(table, table.name, "table", False, None)
    ]


def _named_checks(table: Any) -> dict[str, dict[str | None, str]]:
    """The table's named CHECKs, not bound to a type: name -> {dialect or None: SQL}."""
    from sqlalchemy import CheckConstraint

    checks: dict[str, dict[str | None, str]] = {}
    for constraint in table.constraints:
        if not isinstance(constraint, CheckConstraint) or not isinstance(constraint.name, str):
            continue
        if getattr(constraint, "_type_bound", False):
            continue  # an Enum's or Boolean's: created by its alter_column
        dialect = getattr(getattr(constraint, "_ddl_if", None), "dialect", None)
        key = dialect if isinstance(dialect, str) else None
        checks.setdefault(constraint.name, {})[key] = str(constraint.sqltext)
    return checks


def _value_checks(table: Any, name: str, adopt_ops: Any) -> list[Any]:
    """A contract CHECK that limits a column to an enum's values gets its values checked."""
    for rule in CHECKS:
        if name != rule.name and not name.endswith(f"_{rule.name}"):
            continue
        values = column_rule(rule.column).enum_values
        if values and rule.column in table.c:
            return [adopt_ops.RequireValuesOp(table.name, rule.column, values, table.schema)]
    return []
