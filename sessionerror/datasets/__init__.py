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
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from sessionerror.datasets.validation import DatasetError, validated
from sessionerror.models import SessionError, Ticket, UploadedFile, WorkflowSession
from sessionerror.models.session_guard import require_sync_session
from sessionerror.models.types import utcnow
from sessionerror.runtime.model_choice import configured_model

__all__ = [
    "DatasetError",
    "LoadedDataset",
    "available_datasets",
    "check_dataset",
    "dataset_path",
    "load_dataset",
]

_PACKAGED = "_datasets"
_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")


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
    return Path(__file__).resolve().parents[2] / "fixtures"  # the repository root


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


def check_dataset(name_or_path: str | Path) -> str:
    """The file of data set ``name_or_path``, validated without a database; else DatasetError.

    What ``@pytest.mark.sessionerror_data`` checks at collection: an unknown name, a file that
    is not JSON or a record that is invalid is one line naming the file, record and field.
    """
    path = dataset_path(name_or_path)
    validated(_read(path), path, utcnow())
    return path


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
    plan = validated(_read(path), path, now or utcnow())
    name = Path(path).stem
    loaded = LoadedDataset(name=name, path=path, description=plan.description)
    try:
        with db.begin_nested():
            add_dataset_rows(db, model or configured_model(), plan, loaded)
    except sa_exc.DBAPIError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        raise DatasetError(f"the database refused the rows: {first}", file=path) from exc
    return loaded
