"""The abstract base factory: the session wiring every factory of the kit shares.

Concrete factories (:mod:`sessionerror.factories.classes`) only describe their data; this base
looks the ORM session up on every create (the one bound to the current context, see
:func:`sessionerror.bind_session`) and only flushes, so the caller's transaction decides. When
``sessionerror_model`` names a team's class (``runtime.model_choice.configure_model``), the kit's
factories of the reference schema create with that model's factories instead.
"""

# factory-boy's classes are untyped; everything else here is checked strictly.
# mypy: disable-error-code="no-untyped-call"
from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from factory.alchemy import SQLAlchemyModelFactory
from factory.declarations import Trait
from sqlalchemy.orm import Session

from sessionerror.errors import NoSessionBoundError
from sessionerror.factories.creation_async import AsyncFactoryMixin
from sessionerror.models.binding import current_session
from sessionerror.runtime.model_choice import configured_model

__all__ = ["SessionErrorKitFactory", "bound_session", "set_stand_in"]

#: ``(kit factory, configured model) -> the factory that creates instead`` (set by
#: :mod:`sessionerror.factories.team`, which builds the factories of a team's model).
_stand_in: list[Callable[[type[Any], type[Any]], type[Any]]] = []


def set_stand_in(find: Callable[[type[Any], type[Any]], type[Any]]) -> None:
    """Install how a kit factory finds its stand-in when ``sessionerror_model`` names a model."""
    _stand_in[:] = [find]


def bound_session() -> Session:
    """The ORM session the factories write to: the one bound to the current context."""
    try:
        return current_session()
    except NoSessionBoundError:
        raise NoSessionBoundError(
            "sessionerror factories need a database session: in pytest use the sessionerror_db "
            "fixture (or session_error_factory); elsewhere wrap the calls in "
            "`with sessionerror.bind_session(db): SessionErrorFactory()`"
        ) from None


class SessionErrorKitFactory(AsyncFactoryMixin, SQLAlchemyModelFactory):
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
        sqlalchemy_session_factory = bound_session
        sqlalchemy_session_persistence = "flush"

    @classmethod
    def _generate(cls, strategy: str, params: dict[str, Any]) -> Any:
        model = configured_model()
        if model is not None and _stand_in:  # sessionerror_model: the team's class is created
            stand_in = _stand_in[0](cls, model)
            if stand_in is not cls:
                return stand_in._generate(strategy, params)
        # A trait that is not passed is looked up, fails, and factory-boy formats an
        # AttributeError listing every declaration: about a sixth of a create's time with a dozen
        # traits. Passing the unused traits as False gives the same object without that cost.
        for name, parameter in cls._meta.parameters.items():
            if isinstance(parameter, Trait):
                params.setdefault(name, False)
        return super()._generate(strategy, params)

    @classmethod
    def _adjust_kwargs(cls, **kwargs: Any) -> dict[str, Any]:
        return {
            key: value
            for key, value in kwargs.items()
            if not (key in cls._omit_when_none and value is None)
        }
