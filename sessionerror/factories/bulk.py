"""A large error history in seconds: Core ``INSERT`` batches of rows validated once per template.

Used by the benchmarks and by tests that need volume (retention, query plans); for a handful of
rows with realistic variety, use the factories.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from sessionerror.factories.content import ERROR_TEMPLATES
from sessionerror.models import SessionError, WorkflowSession
from sessionerror.models.base import table_of
from sessionerror.models.enums import ErrorSeverity, OperationStage
from sessionerror.models.session_guard import require_sync_session
from sessionerror.models.types import utcnow
from sessionerror.models.validation import validate_error_fields

__all__ = ["HistoryStats", "bulk_create_history"]


@dataclass(frozen=True)
class HistoryStats:
    """What :func:`bulk_create_history` inserted and how long it took."""

    sessions: int
    errors: int
    blocking_errors: int
    elapsed_seconds: float

    @property
    def rows_per_second(self) -> float:
        """Inserted rows (sessions + errors) per second."""
        total = self.sessions + self.errors
        return total / self.elapsed_seconds if self.elapsed_seconds > 0 else float("inf")


@dataclass(frozen=True)
class _Values:
    """The values a template is filled with, for rows built without factory-boy."""

    secret: str
    request_id: str
    project: str
    row: int
    attempt: int
    filename: str
    ticket: str


def _validated_rows(rng: random.Random) -> list[dict[str, Any]]:
    """One validated (and redacted) error row per stage and category; severity varies later."""
    rows = []
    for (stage, category), template in ERROR_TEMPLATES.items():
        values = _Values(
            secret=f"{rng.getrandbits(96):024x}",
            request_id=f"{rng.getrandbits(64):016x}",
            project="OPS",
            row=rng.randint(2, 400),
            attempt=1,
            filename="tickets-q3.xlsx",
            ticket="Replace the badge reader in building B",
        )
        rows.append(
            validate_error_fields(
                error_category=category,
                severity=ErrorSeverity.WARNING,
                operation_stage=stage,
                user_message=template.message_for(values),
                recovery_actions=template.actions_for(values),
                technical_details=template.details(values),
                error_code=template.error_code,
            )
        )
    return rows


def bulk_create_history(
    db: Session,
    *,
    sessions: int,
    errors_per_session: int,
    seed: int | None = None,
    blocking_ratio: float = 0.05,
    batch_size: int = 5000,
    days: float = 30,
    now: datetime | None = None,
) -> HistoryStats:
    """Insert ``sessions`` workflow sessions with ``errors_per_session`` errors each, fast.

    Rows are plain dicts built from templates validated (and redacted) once with the model's
    own validation functions, varied in ids, categories, stages and timestamps, and inserted
    with Core ``INSERT`` executemany in batches of ``batch_size``, inside the caller's
    transaction (nothing is committed). Sessions are spread over the last ``days`` days; each
    error is a bit later than its session. About ``blocking_ratio`` of the errors are blocking.
    The same ``seed`` gives the same content and times (ids are always fresh).
    """
    db = require_sync_session(
        db, "bulk_create_history()", async_api="await async_db.run_sync(bulk_create_history, ...)"
    )
    if sessions < 0 or errors_per_session < 0:
        raise ValueError("sessions and errors_per_session must be >= 0")
    if not 0.0 <= blocking_ratio <= 1.0:
        raise ValueError(f"blocking_ratio must be between 0 and 1, got {blocking_ratio}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    started = time.perf_counter()
    rng = random.Random(seed)
    moment = now or utcnow()
    templates = _validated_rows(rng)
    others = (ErrorSeverity.WARNING, ErrorSeverity.INFO)
    session_table = table_of(WorkflowSession)
    error_table = table_of(SessionError)
    stages = [stage.value for stage in OperationStage]
    span_seconds = max(days, 0) * 86400.0
    blocking = 0
    session_rows: list[dict[str, Any]] = []
    error_rows: list[dict[str, Any]] = []

    def flush_batches(final: bool = False) -> None:
        if session_rows and (final or len(session_rows) >= batch_size):
            db.execute(insert(session_table), session_rows)
            session_rows.clear()
        if error_rows and (final or len(error_rows) >= batch_size):
            if session_rows:  # parents first
                db.execute(insert(session_table), session_rows)
                session_rows.clear()
            db.execute(insert(error_table), error_rows)
            error_rows.clear()

    for index in range(sessions):
        session_id = uuid.uuid4()
        created = moment - timedelta(seconds=rng.random() * span_seconds)
        session_rows.append(
            {
                "id": session_id,
                "name": f"History import #{index + 1}",
                "current_stage": rng.choice(stages),
                "created_at": created,
                "updated_at": created,
            }
        )
        for _ in range(errors_per_session):
            template = rng.choice(templates)
            is_blocking = rng.random() < blocking_ratio
            blocking += is_blocking
            error_rows.append(
                {
                    **template,
                    "id": uuid.uuid4(),
                    "session_id": session_id,
                    "severity": ErrorSeverity.BLOCKING if is_blocking else rng.choice(others),
                    "created_at": min(created + timedelta(minutes=rng.random() * 90), moment),
                }
            )
        flush_batches()
    flush_batches(final=True)
    return HistoryStats(
        sessions=sessions,
        errors=sessions * errors_per_session,
        blocking_errors=blocking,
        elapsed_seconds=time.perf_counter() - started,
    )
