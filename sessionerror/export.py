"""Export sessions and their errors to SQLite (sqlite-utils) and summarise error patterns.

``sqlite_utils`` is an optional extra (``pip install 'sessionerror[export]'``), imported only by
:func:`export_database`.
"""

from __future__ import annotations

import json
import os
import re
import uuid
import warnings
from contextlib import suppress
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sessionerror.connect import connection_for
from sessionerror.errors import ExportError
from sessionerror.models.redaction import redact, redact_text

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection, Engine

__all__ = ["export_database", "format_summary", "summarise"]

_HEX_UUID = re.compile(r"^[0-9a-fA-F]{32}$")
_JSON_COLUMNS = ("recovery_actions", "technical_details")
_SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")
#: Tables and columns each command reads.
_EXPORT_NEEDS: dict[str, tuple[str, ...]] = {
    "sessions": ("id",),
    "session_errors": ("id", "session_id", "user_message"),
}
_SUMMARY_NEEDS: dict[str, tuple[str, ...]] = {
    "session_errors": (
        "id",
        "session_id",
        "operation_stage",
        "error_category",
        "severity",
        "error_code",
        "user_message",
        "created_at",
    )
}


def _sqlite_utils() -> Any:
    try:
        import sqlite_utils
    except ImportError:
        raise ExportError(
            "sqlite-utils is not installed: pip install 'sessionerror[export]'"
        ) from None
    return sqlite_utils


def _plain(key: str, value: Any) -> Any:
    """A value sqlite-utils stores well: UUIDs as canonical text, JSON as JSON, redacted."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str) and (key == "id" or key.endswith("_id")) and _HEX_UUID.match(value):
        return str(uuid.UUID(value))
    if key in _JSON_COLUMNS and isinstance(value, str | bytes):
        with suppress(ValueError):
            value = json.loads(value)
    if key == "technical_details":
        return redact(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _reflect(conn: Connection, name: str) -> Table:
    from sqlalchemy import MetaData, Table
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        return Table(name, MetaData(), autoload_with=conn)


def _require(conn: Connection, needed: dict[str, tuple[str, ...]], *, note: str = "") -> None:
    """Raise ExportError (one line: what is missing, the fix) unless the tables/columns exist."""
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
    db[name].create(
        {column.name: _sqlite_type(column) for column in source.columns},
        pk="id",
        foreign_keys=foreign_keys,
    )
    order = list(source.primary_key.columns) or list(source.columns)[:1]
    result = conn.execution_options(yield_per=batch_size).execute(select(source).order_by(*order))
    target = db[name]
    count, next_report = 0, progress_every
    for batch in result.mappings().partitions():
        records = [{k: _plain(k, v) for k, v in row.items()} for row in batch]
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


def export_database(
    bind: Engine | str,
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
            _require(conn, _EXPORT_NEEDS, note="; nothing was written")
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
        print(f"done: {counts}", file=progress, flush=True)
    return counts


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def summarise(bind: Engine | str, *, top: int = 10, now: datetime | None = None) -> dict[str, Any]:
    """Error patterns of ``bind``: counts by stage x category x severity, top error codes,
    blocked sessions and the oldest blocking errors (with their age in minutes).

    ``top`` (>= 0) bounds each list. Raises ExportError when the tables or columns are missing.
    """
    from sqlalchemy import column, func, select, table

    if top < 0:
        raise ExportError(f"--top must be 0 or more, got {top}")

    errors = table(
        "session_errors",
        column("id"),
        column("session_id"),
        column("operation_stage"),
        column("error_category"),
        column("severity"),
        column("error_code"),
        column("user_message"),
        column("created_at"),
    )
    c = errors.c
    now = now or datetime.now(UTC)
    n = func.count().label("n")
    blocking = c.severity == "blocking"
    with connection_for(bind) as conn:
        _require(conn, _SUMMARY_NEEDS)
        total = int(conn.execute(select(func.count()).select_from(errors)).scalar_one())
        patterns = conn.execute(
            select(c.operation_stage, c.error_category, c.severity, n)
            .group_by(c.operation_stage, c.error_category, c.severity)
            .order_by(n.desc(), c.operation_stage, c.error_category, c.severity)
        ).all()
        codes = conn.execute(
            select(c.error_code, n)
            .where(c.error_code.is_not(None))
            .group_by(c.error_code)
            .order_by(n.desc(), c.error_code)
            .limit(top)
        ).all()
        blocked_count = int(
            conn.execute(
                select(func.count(func.distinct(c.session_id))).where(blocking)
            ).scalar_one()
        )
        blocked = conn.execute(
            select(c.session_id, n, func.min(c.created_at).label("oldest"))
            .where(blocking)
            .group_by(c.session_id)
            .order_by(func.min(c.created_at), c.session_id)
            .limit(top)
        ).all()
        oldest = conn.execute(
            select(
                c.id, c.session_id, c.operation_stage, c.error_code, c.user_message, c.created_at
            )
            .where(blocking)
            .order_by(c.created_at, c.id)
            .limit(top)
        ).all()

    def age(value: Any) -> float | None:
        moment = _aware(value)
        return round((now - moment).total_seconds() / 60.0, 1) if moment else None

    return {
        "total_errors": total,
        "by_stage_category_severity": [
            {"operation_stage": s, "error_category": cat, "severity": sev, "count": int(k)}
            for s, cat, sev, k in patterns
        ],
        "top_error_codes": [{"error_code": code, "count": int(k)} for code, k in codes],
        "blocked_sessions": {
            "count": blocked_count,
            "sessions": [
                {
                    "session_id": _plain("session_id", sid),
                    "blocking_errors": int(k),
                    "oldest_age_minutes": age(first),
                }
                for sid, k, first in blocked
            ],
        },
        "oldest_blocking_errors": [
            {
                "id": _plain("id", eid),
                "session_id": _plain("session_id", sid),
                "operation_stage": stage,
                "error_code": code,
                "user_message": redact_text(str(message)),
                "created_at": (_aware(created) or now).isoformat(),
                "age_minutes": age(created),
            }
            for eid, sid, stage, code, message, created in oldest
        ],
    }


def format_summary(summary: dict[str, Any]) -> str:
    """The text form of :func:`summarise`."""
    lines = [f"{summary['total_errors']} errors recorded", "", "By stage x category x severity:"]
    for row in summary["by_stage_category_severity"]:
        lines.append(
            f"  {row['count']:>8}  {row['operation_stage']:<12} {row['error_category']:<15} "
            f"{row['severity']}"
        )
    lines += ["", "Top error codes:"]
    lines += [f"  {r['count']:>8}  {r['error_code']}" for r in summary["top_error_codes"]]
    blocked = summary["blocked_sessions"]
    lines += ["", f"Sessions currently blocked: {blocked['count']}"]
    lines += [
        f"  {s['session_id']}  {s['blocking_errors']} blocking, oldest "
        f"{s['oldest_age_minutes']} min"
        for s in blocked["sessions"]
    ]
    lines += ["", "Oldest blocking errors:"]
    lines += [
        f"  {e['age_minutes']:>10} min  {e['operation_stage']:<12} {e['error_code'] or '-':<20} "
        f"{e['user_message'][:60]}"
        for e in summary["oldest_blocking_errors"]
    ]
    return "\n".join(lines)
