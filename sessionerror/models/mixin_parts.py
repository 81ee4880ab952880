"""Building blocks of :class:`~sessionerror.models.mixin.SessionErrorMixin`.

The contract's DDL pieces (column order, CHECK constraints, named enums) and the value copies
that let the check before a write skip what was not changed since it was validated.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint
from sqlalchemy import Enum as SQLEnum

from sessionerror.models.contract import COLUMN_NAMES, CheckRule, column_rule
from sessionerror.models.enums import enum_values

__all__ = ["check_constraints", "contract_order", "enum_type", "same_value", "structure_copy"]


def contract_order(column: str) -> int:
    """The column's position in the contract (its place in CREATE TABLE)."""
    return COLUMN_NAMES.index(column)


def check_constraints(rule: CheckRule) -> list[CheckConstraint]:
    """The CHECK constraint of ``rule``, one per dialect unless its SQL is portable."""
    if "*" in rule.sql:
        return [CheckConstraint(rule.sql["*"], name=rule.name)]
    return [
        CheckConstraint(sql, name=rule.name).ddl_if(dialect=dialect)
        for dialect, sql in rule.sql.items()
    ]


def structure_copy(value: Any) -> Any:
    """Copy the dicts and lists of an already validated value (strings are shared).

    The value is at most MAX_NESTING_DEPTH levels deep (validated), so recursion is bounded.
    """
    if isinstance(value, dict):
        return {key: structure_copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [structure_copy(item) for item in value]
    return value


def same_value(current: Any, clean: Any) -> bool:
    """True if ``current`` still equals the clean copy, same types at every level.

    The comparison descends only as deep as the clean copy (bounded), so a value made deeper in
    place cannot raise RecursionError here; it is simply "changed".
    """
    if isinstance(clean, dict):
        return (
            isinstance(current, dict)
            and current.keys() == clean.keys()
            and all(same_value(current[key], item) for key, item in clean.items())
        )
    if isinstance(clean, list):
        return (
            isinstance(current, list)
            and len(current) == len(clean)
            and all(same_value(a, b) for a, b in zip(current, clean, strict=True))
        )
    return type(current) is type(clean) and bool(current == clean)


def enum_type(column: str) -> SQLEnum:
    """The named SQL enum of contract column ``column``.

    values_callable: the database stores 'user_fixable', never the member name USER_FIXABLE.
    """
    rule = column_rule(column)
    if rule.enum is None:
        raise ValueError(f"contract column {column} is not an enum")
    return SQLEnum(
        rule.enum,
        name=rule.enum_type_name,
        values_callable=enum_values,
        validate_strings=True,
        create_constraint=True,
    )
