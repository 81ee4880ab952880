"""Export sessions and their errors to SQLite (sqlite-utils) and summarise error patterns.

``sqlite_utils`` is an optional extra (``pip install 'sessionerror[export]'``), imported only by
:func:`export_database`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import uuid
import warnings
from contextlib import suppress
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from sessionerror.connect import connection_for
from sessionerror.errors import ExportError
from sessionerror.redaction import redact, redact_text

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection, Engine

    from sessionerror.urls import DatabaseURL

__all__ = ["export_database", "plain_value", "require_columns"]

_HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_HEX_UUID = re.compile(r"^[0-9a-fA-F]{32}$")
_JSON_COLUMNS = ("recovery_actions", "technical_details")
_SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")
#: Tables and columns each command reads.
_EXPORT_NEEDS: dict[str, tuple[str, ...]] = {
    "sessions": ("id",),
    "session_errors": ("id", "session_id", "user_message"),
}


def _sqlite_utils() -> Any:
    try:
        import sqlite_utils
    except ImportError:
        raise ExportError(
            "sqlite-utils is not installed: pip install 'sessionerror[export]'"
        ) from None
    return sqlite_utils


def plain_value(key: str, value: Any) -> Any:
    """Column ``key``'s ``value`` as sqlite-utils stores it well: UUIDs as canonical text, JSON
    as JSON (redacted, keys included), and every other text redacted (again: rows written by
    raw SQL, and a team's own columns, never met the model's redaction)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str) and (key == "id" or key.endswith("_id")) and _HEX_UUID.match(value):
        return str(uuid.UUID(value))
    if key in _JSON_COLUMNS and isinstance(value, str | bytes):
        with suppress(ValueError):
            value = json.loads(value)
    if key in _JSON_COLUMNS:
        return redact(value)
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class _RepeatedValues:
    """:func:`plain_value` remembering short texts, for one table's copy: stages, categories,
    codes and names repeat on most rows, and every text is scrubbed (about 12 us a value)."""

    _LIMIT = 4096

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], Any] = {}

    def __call__(self, key: str, value: Any) -> Any:
        if not isinstance(value, str) or len(value) > 64 or key == "id" or key.endswith("_id"):
            return plain_value(key, value)
        known = self._seen.get((key, value), self)
        if known is self:
            if len(self._seen) >= self._LIMIT:
                self._seen.clear()
            known = self._seen[(key, value)] = plain_value(key, value)
        return known


def _reflect(conn: Connection, name: str) -> Table:
    from sqlalchemy import MetaData, Table
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        return Table(name, MetaData(), autoload_with=conn)


def require_columns(
    conn: Connection, needed: dict[str, tuple[str, ...]], *, note: str = ""
) -> None:
    """Raise ExportError (one line: what is missing, the fix) unless the tables/columns exist.

    ``needed`` maps each table to the columns the caller reads; ``note`` ends the message.
    """
    from sqlalchemy import inspect

    inspector = inspect(conn)
    present = set(inspector.get_table_names())
    missing_tables = [name for name in needed if name not in present]
    if missing_tables:
        raise ExportError(
            f"the database has no {', '.join(missing_tables)} table"
            f"{'s' if len(missing_tables) > 1 else ''}{note}. Fix: point --db at "
            "the database your application records SessionErrors in (sessionerror check --db "
            "URL shows what differs from the contract)"
        )
    for name, columns in needed.items():
        found = {column["name"] for column in inspector.get_columns(name)}
        missing = [column for column in columns if column not in found]
        if missing:
            raise ExportError(
                f"table {name} has no column {', '.join(missing)}{note}. Fix: "
                "run sessionerror check --db URL to see what differs from the contract"
            )


