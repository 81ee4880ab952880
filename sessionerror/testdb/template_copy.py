"""What a worker needs of the run's schema templates: where they are, and a SQLite copy.

:class:`BuiltTemplates` travels from the run's owner to each xdist worker (``workerinput``);
:func:`copy_sqlite` copies the SQLite template with the sqlite3 backup API; the PostgreSQL
copy is ``CREATE DATABASE ... TEMPLATE`` (the janitor's ``template=``). The owner's build is
:mod:`sessionerror.testdb.templates`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sessionerror.plugin.config import Backend

__all__ = ["BuiltTemplates", "copy_sqlite"]


@dataclass(frozen=True)
class BuiltTemplates:
    """Where this run's templates are: a SQLite file path and a PostgreSQL database name."""

    sqlite: str | None = None
    postgresql: str | None = None

    def for_backend(self, backend: Backend) -> str | None:
        """The template of ``backend``, if one was built."""
        return self.sqlite if backend == "sqlite" else self.postgresql

    def to_dict(self) -> dict[str, str | None]:
        """Plain values for xdist's ``workerinput``."""
        return {"sqlite": self.sqlite, "postgresql": self.postgresql}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> BuiltTemplates:
        """Rebuild from :meth:`to_dict` output."""
        return cls(sqlite=values.get("sqlite"), postgresql=values.get("postgresql"))


def copy_sqlite(template: str | Path, target: Any) -> None:
    """Copy the SQLite database ``template`` into ``target`` (a path or a sqlite3 connection)."""
    source = sqlite3.connect(f"file:{Path(template)}?mode=ro", uri=True)
    try:
        if isinstance(target, sqlite3.Connection):
            source.backup(target)
            return
        destination = sqlite3.connect(str(target))
        try:
            source.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()
