"""factory-boy factories for the reference schema, and a bulk path for a large error history.

The factories create rows in the ORM session bound to the current context, looked up on every
create, so they always follow the current test's session. In pytest, use the ``sessionerror_db``
fixture (or the ``session_error_factory`` / ``session_error`` fixtures, which depend on it).
Outside pytest, bind a session with one call::

    from sqlalchemy.orm import Session
    import sessionerror
    from sessionerror.factories.classes import SessionErrorFactory

    with Session(engine) as db, sessionerror.bind_session(db):
        error = SessionErrorFactory(blocking=True, jira_export=True, with_ticket=True)
        db.commit()

Rows are flushed, never committed: the caller's transaction decides. With no session bound, a
create raises :class:`~sessionerror.errors.NoSessionBoundError` saying how to bind one.

Traits: severities ``blocking`` / ``warning`` / ``info``; categories ``user_fixable`` /
``admin_required`` / ``temporary``; stages ``upload`` / ``processing`` / ``review`` /
``jira_export``; ``with_file`` / ``with_ticket`` link a file or ticket of the error's own
session. The content (message, recovery steps, technical details, error code) follows the stage
and category. The raw technical details include the ``secret`` parameter (an Authorization header,
a DSN password, a token in a logged URL...); the model redacts it before storage.

:func:`seed_factories` makes the generated data reproducible; :func:`bulk_create_history`
inserts a large history with Core ``INSERT`` batches.
"""

# factory-boy's declarations are untyped functions; everything else here is checked strictly.
# mypy: disable-error-code="no-untyped-call"
from __future__ import annotations