def _sqlite_type(column: Any) -> type:
    """The sqlite-utils column type for a reflected column (what inserting values would infer)."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return str
    if issubclass(python_type, int):  # bool too
        return int
    if issubclass(python_type, float | Decimal):
        return float
    if issubclass(python_type, bytes):
        return bytes
    return str


class _SignalsHeld:
    """Hold SIGINT/SIGTERM while sqlite-utils writes: its ``atomic()`` is a generator context
    manager, and an interrupt raised between its steps leaves the generator suspended, to roll
    back on an already closed file when collected (a traceback on stderr). A held signal is
    delivered (and raised by the CLI's handler) as soon as the write returns. A class, not a
    generator, so that the raise lands in our frame. Main thread only: elsewhere a no-op."""

    def __enter__(self) -> None:
        self._holding = threading.current_thread() is threading.main_thread()
        if self._holding:
            signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._holding:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD_SIGNALS)


def _copy(
    conn: Connection,
    db: Any,
    source: Table,
    *,
    batch_size: int,
    progress: TextIO | None,
    progress_every: int,
    foreign_keys: list[tuple[str, str, str]] | None = None,
) -> int:
    from sqlalchemy import select

    name = source.name
    # Created up front so that an empty source still gives a valid database with both tables.
    with _SignalsHeld():
        db[name].create(
            {column.name: _sqlite_type(column) for column in source.columns},
            pk="id",
            foreign_keys=foreign_keys,
        )
    order = list(source.primary_key.columns) or list(source.columns)[:1]
    result = conn.execution_options(yield_per=batch_size).execute(select(source).order_by(*order))
    target = db[name]
    count, next_report = 0, progress_every
    plain = _RepeatedValues()
    for batch in result.mappings().partitions():
        records = [{k: plain(k, v) for k, v in row.items()} for row in batch]
        with _SignalsHeld():
            target.insert_all(
                records,
                pk="id",
                foreign_keys=foreign_keys,
                alter=True,
                batch_size=batch_size,
            )
        count += len(records)
        if progress is not None and count >= next_report:
            print(f"{name}: {count} rows exported", file=progress, flush=True)
            next_report = (count // progress_every + 1) * progress_every
    return count


def _check_target(target: Path, *, replace: bool) -> None:
    """Refuse, before connecting, a --to that cannot be written or would be overwritten."""
    if target.is_dir():
        raise ExportError(
            f"--to {target} is a directory; nothing was written. Fix: name a file, e.g. "
            f"--to {target / 'errors.db'}"
        )
    parent = target.parent
    if not parent.exists():
        raise ExportError(
            f"directory {parent} does not exist; nothing was written. Fix: create it first "
            f"(mkdir -p {parent}) or choose another --to"
        )
    if not parent.is_dir():
        raise ExportError(
            f"{parent} is not a directory; nothing was written. Fix: choose another --to"
        )
    if target.exists() and not replace:
        raise ExportError(f"{target} already exists; nothing was written (pass --replace)")


def _same_file(conn: Connection, target: Path) -> bool:
    database = conn.engine.url.database
    if conn.dialect.name != "sqlite" or not database or not target.exists():
        return False
    try:
        return os.path.samefile(database, target)
    except OSError:
        return False


def _remove_partial(partial: Path) -> None:
    """Remove the partial file and whatever SQLite left next to it (journal, WAL)."""
    for path in (partial, *(partial.with_name(partial.name + s) for s in _SQLITE_SIDE_FILES)):
        with suppress(FileNotFoundError):
            path.unlink()


def _rows(count: int, noun: str) -> str:
    """``1 session``, ``2 errors``: a count people read."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def export_database(
    bind: Engine | str | DatabaseURL,
    to: str | os.PathLike[str],
    *,
    replace: bool = False,
    batch_size: int = 1000,
    progress: TextIO | None = None,
    progress_every: int = 10_000,
) -> dict[str, int]:
    """Copy ``sessions`` and ``session_errors`` of ``bind`` into the SQLite file ``to``.

    Rows are streamed in batches; ``technical_details`` is redacted again; ``user_message``
    gets a full-text index. An empty source gives a valid file with both tables and no rows.
    The file is written next to ``to`` and moved into place at the end, so a failed (or
    interrupted) export leaves nothing behind and an existing ``to`` untouched. Raises
    ExportError (message safe to print) for a ``to`` that cannot be written, a source
    without the tables, or ``to`` being the source database. Returns the row count per table.
    """
    sqlite_utils = _sqlite_utils()
    target = Path(to)
    if batch_size < 1:
        raise ExportError(f"--batch-size must be at least 1, got {batch_size}")
    _check_target(target, replace=replace)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    counts: dict[str, int] = {}
    try:
        with connection_for(bind) as conn:
            require_columns(conn, _EXPORT_NEEDS, note="; nothing was written")
            if _same_file(conn, target):
                raise ExportError(
                    f"--to {target} is the database being exported; nothing was written. "
                    "Fix: choose another --to"
                )
            try:
                partial.open("xb").close()
            except OSError as exc:
                raise ExportError(
                    f"cannot write {partial.parent}: {exc.strerror or exc}; nothing was written. "
                    "Fix: choose a --to in a directory you can write to"
                ) from None
            sessions = _reflect(conn, "sessions")
            errors_table = _reflect(conn, "session_errors")
            db = sqlite_utils.Database(str(partial))
            try:
                options = {
                    "batch_size": batch_size,
                    "progress": progress,
                    "progress_every": progress_every,
                }
                counts["sessions"] = _copy(conn, db, sessions, **options)  # type: ignore[arg-type]
                counts["session_errors"] = _copy(
                    conn,
                    db,
                    errors_table,
                    foreign_keys=[("session_id", "sessions", "id")],
                    **options,  # type: ignore[arg-type]
                )
                errors = db["session_errors"]
                with _SignalsHeld():
                    errors.enable_fts(["user_message"], create_triggers=True)
                    for column in ("session_id", "severity", "error_category", "error_code"):
                        if column in errors_table.c:
                            errors.create_index([column], if_not_exists=True)
            finally:
                db.conn.close()
        try:
            os.replace(partial, target)
        except OSError as exc:
            raise ExportError(
                f"cannot move the export to {target}: {exc.strerror or exc}; nothing was "
                "written. Fix: choose another --to"
            ) from None
    finally:
        _remove_partial(partial)
    if progress is not None:
        print(
            f"done: {_rows(counts.get('sessions', 0), 'session')} and "
            f"{_rows(counts.get('session_errors', 0), 'error')} exported to {target}",
            file=progress,
            flush=True,
        )
    return counts
