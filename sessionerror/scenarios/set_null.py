"""Scenario: deleting a file or a ticket keeps the error and clears its link (SET NULL)."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, delete

from sessionerror.models import (
    Ticket,
    UploadedFile,
)
from sessionerror.models.base import table_of
from sessionerror.models.enums import ErrorCategory, ErrorSeverity, OperationStage
from sessionerror.scenarios.common import (
    FK_HINT,
    ScenarioResult,
    foreign_keys_enforced,
    new_error,
    new_session,
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
        file = UploadedFile(session=workflow, filename="tickets.xlsx")
        db.add(file)
        ticket = Ticket(session=workflow, summary="Enable MFA for the VPN portal")
        error = new_error(
            db,
            workflow,
            category=ErrorCategory.ADMIN_REQUIRED,
            severity=ErrorSeverity.BLOCKING,
            stage=OperationStage.JIRA_EXPORT,
            message="Jira rejected our credentials.",
            code="JIRA_AUTH_401",
            file=file,
            ticket=ticket,
        )
        db.flush()
        before = stored_row(db, error.id)
        assert before is not None
        result.note("created an error linked to a file and a ticket of its session")
        hint = FK_HINT if not foreign_keys_enforced(db.connection()) else None

        db.execute(delete(table_of(UploadedFile)).where(table_of(UploadedFile).c.id == file.id))
        after_file = stored_row(db, error.id)
        result.note("deleted the file with DELETE FROM uploaded_files")
        result.check(after_file is not None, "the error still exists", str(after_file is not None))
        if after_file is not None:
            link = after_file["related_file_id"]
            result.check(link is None, "related_file_id is NULL", repr(link), hint)
            result.check(
                after_file["related_ticket_id"] == ticket.id,
                "the ticket link is untouched",
                repr(after_file["related_ticket_id"]),
            )

        db.execute(delete(table_of(Ticket)).where(table_of(Ticket).c.id == ticket.id))
        after = stored_row(db, error.id)
        result.note("deleted the ticket with DELETE FROM tickets")
        result.check(after is not None, "the error still exists", str(after is not None))
        if after is not None:
            link = after["related_ticket_id"]
            result.check(link is None, "related_ticket_id is NULL", repr(link), hint)
            context = [k for k in before if k not in ("related_file_id", "related_ticket_id")]
            changed = [k for k in context if before[k] != after[k]]
            result.check(
                not changed,
                "message, category, severity, stage, details, code and time are unchanged",
                ", ".join(changed) + " changed" if changed else "all unchanged",
            )
    return result
