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
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .check import connection_for
from .redaction import redact, redact_text

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

__all__ = ["ExportError", "export_database", "format_summary", "summarise"]

_HEX_UUID = re.compile(r"^[0-9a-fA-F]{32}$")
_JSON_COLUMNS = ("recovery_actions", "technical_details")


class ExportError(Exception):
    """The export cannot run; the message says why and what to do (safe to print)."""


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


def _copy(
    conn: Connection,
    db: Any,
    name: str,
    *,
    batch_size: int,
    progress: TextIO | None,
    progress_every: int,
    foreign_keys: list[tuple[str, str, str]] | None = None,
) -> int:
    from sqlalchemy import MetaData, Table, select
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        source = Table(name, MetaData(), autoload_with=conn)
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
    gets a full-text index. The file is written next to ``to`` and moved into place at the end,
    so a failed export leaves nothing behind. Returns the row count per table.
    """
    sqlite_utils = _sqlite_utils()
    target = Path(to)
    if target.exists() and not replace:
        raise ExportError(f"{target} already exists; nothing was written (pass --replace)")
    if batch_size < 1:
        raise ExportError("--batch-size must be at least 1")
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    counts: dict[str, int] = {}
    try:
        with connection_for(bind) as conn:
            db = sqlite_utils.Database(str(partial))
            try:
                options = {
                    "batch_size": batch_size,
                    "progress": progress,
                    "progress_every": progress_every,
                }
                counts["sessions"] = _copy(conn, db, "sessions", **options)  # type: ignore[arg-type]
                counts["session_errors"] = _copy(
                    conn,
                    db,
                    "session_errors",
                    foreign_keys=[("session_id", "sessions", "id")],
                    **options,  # type: ignore[arg-type]
                )
                errors = db["session_errors"]
                if errors.exists():
                    errors.enable_fts(["user_message"], create_triggers=True)
                    for column in ("session_id", "severity", "error_category", "error_code"):
                        errors.create_index([column], if_not_exists=True)
            finally:
                db.conn.close()
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()
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
    blocked sessions and the oldest blocking errors (with their age in minutes)."""
    from sqlalchemy import column, func, select, table

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
