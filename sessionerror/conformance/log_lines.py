"""Spec §7 "Specific Logging": the INFO and DEBUG lines written when an error is created."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sessionerror.conformance.harness import Harness
from sessionerror.conformance.report import ClauseResult, fail, passed
from sessionerror.models.enums import ErrorCategory, OperationStage

__all__ = ["check_log_lines"]

_INFO = "SessionError created for session {session_id}: {error_category} - {user_message}"
_DEBUG = (
    "Error linked to {operation_stage} stage, file: {related_file_id}, ticket: {related_ticket_id}"
)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _captured() -> Iterator[list[logging.LogRecord]]:
    """Every record that reaches the root logger, DEBUG included (levels restored after)."""
    handler = _Collect()
    root, kit = logging.getLogger(), logging.getLogger("sessionerror")
    levels = root.level, kit.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    kit.setLevel(logging.DEBUG)
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        kit.setLevel(levels[1])


def check_log_lines(harness: Harness) -> list[ClauseResult]:
    """Create one error linked to a file and a ticket; look for both lines with its values."""
    with harness.orm() as db:
        parents = harness.parents(db)
        db.flush()
        values: dict[str, Any] = {
            "error_category": ErrorCategory.TEMPORARY,
            "operation_stage": OperationStage.JIRA_EXPORT.value,
            "user_message": "Jira did not answer",
            "related_file_id": parents.file_1,
            "related_ticket_id": parents.ticket_1,
        }
        with _captured() as records:
            harness.add_error(db, parents.session_1, **values)
        fields = {**values, "session_id": parents.session_1, "error_category": "temporary"}
    results = []
    for clause, level, template in (
        ("§7.info", logging.INFO, _INFO),
        ("§7.debug", logging.DEBUG, _DEBUG),
    ):
        name = logging.getLevelName(level)
        wanted = template.format(**fields)
        title = f"{name}: {template}"
        lines = [r.getMessage() for r in records if r.levelno == level]
        if wanted in lines:
            results.append(passed(clause, title, wanted))
            continue
        found = f"{name} lines: {lines!r}" if lines else f"no {name} line"
        fix = (
            f"log at {name} after the INSERT (an after_insert event), word for word: "
            f"{template} (UUIDs as str() gives them, enum values); SessionErrorMixin does it"
        )
        results.append(fail(clause, title, found, repr(wanted), fix))
    return results
