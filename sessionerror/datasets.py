"""Data sets: realistic situations as JSON files, loaded into any database in one call.

A data set file looks like this (times are relative to the moment of loading)::

    {
      "description": "What situation this is and what a test can expect.",
      "sessions": [
        {
          "key": "s1", "name": "Q3 tickets", "current_stage": "upload", "created_days_ago": 0,
          "files": [{"key": "f1", "filename": "tickets.xlsx"}],
          "tickets": [{"key": "t1", "summary": "Fix the badge reader", "jira_key": null}],
          "errors": [
            {"key": "e1", "category": "user_fixable", "severity": "blocking", "stage": "upload",
             "user_message": "...", "recovery_actions": ["step", "..."],
             "technical_details": {}, "error_code": "UPLOAD_BAD_FORMAT",
             "file": "f1", "ticket": null, "minutes_ago": 5}
          ]
        }
      ]
    }

Keys are unique within the file; ``file`` / ``ticket`` name a file or ticket of the same
session. Optional everywhere: ``id`` (a UUID; generated when absent). Optional on sessions:
``current_stage``, ``created_days_ago``, ``files``, ``tickets``, ``errors``; on errors: ``key``,
``technical_details``, ``error_code``, ``file``, ``ticket``, ``minutes_ago``.

The whole file is validated before anything is written; a problem raises :class:`DatasetError`
naming the file, the record (``sessions[0].errors[2]``) and the field. Loading adds and flushes
the rows inside a SAVEPOINT of the caller's transaction and never commits.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from sessionerror.errors import ErrorDataValidationError, SessionErrorKitError
from sessionerror.models import SessionError, Ticket, UploadedFile, WorkflowSession
from sessionerror.models.enums import ErrorCategory
from sessionerror.models.session_guard import require_sync_session
from sessionerror.models.types import utcnow
from sessionerror.models.validation import (
    validate_error_fields,
    validate_operation_stage,
    validate_uuid,
)
from sessionerror.runtime.model_choice import configured_model

__all__ = ["DatasetError", "LoadedDataset", "available_datasets", "dataset_path", "load_dataset"]

_PACKAGED = "_datasets"
_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")

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


@dataclass
class LoadedDataset:
    """The rows a data set created, by key; ``dataset["e1"]`` looks a key up in all of them.

    With a team's model, the values are of the team's classes."""

    name: str
    path: str
    description: str
    sessions: dict[str, WorkflowSession] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)
    tickets: dict[str, Ticket] = field(default_factory=dict)
    errors: dict[str, SessionError] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        for group in (self.sessions, self.files, self.tickets, self.errors):
            if key in group:
                return group[key]
        raise KeyError(f"data set {self.name!r} has no record with key {key!r}")

    def __iter__(self) -> Iterator[Any]:
        yield from self.sessions.values()
        yield from self.files.values()
        yield from self.tickets.values()
        yield from self.errors.values()


# -- finding data sets ----------------------------------------------------------------------


def _packaged_dir() -> Any:
    return resources.files("sessionerror").joinpath(_PACKAGED)


def _repository_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "fixtures"


def available_datasets() -> list[str]:
    """Names of the shipped data sets (packaged ones, else the repository's ``fixtures/``)."""
    names: set[str] = set()
    packaged = _packaged_dir()
    if packaged.is_dir():
        names.update(p.name[:-5] for p in packaged.iterdir() if p.name.endswith(".json"))
    repository = _repository_dir()
    if repository.is_dir():
        names.update(p.stem for p in repository.glob("*.json"))
    return sorted(names)


def dataset_path(name_or_path: str | Path) -> str:
    """Where ``name_or_path`` is read from; raise DatasetError listing the names if unknown."""
    candidate = Path(name_or_path)
    if isinstance(name_or_path, Path) or not _NAME.match(str(name_or_path)):
        if candidate.is_file():
            return str(candidate)
        raise DatasetError(
            f"no such data set file; available names: {', '.join(available_datasets())}",
            file=str(name_or_path),
        )
    packaged = _packaged_dir().joinpath(f"{name_or_path}.json")
    if packaged.is_file():
        return str(packaged)
    repository = _repository_dir() / f"{name_or_path}.json"
    if repository.is_file():
        return str(repository)
    raise DatasetError(
        f"unknown data set {name_or_path!r}; available: {', '.join(available_datasets())}",
        file=str(name_or_path),
    )


# -- validation -----------------------------------------------------------------------------


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


def _validated(document: object, file: str, now: datetime) -> _Plan:
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


# -- loading ------------------------------------------------------------------------------


def _read(path: str) -> object:
    try:
        if Path(path).is_file():
            text = Path(path).read_text(encoding="utf-8")
        else:  # inside a packaged resource
            text = _packaged_dir().joinpath(Path(path).name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read the file ({exc})", file=path) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", file=path
        ) from None


def load_dataset(
    db: Session,
    name_or_path: str | Path,
    *,
    now: datetime | None = None,
    model: type[Any] | None = None,
) -> LoadedDataset:
    """Load a data set (a shipped name, or a path to a JSON file) into ``db``.

    The rows are of ``model``'s schema (default: the ``sessionerror_model`` class, else the
    reference one); a team's parents get their other NOT NULL columns as its factories fill them.

    Everything is validated first; the rows are then added and flushed in a SAVEPOINT of the
    caller's transaction (never committed), so a failure leaves the database as it was.
    Raises :class:`DatasetError` naming the file, record and field of the first problem.
    """
    from sessionerror.factories.dataset_rows import add_dataset_rows  # factory-boy: on use

    async_api = "await async_db.run_sync(load_dataset, name)"
    db = require_sync_session(db, "load_dataset()", async_api=async_api)
    path = dataset_path(name_or_path)
    plan = _validated(_read(path), path, now or utcnow())
    name = Path(path).stem
    loaded = LoadedDataset(name=name, path=path, description=plan.description)
    try:
        with db.begin_nested():
            add_dataset_rows(db, model or configured_model(), plan, loaded)
    except sa_exc.DBAPIError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        raise DatasetError(f"the database refused the rows: {first}", file=path) from exc
    return loaded
