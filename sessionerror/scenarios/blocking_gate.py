"""Scenario: a blocking error stops the Jira export until resolved; the attempt is audited."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from sessionerror.models.audit import AUDIT, audit_resolution_attempt, get_logger
from sessionerror.models.enums import ErrorSeverity, OperationStage
from sessionerror.scenarios.common import (
    ScenarioResult,
    new_error,
    new_jira_auth_error,
    new_session,
    new_ticket,
    rolled_back,
    scenario_classes,
    stored_row,
)

__all__ = ["jira_export_allowed", "run_blocking_gate"]


def jira_export_allowed(db: Session, session_id: uuid.UUID) -> bool:
    """The gate of the Jira export: allowed only while the session has no blocking error."""
    return not scenario_classes().error.has_blocking_errors(session_id, db=db)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=AUDIT)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == AUDIT:
            self.records.append(record)


@contextmanager
def _audit_records() -> Iterator[list[logging.LogRecord]]:
    logger = get_logger()
    handler = _Collect()
    previous = logger.level
    if not logger.isEnabledFor(AUDIT):
        logger.setLevel(AUDIT)
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def run_blocking_gate(bind: Engine | Connection) -> ScenarioResult:
    """The Jira export is refused while a blocking error exists and allowed once it is resolved.

    Resolution here: an administrator renews the Jira token and the blocking error is downgraded
    to ``info`` (the row stays, for the audit trail); each attempt is logged at AUDIT level.
    """
    result = ScenarioResult(
        "blocking_gate", "Jira export is refused while the session has blocking errors"
    )
    with rolled_back(bind, result) as db, _audit_records() as audit:
        workflow = new_session(db, "Security findings ready for Jira")
        ticket = new_ticket(db, workflow, "Rotate the file server admin password")
        blocker = new_jira_auth_error(
            db,
            workflow,
            "Your tickets could not be sent to Jira: Jira rejected our credentials.",
            ticket=ticket,
        )
        new_error(db, workflow, severity=ErrorSeverity.WARNING, stage=OperationStage.REVIEW)
        db.flush()
        audited: Any = blocker  # audit's protocol wants settable ids; the model's are read-only
        result.note("created a session with a blocking JIRA_AUTH_401 error and a warning")

        allowed = jira_export_allowed(db, workflow.id)
        result.check(not allowed, "the export is refused", "refused" if not allowed else "allowed")
        audit_resolution_attempt(audited, action="retry Jira export", succeeded=allowed)

        blocker.severity = ErrorSeverity.INFO
        blocker.technical_details = {
            **blocker.technical_details,
            "resolution": "Jira API token renewed by an administrator",
        }
        db.flush()
        audit_resolution_attempt(
            audited,
            action="Jira token renewed; error downgraded from blocking to info",
            succeeded=True,
            actor="admin",
        )
        result.note("an administrator renewed the token; the error was downgraded to info")

        allowed = jira_export_allowed(db, workflow.id)
        result.check(allowed, "the export is allowed", "allowed" if allowed else "refused")
        if allowed and hasattr(type(ticket), "jira_key"):
            ticket.jira_key = "OPS-5001"
            db.flush()
            result.note("exported the ticket as OPS-5001")
        kept = stored_row(db, blocker.id)
        result.check(
            kept is not None and kept["severity"] == ErrorSeverity.INFO,
            "the resolved error is kept (as info) for the audit trail",
            "kept" if kept is not None else "missing",
        )
        result.check(
            len(audit) == 2,
            "each resolution attempt was logged at AUDIT level",
            "; ".join(record.getMessage() for record in audit) or "no AUDIT records",
        )
    return result


if __name__ == "__main__":
    # `python -m sessionerror.scenarios.NAME [--db URL]` runs `sessionerror example NAME` as a
    # new program, not an import (the command line imports this module).
    import os
    import sys

    command = [sys.executable, "-m", "sessionerror", "example", "blocking_gate", *sys.argv[1:]]
    os.execv(sys.executable, command)
