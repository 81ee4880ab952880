"""The operations :func:`~sessionerror.autogenerate.process_revision_directives` adds, rendered.

Imported only when the hook runs (Alembic is an optional extra). Every operation renders as
plain Alembic/SQLAlchemy code that runs on PostgreSQL and SQLite alike: ``sa.Enum.create`` is a
no-op where enums are not native, ``postgresql_using`` is ignored off PostgreSQL, and a CHECK
whose SQL differs per dialect is created under ``if op.get_bind().dialect.name == ...``.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops
from sqlalchemy.sql.elements import conv

__all__ = [
    "AddCheckOp",
    "CastAlterColumnOp",
    "CreateEnumOp",
    "DropCheckOp",
    "DropEnumOp",
    "RequireValuesOp",
]

_INDENT = " " * 11  # Alembic's continuation indent of alter_column arguments


class CastAlterColumnOp(ops.AlterColumnOp):
    """``alter_column`` to a named enum, with the PostgreSQL ``USING`` cast it needs."""

    def __init__(self, original: ops.AlterColumnOp, using: str) -> None:
        self.__dict__.update(original.__dict__)
        self.using = using


class CreateEnumOp(ops.MigrateOperation):
    """Create a named enum type (PostgreSQL) before a column is cast to it."""

    def __init__(self, name: str, values: list[str]) -> None:
        self.name = name
        self.values = values


class DropEnumOp(ops.MigrateOperation):
    """Drop a named enum type (PostgreSQL) once no column uses it."""

    def __init__(self, name: str) -> None:
        self.name = name


class RequireValuesOp(ops.MigrateOperation):
    """Stop the upgrade, naming the column and the values, when a row holds another value."""

    def __init__(self, table: str, column: str, values: list[str], schema: str | None) -> None:
        self.table = table
        self.column = column
        self.values = values
        self.schema = schema


class AddCheckOp(ops.MigrateOperation):
    """Create a named CHECK: ``sql`` maps a dialect (None: every dialect) to its SQL."""

    def __init__(self, table: str, name: str, sql: dict[str | None, str]) -> None:
        self.table = table
        self.name = name
        self.sql = sql


class DropCheckOp(ops.MigrateOperation):
    """Drop a named CHECK on the dialects it was created on (None: every dialect)."""

    def __init__(self, table: str, name: str, dialects: list[str | None]) -> None:
        self.table = table
        self.name = name
        self.dialects = dialects


def _prefixes(autogen_context: AutogenContext) -> tuple[str, str]:
    sa = autogen_context.opts.get("sqlalchemy_module_prefix") or ""
    op = autogen_context.opts.get("alembic_module_prefix") or ""
    return str(sa), str(op)


def _name(name: str, op: str) -> str:
    return f"{op}f({str(name)!r})" if isinstance(name, conv) else repr(name)


def _in_batch(autogen_context: AutogenContext) -> bool:
    return bool(autogen_context.opts.get("render_as_batch"))


def _on_dialects(dialects: list[str | None], line: str, op: str) -> list[str]:
    if None in dialects:
        return [line]
    names = sorted(str(dialect) for dialect in dialects)
    test = f"== {names[0]!r}" if len(names) == 1 else f"in {tuple(names)!r}"
    # A line ending in ':' opens a block in Alembic's printer; an empty line closes it.
    return [f"if {op}get_bind().dialect.name {test}:", line, ""]


@renderers.dispatch_for(CastAlterColumnOp)
def _render_cast(autogen_context: AutogenContext, operation: CastAlterColumnOp) -> str:
    text = str(renderers.dispatch(ops.AlterColumnOp)(autogen_context, operation))
    return f"{text[:-1]},\n{_INDENT}postgresql_using={operation.using!r})"


@renderers.dispatch_for(CreateEnumOp)
def _render_create_enum(autogen_context: AutogenContext, operation: CreateEnumOp) -> str:
    sa, op = _prefixes(autogen_context)
    values = ", ".join(repr(value) for value in operation.values)
    return f"{sa}Enum({values}, name={operation.name!r}).create({op}get_bind(), checkfirst=True)"


@renderers.dispatch_for(DropEnumOp)
def _render_drop_enum(autogen_context: AutogenContext, operation: DropEnumOp) -> str:
    sa, op = _prefixes(autogen_context)
    return f"{sa}Enum(name={operation.name!r}).drop({op}get_bind(), checkfirst=True)"


@renderers.dispatch_for(RequireValuesOp)
def _render_require(autogen_context: AutogenContext, operation: RequireValuesOp) -> str:
    autogen_context.imports.add("from sessionerror.autogenerate import require_values")
    schema = f", schema={operation.schema!r}" if operation.schema else ""
    return (
        f"require_values({operation.table!r}, {operation.column!r}, {operation.values!r}{schema})"
    )


@renderers.dispatch_for(AddCheckOp)
def _render_add_check(autogen_context: AutogenContext, operation: AddCheckOp) -> list[str]:
    _sa, op = _prefixes(autogen_context)
    prefix, table = (
        ("batch_op.", "") if _in_batch(autogen_context) else (op, f", {operation.table!r}")
    )
    lines: list[str] = []
    for dialect, sql in sorted(operation.sql.items(), key=lambda item: str(item[0])):
        call = f"{prefix}create_check_constraint({_name(operation.name, op)}{table}, {sql!r})"
        lines += _on_dialects([dialect], call, op)
    return lines


@renderers.dispatch_for(DropCheckOp)
def _render_drop_check(autogen_context: AutogenContext, operation: DropCheckOp) -> list[str]:
    _sa, op = _prefixes(autogen_context)
    prefix, table = (
        ("batch_op.", "") if _in_batch(autogen_context) else (op, f", {operation.table!r}")
    )
    call = f"{prefix}drop_constraint({_name(operation.name, op)}{table}, type_='check')"
    return _on_dialects(operation.dialects, call, op)


def table_ops(container: Any, table: str, schema: str | None, *, first: bool) -> Any:
    """The ``ModifyTableOps`` of ``table`` in ``container``, added (first or last) if missing."""
    for operation in container.ops:
        if (
            isinstance(operation, ops.ModifyTableOps)
            and operation.table_name == table
            and operation.schema == schema
        ):
            return operation
    created = ops.ModifyTableOps(table, [], schema=schema)
    container.ops.insert(0 if first else len(container.ops), created)
    return created
