"""The reference ``session_errors`` model.

Its validation, redaction and creation log before and after each write are the mixin's own
hooks (:mod:`sessionerror.models.mixin`), shared by every model that mixes it in.
"""

from __future__ import annotations

from sqlalchemy.orm import Mapped, relationship

from sessionerror.models.base import Base
from sessionerror.models.mixin import SessionErrorMixin
from sessionerror.models.parents import Ticket, UploadedFile

__all__ = ["SessionError"]


class SessionError(SessionErrorMixin, Base):
    """The reference ``session_errors`` model (spec: SessionError)."""

    #: The file the error concerns, if any (no reverse side: the ORM never NULLs the link).
    related_file: Mapped[UploadedFile | None] = relationship()
    #: The ticket the error concerns, if any.
    related_ticket: Mapped[Ticket | None] = relationship()
