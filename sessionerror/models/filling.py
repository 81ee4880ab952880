"""A team's schema read from its classes: parents found from foreign keys, columns filled by type.

One place for what the factories of a team's model (:func:`sessionerror.factories.factories_for`)
and the conformance suite both need: the table a foreign-key column points at, the class mapped
to it, which columns need a value (NOT NULL, no default of their own) and a value of the right
type for a NOT NULL column the kit does not know (string within its length, integer, boolean,
datetime, UUID, enum, JSON...). A column no value can be made for is an
:class:`UnfillableColumnError` naming ``table.column``.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Enum, Table, TypeDecorator
from sqlalchemy.orm import Mapper

from sessionerror.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy import Column

__all__ = [
    "UnfillableColumnError",
    "fill_value",
    "is_generated_key",
    "mapped_class",
    "needs_value",
    "parent_table",
    "type_filler",
    "unfillable",
]


class UnfillableColumnError(UsageError):
    """A NOT NULL column the kit cannot make a value for (a foreign key, a custom type...)."""


def parent_table(model: type[Any], column: str) -> Table | None:
    """The table ``model.<column>`` references, or None when it has no foreign key."""
    table: Table = model.__table__
    if column not in table.c:
        return None
    for foreign_key in table.c[column].foreign_keys:
        target = foreign_key.column.table
        return target if isinstance(target, Table) else None
    return None


def mapped_class(model: type[Any], table: Table) -> type[Any] | None:
    """The class of ``model``'s registry mapped to ``table`` (the base of an inheritance tree)."""
    mapper: Mapper[Any] = model.__mapper__
    for candidate in mapper.registry.mappers:
        if candidate.local_table is table and candidate.inherits is None:
            return candidate.class_
    return None


def needs_value(column: Column[Any]) -> bool:
    """NOT NULL with no default of its own (a primary key reports nullable=False)."""
    return not (
        column.nullable
        or column.default is not None
        or column.server_default is not None
        or column.identity is not None
        or column.computed is not None
    )


def _python_type(column: Column[Any]) -> type | None:
    try:
        python_type: type = column.type.python_type
    except NotImplementedError:
        return None
    return python_type


def is_generated_key(column: Column[Any]) -> bool:
    """An integer primary key: the database generates it."""
    return bool(column.primary_key) and _python_type(column) is int


def _base_type(column: Column[Any]) -> Any:
    type_ = column.type
    return type_.impl_instance if isinstance(type_, TypeDecorator) else type_


def _enum_of(column: Column[Any]) -> Enum | None:
    type_ = _base_type(column)
    return type_ if isinstance(type_, Enum) and type_.enums else None


def _text_filler(column: Column[Any]) -> Callable[[], str]:
    """Distinct strings (``jira_user_id-1``, ``-2``...) within the column's length."""
    length = getattr(column.type, "length", None)
    counter = itertools.count(1)
    prefix = column.name

    def fill() -> str:
        n = next(counter)
        text = f"{prefix}-{n}"
        if length and len(text) > length:
            text = str(n)[-length:]
        return text

    return fill


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


def _naive_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _aware_utc() -> datetime:
    return datetime.now(UTC)


def type_filler(column: Column[Any]) -> Callable[[], Any] | None:
    """A function giving a fresh value of ``column``'s type, or None when the kit knows none.

    Strings are distinct and within the column's length; integers count up; UUIDs are new;
    datetimes are now (UTC; naive for a column without time zone); an enum gives its first
    member; JSON an empty document.
    """
    enum = _enum_of(column)
    if enum is not None:
        first = next(iter(enum.enum_class)) if enum.enum_class is not None else enum.enums[0]
        return _constant(first)
    if isinstance(_base_type(column), JSON):
        return dict
    python_type = _python_type(column)
    if python_type is None:
        return None
    if python_type is str:
        return _text_filler(column)
    if python_type is int:
        counter = itertools.count(1)
        return lambda: next(counter)
    if python_type is datetime:
        return _aware_utc if getattr(column.type, "timezone", False) else _naive_utc
    makers: dict[type, Callable[[], Any]] = {
        bool: _constant(False),
        float: _constant(0.0),
        Decimal: lambda: Decimal(0),
        date: lambda: datetime.now(UTC).date(),
        time: lambda: time(0, 0),
        timedelta: lambda: timedelta(0),
        uuid.UUID: uuid.uuid4,
        dict: dict,
        list: list,
        bytes: _constant(b""),
    }
    return makers.get(python_type)


def unfillable(column: Column[Any], how: str) -> UnfillableColumnError:
    """The one-line error for a NOT NULL column the kit cannot fill; ``how`` says how to declare
    a value for it."""
    table = column.table.name if isinstance(column.table, Table) else "?"
    if column.foreign_keys:
        target = next(iter(column.foreign_keys)).target_fullname
        kind = f"a NOT NULL foreign key to {target}, a table the kit does not know"
    else:
        kind = f"NOT NULL of type {column.type!r}, which the kit cannot make a value of"
    return UnfillableColumnError(f"{table}.{column.name} is {kind}. Fix: {how}")


def fill_value(column: Column[Any], how: str) -> Any:
    """One value for ``column`` (see :func:`type_filler`); :class:`UnfillableColumnError`
    (naming ``table.column`` and ``how`` to declare it) when the kit knows none."""
    filler = None if column.foreign_keys else type_filler(column)
    if filler is None:
        raise unfillable(column, how)
    return filler()
