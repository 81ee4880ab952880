"""The reference ``session_errors`` model and the listeners that validate and log its writes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, relationship

from sessionerror.models.audit import get_logger
from sessionerror.models.base import Base
from sessionerror.models.enums import ErrorCategory
from sessionerror.models.mixin import SessionErrorMixin
from sessionerror.models.parents import Ticket, UploadedFile

__all__ = ["SessionError"]


class SessionError(SessionErrorMixin, Base):
    """The reference ``session_errors`` model (spec: SessionError)."""

    #: The file the error concerns, if any (no reverse side: the ORM never NULLs the link).
    related_file: Mapped[UploadedFile | None] = relationship()
    #: The ticket the error concerns, if any.
    related_ticket: Mapped[Ticket | None] = relationship()


def _validate_before_write(_mapper: Mapper[Any], _connection: Connection, target: Any) -> None:
    target.validate()


def _log_created(_mapper: Mapper[Any], _connection: Connection, target: Any) -> None:
    logger = get_logger()
    logger.info(
        "SessionError created for session %s: %s - %s",
        target.session_id,
        ErrorCategory(target.error_category).value,
        target.user_message,
    )
    logger.debug(
        "Error linked to %s stage, file: %s, ticket: %s",
        target.operation_stage,
        target.related_file_id,
        target.related_ticket_id,
    )


event.listen(SessionErrorMixin, "before_insert", _validate_before_write, propagate=True)
event.listen(SessionErrorMixin, "before_update", _validate_before_write, propagate=True)
event.listen(SessionErrorMixin, "after_insert", _log_created, propagate=True)
