"""The factories of the reference schema: what each row holds, with traits for the variants.

The session wiring lives in :class:`~sessionerror.factories.base.SessionErrorKitFactory`; the
text and technical details of an error come from :mod:`sessionerror.factories.content`.
"""

# factory-boy's declarations are untyped functions; everything else here is checked strictly.
# mypy: disable-error-code="no-untyped-call"
from __future__ import annotations

import string
from typing import Any

from factory import random as factory_random
from factory.declarations import (
    LazyAttribute,
    LazyAttributeSequence,
    LazyFunction,
    Maybe,
    SelfAttribute,
    Sequence,
    SubFactory,
    Trait,
)
from factory.faker import Faker as FakerValue

from sessionerror.factories.base import SessionErrorKitFactory
from sessionerror.factories.content import error_template, pick_category, pick_stage
from sessionerror.models import SessionError, Ticket, UploadedFile, WorkflowSession
from sessionerror.models.enums import ErrorCategory, ErrorSeverity, OperationStage

__all__ = [
    "KIT_FACTORIES",
    "SessionErrorFactory",
    "TicketFactory",
    "UploadedFileFactory",
    "WorkflowSessionFactory",
]


#: Teams that import ticket batches (Faker's ``company`` costs ~0.8 ms, a third of a create).
_TEAMS = (
    "Facilities",
    "Finance",
    "Field Service",
    "HR",
    "IT Support",
    "Logistics",
    "Procurement",
    "Security",
)


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
        team = LazyFunction(lambda: factory_random.randgen.choice(_TEAMS))

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


# Plain random values come from factory-boy's generator (the one Faker shares and
# seed_factories reseeds): a direct call costs a fraction of a Faker provider lookup.


def _random_secret() -> str:
    return "".join(factory_random.randgen.choices(string.ascii_letters, k=24))


def _random_hex() -> str:
    return f"{factory_random.randgen.getrandbits(64):016x}"


def _random_int(low: int, high: int) -> Any:
    return LazyFunction(lambda: factory_random.randgen.randint(low, high))


def _filename(o: Any) -> str:
    related = getattr(o, "related_file", None)
    return related.filename if related is not None else str(o.default_filename)


def _ticket(o: Any) -> str:
    related = getattr(o, "related_ticket", None)
    return related.summary if related is not None else str(o.default_ticket)


def _linked(factory_class: type[SessionErrorKitFactory]) -> Any:
    """A file or ticket of the error's own session."""
    return SubFactory(
        factory_class,
        session=SelfAttribute("..session"),
        session_id=SelfAttribute("..session_id"),
    )


class SessionErrorFactory(SessionErrorKitFactory):
    """A valid SessionError with its parent session, and content that fits its stage.

    Without a trait or value, the stage and category vary from error to error (weighted like a
    real workflow: :data:`~sessionerror.factories.content.STAGE_WEIGHTS`, ``CATEGORY_WEIGHTS``)
    and so do the code, message, recovery steps and details; ``seed_factories`` makes them
    reproducible. The severity stays ``warning`` unless asked for: an error that blocked its
    session by chance would change what the code under test does.

    Traits: severities ``blocking`` / ``warning`` / ``info``; categories ``user_fixable`` /
    ``admin_required`` / ``temporary``; stages ``upload`` / ``processing`` / ``review`` /
    ``jira_export``; ``with_file`` / ``with_ticket`` link a file or ticket of the error's own
    session. The raw technical details include the ``secret`` parameter (an Authorization
    header, a DSN password, a token in a logged URL...); the model redacts it before storage.
    """

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
        with_file = Trait(related_file=_linked(UploadedFileFactory))
        with_ticket = Trait(related_ticket=_linked(TicketFactory))
        #: The credential the raw technical details leak; the model must redact it.
        secret = LazyFunction(_random_secret)
        request_id = LazyFunction(_random_hex)
        project = LazyFunction(lambda: factory_random.randgen.choice(("OPS", "SUP", "FIN", "HR")))
        row = _random_int(2, 400)
        attempt = _random_int(1, 3)
        default_filename = FakerValue("file_name", extension="xlsx")
        default_ticket = FakerValue("catch_phrase")
        filename = LazyAttribute(_filename)
        ticket = LazyAttribute(_ticket)
        #: The content template of the error's stage and category, looked up once.
        template = LazyAttribute(lambda o: error_template(o.operation_stage, o.error_category))

    session_id = None
    session = _parent_session()
    error_category = LazyFunction(lambda: pick_category(factory_random.randgen))
    severity = ErrorSeverity.WARNING
    operation_stage = LazyFunction(lambda: pick_stage(factory_random.randgen).value)
    related_file = None
    related_ticket = None
    user_message = LazyAttribute(lambda o: o.template.message_for(o))
    recovery_actions = LazyAttribute(lambda o: o.template.actions_for(o))
    technical_details = LazyAttribute(lambda o: o.template.details(o))
    error_code = LazyAttribute(lambda o: o.template.error_code)


#: Every concrete factory of the kit (their sequences are reset by ``seed_factories``).
KIT_FACTORIES: tuple[type[SessionErrorKitFactory], ...] = (
    WorkflowSessionFactory,
    UploadedFileFactory,
    TicketFactory,
    SessionErrorFactory,
)
