"""Scenario: the 7-day retention purge removes old sessions and their errors, keeps recent ones."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from sessionerror.models.enums import ErrorSeverity
from sessionerror.models.types import utcnow
from sessionerror.runtime.retention import DEFAULT_RETENTION_DAYS, purge_expired_sessions
from sessionerror.scenarios.common import (
    ScenarioResult,
    count_rows,
    fk_hint,
    new_error,
    new_file,
    new_session,
    plural,
    rolled_back,
    scenario_classes,
)

__all__ = ["run_cleanup_7_day"]


def run_cleanup_7_day(bind: Engine | Connection) -> ScenarioResult:
    """The 7-day cleanup deletes old sessions with their errors; recent ones stay."""
    result = ScenarioResult(
        "cleanup_7_day", "the 7-day cleanup removes old sessions and their errors only"
    )
    now = utcnow()
    classes = scenario_classes()
    with rolled_back(bind, result) as db:
        ages = {"30 days": 30.0, "8 days": 8.0, "6 days": 6.0, "1 hour": 1 / 24}
        sessions: dict[str, Any] = {}
        for label, days in ages.items():
            created = now - timedelta(days=days)
            workflow = new_session(db, f"Session created {label} ago", created_at=created)
            new_file(db, workflow, f"import-{label}.xlsx")
            new_error(db, workflow, created_at=created)
            new_error(db, workflow, severity=ErrorSeverity.BLOCKING, created_at=created)
            sessions[label] = workflow
        db.flush()
        result.note("created sessions 30 days, 8 days, 6 days and 1 hour old, 2 errors each")
        old = [sessions["30 days"].id, sessions["8 days"].id]
        recent = [sessions["6 days"].id, sessions["1 hour"].id]

        removed = purge_expired_sessions(db, now=now)
        result.note(
            f"purge_expired_sessions(older_than_days={DEFAULT_RETENTION_DAYS}) "
            f"removed {plural(removed, 'session')}"
        )
        hint = fk_hint(db)
        gone = count_rows(db, classes.session, "id", old)
        result.check(gone == 0, "the 30- and 8-day-old sessions are gone", f"{gone} left")
        old_errors = count_rows(db, classes.error, "session_id", old)
        result.check(
            old_errors == 0, "their errors are gone", f"{plural(old_errors, 'error')} left", hint
        )
        stay = count_rows(db, classes.session, "id", recent)
        result.check(stay == 2, "the 6-day and 1-hour-old sessions stay", f"{stay} of 2")
        recent_errors = count_rows(db, classes.error, "session_id", recent)
        result.check(recent_errors == 4, "their errors stay", f"{recent_errors} of 4")
    return result


if __name__ == "__main__":
    # `python -m sessionerror.scenarios.NAME [--db URL]` runs `sessionerror example NAME` as a
    # new program, not an import (the command line imports this module).
    import os
    import sys

    command = [sys.executable, "-m", "sessionerror", "example", "cleanup_7_day", *sys.argv[1:]]
    os.execv(sys.executable, command)
