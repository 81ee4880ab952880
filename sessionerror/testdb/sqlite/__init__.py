"""The SQLite backend of the test databases: files, copies and locks (its engines are in
:mod:`sessionerror.engines.sqlite`, re-exported here under their 0.x import path)."""

from sessionerror.engines.sqlite import (
    MEMORY,
    create_sqlite_engine,
    enable_foreign_keys,
    install_sqlite_listeners,
    sqlite_url,
)
from sessionerror.testdb.sqlite.lock import FileLock

__all__ = [
    "MEMORY",
    "FileLock",
    "create_sqlite_engine",
    "enable_foreign_keys",
    "install_sqlite_listeners",
    "sqlite_url",
]
