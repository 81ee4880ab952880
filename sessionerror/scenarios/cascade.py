"""Scenario: deleting a session deletes its errors (ON DELETE CASCADE)."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, delete

from sessionerror.models.base import table_of
from sessionerror.models.enums import ErrorSeverity, OperationStage
from sessionerror.scenarios.common import (
    ScenarioResult,
    count_rows,
    fk_hint,
    new_error,
    new_file,
    new_session,
    new_ticket,
    plural,
    rolled_back,
    scenario_classes,
)

__all__ = ["run_cascade"]


def run_cascade(bind: Engine | Connection) -> ScenarioResult:
    """Deleting a session (plain SQL DELETE) removes its errors, files and tickets."""
    result = ScenarioResult("cascade", "deleting a session removes its errors, files and tickets")
    classes = scenario_classes()
    with rolled_back(bind, result) as db:
        doomed = new_session(db, "Session to delete")
        file = new_file(db, doomed, "tickets.xlsx")
        ticket = new_ticket(db, doomed, "Replace the badge reader")
        new_error(db, doomed, file=file, ticket=ticket)
        new_error(db, doomed, severity=ErrorSeverity.BLOCKING, stage=OperationStage.UPLOAD)
        kept = new_session(db, "Session to keep")
        new_error(db, kept)
        db.flush()
        ids = [doomed.id]
        result.note("created a session with 1 file, 1 ticket and 2 errors, plus another session")
        db.execute(
            delete(table_of(classes.session)).where(table_of(classes.session).c.id == doomed.id)
        )
        db.expire_all()
        result.note("deleted the first session with DELETE FROM sessions (no ORM cascade)")
        hint = fk_hint(db)
        errors = count_rows(db, classes.error, "session_id", ids)
        result.check(errors == 0, "its errors are gone", f"{plural(errors, 'error')} left", hint)
        files = count_rows(db, classes.file, "session_id", ids)
        result.check(files == 0, "its files are gone", f"{plural(files, 'file')} left", hint)
        tickets = count_rows(db, classes.ticket, "session_id", ids)
        result.check(
            tickets == 0, "its tickets are gone", f"{plural(tickets, 'ticket')} left", hint
        )
        other = count_rows(db, classes.error, "session_id", [kept.id])
        result.check(other == 1, "the other session's error stays", plural(other, "error"))
    return result


if __name__ == "__main__":
    # `python -m sessionerror.scenarios.NAME [--db URL]` runs `sessionerror example NAME` as a
    # new program, not an import (the command line imports this module).
    import os
    import sys

    command = [sys.executable, "-m", "sessionerror", "example", "cascade", *sys.argv[1:]]
    os.execv(sys.executable, command)
