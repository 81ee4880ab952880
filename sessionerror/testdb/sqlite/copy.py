"""A worker's copy of the SQLite template, with the sqlite3 backup API."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

__all__ = ["copy_sqlite"]


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