import base64
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import factory.random
from factory.alchemy import SQLAlchemyModelFactory
from factory.declarations import (
    LazyAttribute,
    LazyAttributeSequence,
    Maybe,
    SelfAttribute,
    Sequence,
    SubFactory,
    Trait,
)
from factory.faker import Faker as FakerValue
from faker import Faker
from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from sessionerror.errors import NoSessionBoundError
from sessionerror.models import SessionError, Ticket, UploadedFile, WorkflowSession
from sessionerror.models.binding import current_session
from sessionerror.models.enums import ErrorCategory, ErrorSeverity, OperationStage
from sessionerror.models.types import utcnow
from sessionerror.models.validation import (
    validate_error_code,
    validate_operation_stage,
    validate_recovery_actions,
    validate_technical_details,
    validate_user_message,
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


def _factory_session() -> Session:
    """The ORM session the factories write to: the one bound to the current context."""
    try:
        return current_session()
    except NoSessionBoundError:
        raise NoSessionBoundError(
            "sessionerror factories need a database session: in pytest use the sessionerror_db "
            "fixture (or session_error_factory); elsewhere wrap the calls in "
            "`with sessionerror.bind_session(db): SessionErrorFactory()`"
        ) from None


class SessionErrorKitFactory(SQLAlchemyModelFactory):
    """Abstract base: the session wiring shared by every factory of the kit.

    The session is looked up on every create (``sqlalchemy_session_factory``) and rows are only
    flushed. ``sqlalchemy_get_or_create`` is deliberately not used: it calls
    ``session.rollback()`` on conflicts, which would undo the caller's whole transaction.
    """

    #: Keyword arguments dropped when None, so that an explicit parent id or an absent
    #: relationship never overwrites a foreign key at flush time.
    _omit_when_none: ClassVar[tuple[str, ...]] = ("session", "session_id")

    class Meta:
        abstract = True
        sqlalchemy_session_factory = _factory_session
        sqlalchemy_session_persistence = "flush"

    @classmethod
    def _adjust_kwargs(cls, **kwargs: Any) -> dict[str, Any]:
        return {
            key: value
            for key, value in kwargs.items()
            if not (key in cls._omit_when_none and value is None)
        }


def _parent_session() -> Any:
    """A new parent WorkflowSession unless the caller gave ``session_id``."""
    return Maybe(
        "session_id",
        yes_declaration=None,
        no_declaration=SubFactory(WorkflowSessionFactory),
    )


class WorkflowSessionFactory(SessionErrorKitFactory):
    """A workflow session (table ``sessions``) named like an uploaded batch."""

    class Meta:
        model = WorkflowSession

    class Params:
        team = FakerValue("company")

    name = LazyAttributeSequence(lambda o, n: f"{o.team} ticket import #{n + 1}")
    current_stage = OperationStage.UPLOAD.value


class UploadedFileFactory(SessionErrorKitFactory):
    """A spreadsheet uploaded into a session; a new parent session unless one is given."""

    class Meta:
        model = UploadedFile

    session_id = None
    session = _parent_session()
    filename = FakerValue("file_name", category="office")


class TicketFactory(SessionErrorKitFactory):
    """A ticket drafted in review; trait ``exported`` gives it a Jira key."""

    class Meta:
        model = Ticket

    class Params:
        exported = Trait(jira_key=Sequence(lambda n: f"OPS-{1001 + n}"))

    session_id = None
    session = _parent_session()
    summary = FakerValue("catch_phrase")
    jira_key = None


# -- realistic content --------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorTemplate:
    """What an error of one stage and category says and stores."""

    error_code: str
    #: ``str.format`` template; fields: ``filename``, ``ticket``, ``project``, ``row``.
    user_message: str
    recovery_actions: tuple[str, ...]
    #: Builds the raw technical details (with the secret) from the factory's values.
    details: Callable[[Any], dict[str, Any]]


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
_TEMPLATES: dict[tuple[OperationStage, ErrorCategory], ErrorTemplate] = {
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
    return _TEMPLATES[(OperationStage(stage), ErrorCategory(category))]


def _template_of(o: Any) -> ErrorTemplate:
    return error_template(o.operation_stage, o.error_category)


def _format_fields(o: Any) -> dict[str, Any]:
    return {"filename": o.filename, "ticket": o.ticket, "project": o.project, "row": o.row}


def _user_message(o: Any) -> str:
    return _template_of(o).user_message.format(**_format_fields(o))


def _recovery_actions(o: Any) -> dict[str, Any]:
    fields = _format_fields(o)
    return {"actions": [step.format(**fields) for step in _template_of(o).recovery_actions]}


def _filename(o: Any) -> str:
    related = getattr(o, "related_file", None)
    return related.filename if related is not None else str(o.default_filename)


def _ticket(o: Any) -> str:
    related = getattr(o, "related_ticket", None)
    return related.summary if related is not None else str(o.default_ticket)


class SessionErrorFactory(SessionErrorKitFactory):
    """A valid SessionError with its parent session; see the module docstring for the traits."""

    _omit_when_none = ("session", "session_id", "related_file", "related_ticket")

    class Meta:
        model = SessionError

    class Params:
        blocking = Trait(severity=ErrorSeverity.BLOCKING)
        warning = Trait(severity=ErrorSeverity.WARNING)
        info = Trait(severity=ErrorSeverity.INFO)
        user_fixable = Trait(error_category=ErrorCategory.USER_FIXABLE)
        admin_required = Trait(error_category=ErrorCategory.ADMIN_REQUIRED)
        temporary = Trait(error_category=ErrorCategory.TEMPORARY)
        upload = Trait(operation_stage=OperationStage.UPLOAD.value)
        processing = Trait(operation_stage=OperationStage.PROCESSING.value)
        review = Trait(operation_stage=OperationStage.REVIEW.value)
        jira_export = Trait(operation_stage=OperationStage.JIRA_EXPORT.value)
        with_file = Trait(
            related_file=SubFactory(
                UploadedFileFactory,
                session=SelfAttribute("..session"),
                session_id=SelfAttribute("..session_id"),
            )
        )
        with_ticket = Trait(
            related_ticket=SubFactory(
                TicketFactory,
                session=SelfAttribute("..session"),
                session_id=SelfAttribute("..session_id"),
            )
        )
        #: The credential the raw technical details leak; the model must redact it.
        secret = FakerValue("pystr", min_chars=24, max_chars=24)
        request_id = FakerValue("hexify", text="^" * 16)
        project = FakerValue("random_element", elements=("OPS", "SUP", "FIN", "HR"))
        row = FakerValue("random_int", min=2, max=400)
        attempt = FakerValue("random_int", min=1, max=3)
        default_filename = FakerValue("file_name", extension="xlsx")
        default_ticket = FakerValue("catch_phrase")
        filename = LazyAttribute(_filename)
        ticket = LazyAttribute(_ticket)

    session_id = None
    session = _parent_session()
    error_category = ErrorCategory.USER_FIXABLE
    severity = ErrorSeverity.WARNING
    operation_stage = OperationStage.UPLOAD.value
    related_file = None
    related_ticket = None
    user_message = LazyAttribute(_user_message)
    recovery_actions = LazyAttribute(_recovery_actions)
    technical_details = LazyAttribute(lambda o: _template_of(o).details(o))
    error_code = LazyAttribute(lambda o: _template_of(o).error_code)


_FACTORIES: tuple[type[SessionErrorKitFactory], ...] = (
    WorkflowSessionFactory,
    UploadedFileFactory,
    TicketFactory,
    SessionErrorFactory,
)


def seed_factories(seed: int) -> None:
    """Make the factories' data reproducible from ``seed``.

    Seeds factory-boy's random generator and the random generator shared by every Faker
    instance, and resets the factories' sequences. Ids and timestamps stay unique.
    """
    factory.random.reseed_random(seed)
    Faker.seed(seed)
    for kit_factory in _FACTORIES:
        kit_factory.reset_sequence()


# -- bulk history -------------------------------------------------------------------------


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
    """The values a template needs, for rows built without factory-boy."""

    secret: str
    request_id: str
    project: str
    row: int
    attempt: int
    filename: str
    ticket: str


def _validated_rows(rng: random.Random) -> list[dict[str, Any]]:
    """One validated (and redacted) error row per stage and category."""
    rows = []
    for (stage, category), template in _TEMPLATES.items():
        values = _Values(
            secret=f"{rng.getrandbits(96):024x}",
            request_id=f"{rng.getrandbits(64):016x}",
            project="OPS",
            row=rng.randint(2, 400),
            attempt=1,
            filename="tickets-q3.xlsx",
            ticket="Replace the badge reader in building B",
        )
        fields = _format_fields(values)
        rows.append(
            {
                "error_category": category,
                "operation_stage": validate_operation_stage(stage),
                "user_message": validate_user_message(template.user_message.format(**fields)),
                "recovery_actions": validate_recovery_actions(
                    {"actions": [step.format(**fields) for step in template.recovery_actions]}
                ),
                "technical_details": validate_technical_details(template.details(values)),
                "error_code": validate_error_code(template.error_code),
            }
        )
    return rows


def _table(model: type[Any]) -> Table:
    table = model.__table__
    if not isinstance(table, Table):  # pragma: no cover - mapped to a plain Table
        raise TypeError(f"{model.__name__} is not mapped to a Table")
    return table


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
    session_table = _table(WorkflowSession)
    error_table = _table(SessionError)
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
