"""What the factories' errors say: one content template per workflow stage and error category.

Each template holds the error code, the user message and recovery steps (``str.format`` text with
the fields ``filename``, ``ticket``, ``project`` and ``row``) and a builder of realistic raw
technical details: a Jira API response, a parser stack trace, a storage timeout... Every builder
puts the ``secret`` value where real applications leak credentials (an Authorization header, a
DSN password, a token in a URL), for the model to redact.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sessionerror.models.enums import ErrorCategory, OperationStage

__all__ = [
    "CATEGORY_WEIGHTS",
    "ERROR_TEMPLATES",
    "STAGE_WEIGHTS",
    "ErrorTemplate",
    "TemplateValues",
    "error_template",
    "pick_category",
    "pick_stage",
]


class TemplateValues(Protocol):
    """The values a template is filled with (a factory's resolver, or plain values)."""

    @property
    def secret(self) -> str: ...
    @property
    def request_id(self) -> str: ...
    @property
    def project(self) -> str: ...
    @property
    def row(self) -> int: ...
    @property
    def attempt(self) -> int: ...
    @property
    def filename(self) -> str: ...
    @property
    def ticket(self) -> str: ...


@dataclass(frozen=True)
class ErrorTemplate:
    """What an error of one stage and category says and stores."""

    error_code: str
    #: ``str.format`` template; fields: ``filename``, ``ticket``, ``project``, ``row``.
    user_message: str
    recovery_actions: tuple[str, ...]
    #: Builds the raw technical details (with the secret) from the factory's values.
    details: Callable[[Any], dict[str, Any]]

    def message_for(self, values: TemplateValues) -> str:
        """The user message filled with ``values``."""
        return self.user_message.format_map(_Fields(values))

    def actions_for(self, values: TemplateValues) -> dict[str, Any]:
        """The ``{"actions": [...]}`` document filled with ``values``."""
        fields = _Fields(values)
        return {"actions": [step.format_map(fields) for step in self.recovery_actions]}


class _Fields:
    """The format fields of a template, read from ``values`` only when the text uses them.

    A factory computes a value when it is first read: a message that does not name the ticket
    never pays for a fake ticket summary.
    """

    _NAMES = frozenset({"filename", "ticket", "project", "row"})

    def __init__(self, values: TemplateValues) -> None:
        self._values = values

    def __getitem__(self, name: str) -> object:
        if name not in self._NAMES:
            raise KeyError(name)
        return getattr(self._values, name)


def _jira_response(status: int, reason: str, body: dict[str, Any]) -> Callable[[Any], Any]:
    def build(o: Any) -> dict[str, Any]:
        credentials = base64.b64encode(f"svc-export:{o.secret}".encode()).decode()
        headers = {
            "Content-Type": "application/json;charset=UTF-8",
            "X-AREQUESTID": o.request_id,
            "X-Seraph-LoginReason": "AUTHENTICATED_FAILED" if status == 401 else "OK",
        }
        if status in (429, 503):
            headers["Retry-After"] = "30"
        return {
            "kind": "jira_api_response",
            "request": {
                "method": "POST",
                "url": f"https://jira.example.com/rest/api/2/issue?project={o.project}",
                "headers": {
                    "Authorization": f"Basic {credentials}",
                    "Content-Type": "application/json",
                    "X-Request-Id": o.request_id,
                },
            },
            "response": {"status": status, "reason": reason, "headers": headers, "body": body},
            "attempt": o.attempt,
        }

    return build


def _parser_trace(exception: str) -> Callable[[Any], Any]:
    def build(o: Any) -> dict[str, Any]:
        return {
            "kind": "parser_error",
            "parser": "openpyxl",
            "filename": o.filename,
            "sheet": "Tickets",
            "row": o.row,
            "stack_trace": (
                "Traceback (most recent call last):\n"
                '  File "/app/workflow/processing/pipeline.py", line 88, in run\n'
                "    rows = parser.parse(document)\n"
                '  File "/app/workflow/processing/parser.py", line 212, in parse\n'
                "    yield self._parse_row(index, cells)\n"
                '  File "/app/workflow/processing/parser.py", line 247, in _parse_row\n'
                "    due = parse_date(cells['Due date'])\n"
                f"{exception}"
            ),
            "source_url": f"https://files.internal/api/v1/blobs/{o.request_id}?token={o.secret}",
        }

    return build


def _storage_fault(kind: str, operation: str, exception: str) -> Callable[[Any], Any]:
    def build(o: Any) -> dict[str, Any]:
        return {
            "kind": kind,
            "operation": operation,
            "endpoint": f"postgresql://workflow:{o.secret}@db.internal:5432/workflow",
            "timeout_seconds": 30,
            "elapsed_ms": 30000 + o.row,
            "attempt": o.attempt,
            "max_attempts": 3,
            "exception": exception,
        }

    return build


def _upload_check(o: Any) -> dict[str, Any]:
    return {
        "kind": "upload_validation",
        "filename": o.filename,
        "size_bytes": 1024 * o.row,
        "detected_mime": "application/zip",
        "accepted": [".xlsx", ".csv"],
        "request": {
            "method": "POST",
            "path": "/api/sessions/upload",
            "headers": {"Cookie": f"session={o.secret}", "User-Agent": "Mozilla/5.0"},
        },
    }


def _object_store(o: Any) -> dict[str, Any]:
    return {
        "kind": "object_storage_error",
        "operation": "PutObject",
        "bucket": "workflow-uploads",
        "key": f"sessions/{o.request_id}/{o.filename}",
        "error": {"Code": "AccessDenied", "Message": "Access Denied"},
        "credentials": {"access_key_id": "AKIAEXAMPLE", "secret_access_key": o.secret},
    }


def _review_check(o: Any) -> dict[str, Any]:
    return {
        "kind": "review_validation",
        "ticket": o.ticket,
        "field_errors": {"assignee": "user 'j.doe' is not active in Jira"},
        "reviewer_request": {"headers": {"Authorization": f"Bearer {o.secret}"}},
    }


_TIMEOUT = "sqlalchemy.exc.OperationalError: canceling statement due to statement timeout"
ERROR_TEMPLATES: dict[tuple[OperationStage, ErrorCategory], ErrorTemplate] = {
    (OperationStage.UPLOAD, ErrorCategory.USER_FIXABLE): ErrorTemplate(
        "UPLOAD_UNSUPPORTED_FORMAT",
        'The file "{filename}" could not be read: it is not an Excel workbook or CSV file.',
        ("Save the file as .xlsx or .csv.", "Upload the saved file again."),
        _upload_check,
    ),
    (OperationStage.UPLOAD, ErrorCategory.ADMIN_REQUIRED): ErrorTemplate(
        "UPLOAD_STORAGE_DENIED",
        'The file "{filename}" could not be stored because the file storage refused access.',
        ("Ask an administrator to check the storage credentials.", "Upload the file again."),
        _object_store,
    ),
    (OperationStage.UPLOAD, ErrorCategory.TEMPORARY): ErrorTemplate(
        "UPLOAD_STORAGE_TIMEOUT",
        'Saving "{filename}" took too long. We will retry automatically.',
        ("Wait a minute; the upload is retried automatically.", "Upload again if it persists."),
        _storage_fault("storage_timeout", "INSERT uploaded_files", _TIMEOUT),
    ),
    (OperationStage.PROCESSING, ErrorCategory.USER_FIXABLE): ErrorTemplate(
        "PARSE_INVALID_DATE",
        'Row {row} of "{filename}" has a due date we cannot read.',
        ("Write the due date as YYYY-MM-DD in row {row}.", "Upload the corrected file."),
        _parser_trace("ValueError: time data '31/02/2024' does not match format '%Y-%m-%d'"),
    ),
    (OperationStage.PROCESSING, ErrorCategory.ADMIN_REQUIRED): ErrorTemplate(
        "PARSE_INTERNAL_ERROR",
        'Processing "{filename}" failed because of a problem on our side.',
        ("Ask an administrator to look at the processing logs.", "Try again later."),
        _parser_trace("KeyError: 'Due date'"),
    ),
    (OperationStage.PROCESSING, ErrorCategory.TEMPORARY): ErrorTemplate(
        "PROCESSING_DB_TIMEOUT",
        'Processing "{filename}" was interrupted by a database timeout.',
        ("Wait a few minutes; processing restarts automatically.",),
        _storage_fault("storage_timeout", "UPDATE tickets", _TIMEOUT),
    ),
    (OperationStage.REVIEW, ErrorCategory.USER_FIXABLE): ErrorTemplate(
        "REVIEW_INACTIVE_ASSIGNEE",
        'The ticket "{ticket}" is assigned to someone who is not active in Jira.',
        ("Choose another assignee for the ticket.", "Save the review again."),
        _review_check,
    ),
    (OperationStage.REVIEW, ErrorCategory.ADMIN_REQUIRED): ErrorTemplate(
        "REVIEW_USER_LOOKUP_FAILED",
        'We could not check the assignee of "{ticket}": the user directory refused access.',
        ("Ask an administrator to renew the directory credentials.",),
        _review_check,
    ),
    (OperationStage.REVIEW, ErrorCategory.TEMPORARY): ErrorTemplate(
        "REVIEW_SAVE_TIMEOUT",
        'Saving your review of "{ticket}" took too long. Your changes are kept.',
        ("Save the review again in a moment.",),
        _storage_fault("storage_timeout", "UPDATE tickets", _TIMEOUT),
    ),
    (OperationStage.JIRA_EXPORT, ErrorCategory.USER_FIXABLE): ErrorTemplate(
        "JIRA_FIELD_INVALID",
        'Jira refused the ticket "{ticket}": the priority value is not allowed in {project}.',
        ("Pick one of the priorities offered for {project}.", "Export the ticket again."),
        _jira_response(
            400,
            "Bad Request",
            {"errorMessages": [], "errors": {"priority": "Priority name 'Urgent' is not valid"}},
        ),
    ),
    (OperationStage.JIRA_EXPORT, ErrorCategory.ADMIN_REQUIRED): ErrorTemplate(
        "JIRA_AUTH_401",
        'The ticket "{ticket}" could not be exported: Jira rejected our credentials.',
        (
            "Ask a Jira administrator to renew the export account's API token.",
            "Export the ticket again once the token is renewed.",
        ),
        _jira_response(
            401,
            "Unauthorized",
            {"errorMessages": ["You are not authenticated. Authentication required."]},
        ),
    ),
    (OperationStage.JIRA_EXPORT, ErrorCategory.TEMPORARY): ErrorTemplate(
        "JIRA_UNAVAILABLE_503",
        'Jira did not answer while exporting "{ticket}". We will retry automatically.',
        ("Wait a few minutes; the export is retried automatically.",),
        _jira_response(503, "Service Unavailable", {"errorMessages": ["Service unavailable"]}),
    ),
}


def error_template(stage: OperationStage | str, category: ErrorCategory | str) -> ErrorTemplate:
    """The content template used for errors of ``stage`` and ``category``."""
    return ERROR_TEMPLATES[(OperationStage(stage), ErrorCategory(category))]


#: How often a factory error without a stage trait comes from each stage (relative weights): most
#: errors happen where users hand in data, fewer in review and at the Jira export.
STAGE_WEIGHTS: dict[OperationStage, int] = {
    OperationStage.UPLOAD: 4,
    OperationStage.PROCESSING: 3,
    OperationStage.REVIEW: 2,
    OperationStage.JIRA_EXPORT: 2,
}
#: How often a factory error without a category trait is of each category: mostly fixable by
#: the user, then passing outages, then what needs an administrator.
CATEGORY_WEIGHTS: dict[ErrorCategory, int] = {
    ErrorCategory.USER_FIXABLE: 5,
    ErrorCategory.TEMPORARY: 3,
    ErrorCategory.ADMIN_REQUIRED: 2,
}


def pick_stage(rng: random.Random) -> OperationStage:
    """A stage drawn from ``rng`` with :data:`STAGE_WEIGHTS`."""
    return rng.choices(tuple(STAGE_WEIGHTS), weights=tuple(STAGE_WEIGHTS.values()))[0]


def pick_category(rng: random.Random) -> ErrorCategory:
    """A category drawn from ``rng`` with :data:`CATEGORY_WEIGHTS`."""
    return rng.choices(tuple(CATEGORY_WEIGHTS), weights=tuple(CATEGORY_WEIGHTS.values()))[0]
