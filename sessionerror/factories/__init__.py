"""factory-boy factories for the reference model, their content templates and bulk history."""

from sessionerror.factories.classes import (
    ErrorTemplate,
    HistoryStats,
    SessionErrorFactory,
    SessionErrorKitFactory,
    TicketFactory,
    UploadedFileFactory,
    WorkflowSessionFactory,
    bulk_create_history,
    error_template,
    seed_factories,
)

__all__ = [
    "ErrorTemplate",
    "HistoryStats",
    "SessionErrorFactory",
    "SessionErrorKitFactory",
    "TicketFactory",
    "UploadedFileFactory",
    "WorkflowSessionFactory",
    "bulk_create_history",
    "error_template",
    "seed_factories",
]
