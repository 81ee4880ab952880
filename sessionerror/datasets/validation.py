"""Internal: the validation of a data set document (:mod:`sessionerror.datasets`), no database.

Every record is checked before anything is written; the first problem raises
:class:`DatasetError` (exported by :mod:`sessionerror.datasets`) naming the file, the record
and the field.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sessionerror.errors import ErrorDataValidationError, SessionErrorKitError
from sessionerror.models.enums import ErrorCategory
from sessionerror.models.validation import (
    validate_error_fields,
    validate_operation_stage,
    validate_uuid,
)

__all__ = ["DatasetError", "validated"]


class DatasetError(SessionErrorKitError, ValueError):
    """A data set could not be found or is invalid; nothing was loaded.

    ``file``, ``record`` (e.g. ``sessions[0].errors[2]``) and ``field`` say where.
    """

    default_category = ErrorCategory.USER_FIXABLE

    def __init__(
        self, message: str, *, file: str, record: str | None = None, field: str | None = None
    ) -> None:
        where = file
        if record:
            where += f": {record}"
        if field:
            where += f"{'.' if record else ': '}{field}"
        super().__init__(f"{where}: {message}")
        self.file = file
        self.record = record
        self.field = field


#: The fields each record may have (anything else is refused, naming the allowed ones).
_TOP_FIELDS = frozenset({"description", "sessions"})
_SESSION_FIELDS = frozenset(
    {"key", "id", "name", "current_stage", "created_days_ago", "files", "tickets", "errors"}
)
_FILE_FIELDS = frozenset({"key", "id", "filename"})
_TICKET_FIELDS = frozenset({"key", "id", "summary", "jira_key"})
_ERROR_FIELDS = frozenset(
    {"key", "id", "category", "severity", "stage", "user_message", "recovery_actions"}
    | {"technical_details", "error_code", "file", "ticket", "minutes_ago"}
)


@dataclass
class _Plan:
    """Validated rows, ready to be inserted."""

    description: str
    sessions: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    files: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    tickets: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    errors: list[tuple[str, str, str | None, str | None, dict[str, Any]]] = field(
        default_factory=list
    )


class _Checker:
    """Checks one file's records; every failure names the file, the record and the field."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.keys: dict[str, str] = {}
        self.ids: dict[uuid.UUID, str] = {}

    def fail(self, message: str, record: str | None = None, field: str | None = None) -> NoReturn:
        raise DatasetError(message, file=self.file, record=record, field=field)

    def obj(self, value: object, record: str, fields: frozenset[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(f"expected a JSON object, got {type(value).__name__}", record)
        unknown = sorted(set(value) - fields)
        if unknown:
            self.fail(f"unknown field; allowed: {', '.join(sorted(fields))}", record, unknown[0])
        return value

    def items(self, parent: dict[str, Any], name: str, record: str) -> list[Any]:
        value = parent.get(name, [])
        if not isinstance(value, list):
            self.fail(f"expected a list, got {type(value).__name__}", record, name)
        return list(value)

    def text(self, data: dict[str, Any], name: str, record: str, limit: int) -> str:
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            self.fail("required non-blank string", record, name)
        if len(value) > limit:
            self.fail(f"longer than {limit} characters", record, name)
        return value

    def key(self, data: dict[str, Any], record: str, *, required: bool = True) -> str:
        value = data.get("key")
        if value is None and not required:
            return record
        if not isinstance(value, str) or not value.strip():
            self.fail("required non-blank string", record, "key")
        if value in self.keys:
            self.fail(f"duplicate key {value!r} (first used by {self.keys[value]})", record, "key")
        self.keys[value] = record
        return value

    def ident(self, data: dict[str, Any], record: str) -> uuid.UUID:
        if data.get("id") is None:
            return uuid.uuid4()
        try:
            value = validate_uuid(data["id"], "id", required=True)
        except ErrorDataValidationError as exc:
            self.fail(exc.message, record, "id")
        assert value is not None  # required=True never returns None
        if value in self.ids:
            self.fail(f"duplicate id (first used by {self.ids[value]})", record, "id")
        self.ids[value] = record
        return value

    def number(self, data: dict[str, Any], name: str, record: str) -> float:
        value = data.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            self.fail("expected a number >= 0", record, name)
        return float(value)


def validated(document: object, file: str, now: datetime) -> _Plan:
    """The rows of data set ``document`` (read from ``file``); DatasetError at the first problem."""
    check = _Checker(file)
    top = check.obj(document, "top level", _TOP_FIELDS)
    description = top.get("description")
    if not isinstance(description, str) or not description.strip():
        check.fail("required non-blank string", "top level", "description")
    if not isinstance(top.get("sessions"), list) or not top["sessions"]:
        check.fail("required non-empty list of sessions", "top level", "sessions")
    plan = _Plan(description=str(description))
    for s_index, raw_session in enumerate(top["sessions"]):
        record = f"sessions[{s_index}]"
        data = check.obj(raw_session, record, _SESSION_FIELDS)
        session_key = check.key(data, record)
        stage = data.get("current_stage", "upload")
        try:
            stage = validate_operation_stage(stage)
        except ErrorDataValidationError as exc:
            check.fail(exc.message, record, "current_stage")
        created = now - timedelta(days=check.number(data, "created_days_ago", record))
        row = {"id": check.ident(data, record), "name": check.text(data, "name", record, 200)}
        row.update(current_stage=stage, created_at=created, updated_at=created)
        plan.sessions.append((session_key, row))
        own_files: set[str] = set()
        own_tickets: set[str] = set()
        for f_index, raw in enumerate(check.items(data, "files", record)):
            sub = f"{record}.files[{f_index}]"
            item = check.obj(raw, sub, _FILE_FIELDS)
            key = check.key(item, sub)
            own_files.add(key)
            row = {"id": check.ident(item, sub), "filename": check.text(item, "filename", sub, 255)}
            plan.files.append((key, session_key, row))
        for t_index, raw in enumerate(check.items(data, "tickets", record)):
            sub = f"{record}.tickets[{t_index}]"
            item = check.obj(raw, sub, _TICKET_FIELDS)
            key = check.key(item, sub)
            own_tickets.add(key)
            jira_key = item.get("jira_key")
            if jira_key is not None and (
                not isinstance(jira_key, str) or not jira_key.strip() or len(jira_key) > 32
            ):
                check.fail("expected null or a string of at most 32 characters", sub, "jira_key")
            row = {
                "id": check.ident(item, sub),
                "summary": check.text(item, "summary", sub, 500),
                "jira_key": jira_key,
            }
            plan.tickets.append((key, session_key, row))
        for e_index, raw in enumerate(check.items(data, "errors", record)):
            sub = f"{record}.errors[{e_index}]"
            item = check.obj(raw, sub, _ERROR_FIELDS)
            key = check.key(item, sub, required=False)
            links = {}
            for name, own, kind in (
                ("file", own_files, "files"),
                ("ticket", own_tickets, "tickets"),
            ):
                ref = item.get(name)
                if ref is not None and ref not in own:
                    check.fail(
                        f"unknown {name} key {ref!r}; this session's {kind}: "
                        f"{', '.join(sorted(own)) or 'none'}",
                        sub,
                        name,
                    )
                links[name] = ref
            row = _error_row(check, item, sub)
            row["created_at"] = now - timedelta(minutes=check.number(item, "minutes_ago", sub))
            plan.errors.append((key, session_key, links["file"], links["ticket"], row))
    return plan


#: Data set field names of the model columns they fill.
_DATASET_FIELD = {
    "error_category": "category",
    "operation_stage": "stage",
}


def _error_row(check: _Checker, item: dict[str, Any], record: str) -> dict[str, Any]:
    """Validate one error with the model's own validation sequence."""
    actions = item.get("recovery_actions")
    try:
        row = validate_error_fields(
            error_category=item.get("category"),
            severity=item.get("severity"),
            operation_stage=item.get("stage"),
            user_message=item.get("user_message"),
            recovery_actions={"actions": actions} if isinstance(actions, list) else actions,
            technical_details=item.get("technical_details", {}),
            error_code=item.get("error_code"),
        )
    except ErrorDataValidationError as exc:
        column = exc.field or ""
        check.fail(exc.message, record, _DATASET_FIELD.get(column, column))
    return {"id": check.ident(item, record), **row}
