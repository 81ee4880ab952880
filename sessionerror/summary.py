"""``sessionerror summary``: the error patterns of a database, as a dict and as text.

Reads only; needs the ``session_errors`` columns listed in :data:`SUMMARY_NEEDS`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sessionerror.connect import connection_for
from sessionerror.errors import ExportError
from sessionerror.export import plain_value, require_columns
from sessionerror.redaction import redact_text

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.engine import Connection, Engine

    from sessionerror.urls import DatabaseURL

__all__ = ["SUMMARY_NEEDS", "format_age", "format_summary", "summarise"]

#: The table and columns the summary reads.
SUMMARY_NEEDS: dict[str, tuple[str, ...]] = {
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


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _count_groups(conn: Connection, groups: Select[Any]) -> int:
    """How many rows ``groups`` (a SELECT DISTINCT) has."""
    from sqlalchemy import func, select

    return int(conn.execute(select(func.count()).select_from(groups.subquery())).scalar_one())


def format_age(minutes: float | None) -> str:
    """An age for people: ``45 min``, ``3.5 h`` (under two days) or ``12 d``."""
    if minutes is None:
        return "-"
    if isinstance(minutes, bool) or not isinstance(minutes, int | float):
        raise TypeError(f"an age is a number of minutes, got {type(minutes).__name__}")
    if minutes < 90:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    if hours < 48:
        return f"{hours:.1f} h"
    days = hours / 24
    return f"{days:.1f} d" if days < 10 else f"{days:.0f} d"


def summarise(
    bind: Engine | str | DatabaseURL, *, top: int = 10, now: datetime | None = None
) -> dict[str, Any]:
    """Error patterns of ``bind``: counts by stage x category x severity, top error codes,
    blocked sessions and the oldest blocking errors (with their age in minutes).

    ``top`` (>= 0) bounds every list; ``pattern_count`` and ``error_code_count`` say how many
    there are in all. Raises ExportError when the tables or columns are missing.
    """
    from sqlalchemy import String, cast, column, func, select, table

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
    # Compared as text: psycopg 3 and asyncpg type the parameter as VARCHAR, which a native
    # enum column cannot be compared with (the sync mapping of postgresql+psycopg_async).
    blocking = cast(c.severity, String) == "blocking"
    with connection_for(bind) as conn:
        require_columns(conn, SUMMARY_NEEDS)
        total = int(conn.execute(select(func.count()).select_from(errors)).scalar_one())
        patterns = conn.execute(
            select(c.operation_stage, c.error_category, c.severity, n)
            .group_by(c.operation_stage, c.error_category, c.severity)
            .order_by(n.desc(), c.operation_stage, c.error_category, c.severity)
            .limit(top)
        ).all()
        pattern_count = _count_groups(
            conn, select(c.operation_stage, c.error_category, c.severity).distinct()
        )
        code_count = _count_groups(
            conn, select(c.error_code).where(c.error_code.is_not(None)).distinct()
        )
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

    def shown(value: Any) -> Any:
        # Every text printed is scrubbed: rows written by raw SQL never met the model.
        return redact_text(value) if isinstance(value, str) else value

    def age(value: Any) -> float | None:
        moment = _aware(value)
        return round((now - moment).total_seconds() / 60.0, 1) if moment else None

    return {
        "total_errors": total,
        "by_stage_category_severity": [
            {
                "operation_stage": shown(s),
                "error_category": shown(cat),
                "severity": shown(sev),
                "count": int(k),
            }
            for s, cat, sev, k in patterns
        ],
        "pattern_count": pattern_count,
        "error_code_count": code_count,
        "top_error_codes": [{"error_code": shown(code), "count": int(k)} for code, k in codes],
        "blocked_sessions": {
            "count": blocked_count,
            "sessions": [
                {
                    "session_id": plain_value("session_id", sid),
                    "blocking_errors": int(k),
                    "oldest_age_minutes": age(first),
                }
                for sid, k, first in blocked
            ],
        },
        "oldest_blocking_errors": [
            {
                "id": plain_value("id", eid),
                "session_id": plain_value("session_id", sid),
                "operation_stage": shown(stage),
                "error_code": shown(code),
                "user_message": redact_text(str(message)),
                "created_at": (_aware(created) or now).isoformat(),
                "age_minutes": age(created),
            }
            for eid, sid, stage, code, message, created in oldest
        ],
    }


def _more(shown: int, total: int) -> list[str]:
    """The line saying how many rows a capped table leaves out, if any."""
    hidden = total - shown
    return [f"  ... and {hidden} more (a larger --top shows them)"] if hidden > 0 else []


def format_summary(summary: dict[str, Any]) -> str:
    """The text form of :func:`summarise`: every table capped by ``top``, ages in min/h/d."""
    patterns = summary["by_stage_category_severity"]
    lines = [f"{summary['total_errors']} errors recorded", "", "By stage x category x severity:"]
    lines += [
        f"  {row['count']:>8}  {row['operation_stage']:<12} {row['error_category']:<15} "
        f"{row['severity']}"
        for row in patterns
    ]
    lines += _more(len(patterns), summary.get("pattern_count", len(patterns)))
    codes = summary["top_error_codes"]
    lines += ["", "Top error codes:"]
    lines += [f"  {r['count']:>8}  {r['error_code']}" for r in codes]
    lines += _more(len(codes), summary.get("error_code_count", len(codes)))
    blocked = summary["blocked_sessions"]
    lines += ["", f"Sessions currently blocked: {blocked['count']}"]
    lines += [
        f"  {s['session_id']}  {s['blocking_errors']} blocking, oldest "
        f"{format_age(s['oldest_age_minutes'])} ago"
        for s in blocked["sessions"]
    ]
    lines += _more(len(blocked["sessions"]), blocked["count"])
    oldest = summary["oldest_blocking_errors"]
    lines += ["", "Oldest blocking errors:"]
    lines += [
        f"  {format_age(e['age_minutes']):>8} ago  {e['operation_stage']:<12} "
        f"{e['error_code'] or '-':<20} {e['user_message'][:60]}"
        for e in oldest
    ]
    return "\n".join(lines)
