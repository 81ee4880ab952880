"""``sessionerror summary``: the error patterns of a database, as a dict and as text.

Reads only; needs the ``session_errors`` columns listed in :data:`SUMMARY_NEEDS`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sessionerror.connect import connection_for
from sessionerror.errors import ExportError
from sessionerror.export import plain_value, require_columns
from sessionerror.models.redaction import redact_text

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["SUMMARY_NEEDS", "format_summary", "summarise"]

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


def summarise(bind: Engine | str, *, top: int = 10, now: datetime | None = None) -> dict[str, Any]:
    """Error patterns of ``bind``: counts by stage x category x severity, top error codes,
    blocked sessions and the oldest blocking errors (with their age in minutes).

    ``top`` (>= 0) bounds each list. Raises ExportError when the tables or columns are missing.
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
