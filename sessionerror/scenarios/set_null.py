"""Scenario: deleting a file or a ticket keeps the error and clears its link (SET NULL)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, Engine, delete
from sqlalchemy.orm import Session

from sessionerror.models.base import table_of
from sessionerror.scenarios.common import (
    ScenarioResult,
    fk_hint,
    new_file,
    new_jira_auth_error,
    new_session,
    new_ticket,
    rolled_back,
    stored_row,
)

__all__ = ["run_set_null"]


def run_set_null(bind: Engine | Connection) -> ScenarioResult:
    """Deleting a file or ticket keeps the error: the link becomes NULL, the context stays."""
    result = ScenarioResult(
        "set_null", "deleting a file or ticket keeps the error, with the link set to NULL"
    )
    with rolled_back(bind, result) as db:
        workflow = new_session(db, "Session with linked error")
        file = new_file(db, workflow, "tickets.xlsx")
        ticket = new_ticket(db, workflow, "Enable MFA for the VPN portal")
        error = new_jira_auth_error(
            db, workflow, "Jira rejected our credentials.", file=file, ticket=ticket
        )
        db.flush()
        before = stored_row(db, error.id)
        assert before is not None
        result.note("created an error linked to a file and a ticket of its session")
        hint = fk_hint(db)

        after_file = _delete_linked(db, result, error.id, file, "file", "related_file_id", hint)
        if after_file is not None:
            result.check(
                after_file["related_ticket_id"] == ticket.id,
                "the ticket link is untouched",
                repr(after_file["related_ticket_id"]),
            )

        after = _delete_linked(db, result, error.id, ticket, "ticket", "related_ticket_id", hint)
        if after is not None:
            context = [k for k in before if k not in ("related_file_id", "related_ticket_id")]
            changed = [k for k in context if before[k] != after[k]]
            result.check(
                not changed,
                "message, category, severity, stage, details, code and time are unchanged",
                ", ".join(changed) + " changed" if changed else "all unchanged",
            )
    return result


def _delete_linked(
    db: Session,
    result: ScenarioResult,
    error_id: uuid.UUID,
    linked: Any,
    noun: str,
    link: str,
    hint: str | None,
) -> dict[str, Any] | None:
    """Delete ``linked`` with plain SQL; check the error survives with ``link`` NULL; its row."""
    table = table_of(type(linked))
    db.execute(delete(table).where(table.c.id == linked.id))
    after = stored_row(db, error_id)
    result.note(f"deleted the {noun} with DELETE FROM {table.name}")
    result.check(after is not None, "the error still exists", str(after is not None))
    if after is not None:
        result.check(after[link] is None, f"{link} is NULL", repr(after[link]), hint)
    return after


if __name__ == "__main__":
    # `python -m sessionerror.scenarios.NAME [--db URL]` runs `sessionerror example NAME` as a
    # new program, not an import (the command line imports this module).
    import os
    import sys

    command = [sys.executable, "-m", "sessionerror", "example", "set_null", *sys.argv[1:]]
    os.execv(sys.executable, command)
