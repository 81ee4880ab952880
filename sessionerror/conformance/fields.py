"""Spec §4 "Core Fields" and "Enum Definitions": the 12 columns, their types, and enum values.

The columns are read from the class's mapping (no database needed); the enum clause also writes
one error and reads what the database stored.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum as Enum_
from typing import Any

from sqlalchemy import JSON, DateTime, Enum, String, inspect
from sqlalchemy.types import TypeDecorator, TypeEngine

from sessionerror.conformance.harness import Harness
from sessionerror.conformance.report import ClauseResult, fail, passed
from sessionerror.models.enums import ErrorCategory, ErrorSeverity, enum_values

__all__ = ["check_enum_storage", "check_fields"]

_FIELDS_TITLE = "Core Fields (12 total): names, types, NULL/NOT NULL"
_ENUMS_TITLE = "Enum Definitions: enums stored as their values ('user_fixable'), not names"

#: Column -> (kind, nullable) per spec §4.
SPEC_FIELDS: dict[str, tuple[str, bool]] = {
    "id": ("uuid", False),
    "session_id": ("uuid", False),
    "error_category": ("enum", False),
    "severity": ("enum", False),
    "operation_stage": ("string", False),
    "related_file_id": ("uuid", True),
    "related_ticket_id": ("uuid", True),
    "user_message": ("string", False),
    "recovery_actions": ("json", False),
    "technical_details": ("json", False),
    "error_code": ("string", True),
    "created_at": ("datetime", False),
}
_ENUMS: dict[str, type[Enum_]] = {"error_category": ErrorCategory, "severity": ErrorSeverity}
_DECLARATIONS = {
    "uuid": "mapped_column(Uuid)",
    "enum": "mapped_column(Enum(<Enum>, values_callable=lambda e: [m.value for m in e]))",
    "string": "mapped_column(String(...)) or Text",
    "json": "mapped_column(JSON) (JSONB on PostgreSQL)",
    "datetime": "mapped_column(DateTime(timezone=True))",
}


def _base_type(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    while isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    return type_


def _kind(type_: TypeEngine[Any]) -> str:
    base = _base_type(type_)
    if isinstance(base, Enum):
        return "enum"
    if isinstance(base, JSON):
        return "json"
    if isinstance(base, DateTime):
        return "datetime"
    try:
        python_type = base.python_type
    except NotImplementedError:
        return type(base).__name__
    if python_type is uuid.UUID:
        return "uuid"
    if python_type is datetime:
        return "datetime"
    return "string" if isinstance(base, String) else type(base).__name__


def check_fields(model: type[Any]) -> ClauseResult:
    """The 12 spec columns, each of the spec's kind and nullability."""
    columns = {column.key: column for column in inspect(model).columns}
    problems = [f"{name} is missing" for name in SPEC_FIELDS if name not in columns]
    for name, (kind, nullable) in SPEC_FIELDS.items():
        if name not in columns:
            continue
        column = columns[name]
        found = _kind(column.type)
        if found != kind:
            problems.append(f"{name} is {found} ({column.type!r}), not {kind}")
        if bool(column.nullable) != nullable:
            problems.append(f"{name} is {'NULL' if column.nullable else 'NOT NULL'}")
    if problems:
        fixes = sorted({_DECLARATIONS[SPEC_FIELDS[p.split()[0]][0]] for p in problems})
        return fail(
            "§4.fields",
            _FIELDS_TITLE,
            "; ".join(problems),
            "id, session_id, error_category, severity, operation_stage, related_file_id, "
            "related_ticket_id, user_message, recovery_actions, technical_details, error_code, "
            "created_at as in spec §4 (Optional ones NULL)",
            "declare them as SessionErrorMixin does: " + "; ".join(fixes),
        )
    return passed("§4.fields", _FIELDS_TITLE, "the 12 fields of spec §4")


def check_enum_storage(harness: Harness) -> ClauseResult:
    """Both enum columns declare and store the members' values."""
    expected = "error_category stores 'admin_required', severity stores 'warning'"
    fix = (
        "Enum(ErrorCategory, name='error_category', values_callable=lambda e: [m.value for m "
        "in e]) (and the same for severity); without values_callable SQLAlchemy stores names"
    )
    problems: list[str] = []
    for name, enum_class in _ENUMS.items():
        column = harness.table.c.get(name)
        base = _base_type(column.type) if column is not None else None
        if isinstance(base, Enum) and set(base.enums) != set(enum_values(enum_class)):
            problems.append(f"{name} declares {sorted(base.enums)}")
    with harness.orm() as db:
        parents = harness.parents(db)
        error = harness.add_error(
            db,
            parents.session_1,
            error_category=ErrorCategory.ADMIN_REQUIRED,
            severity=ErrorSeverity.WARNING,
        )
        stored = {name: harness.stored(db, error.id, name) for name in _ENUMS}
    for name, value in (("error_category", "admin_required"), ("severity", "warning")):
        if stored[name] != value:
            problems.append(f"{name} stored {stored[name]!r}")
    if problems:
        return fail("§4.enums", _ENUMS_TITLE, "; ".join(problems), expected, fix)
    return passed("§4.enums", _ENUMS_TITLE, expected)
