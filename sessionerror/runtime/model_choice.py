"""Which ``session_errors`` model a repository writes: the team's, never the kit's by default.

Written once for :class:`~sessionerror.runtime.repository.SessionErrorRepository` and
:class:`~sessionerror.runtime.repository_async.AsyncSessionErrorRepository`.

A *contract model* is a mapped class that mixes in
:class:`~sessionerror.models.mixin.SessionErrorMixin` (the reference ``SessionError``
included) or is mapped to a table named ``session_errors``. Without ``model=`` the repository
takes, in this order:

0. the model the run names (``sessionerror_model`` in pytest, :func:`configure_model` elsewhere);
1. the one contract model of the declarative registries whose objects the session holds
   (the parents it has loaded or added tell which schema it works on);
2. the one contract model mapped in the process (a team's app that imports its own model and
   not the kit's reference one);
3. the reference ``SessionError`` when no contract model is mapped at all.

Anything else (the reference model and a team's, or two teams' models, and nothing in the
session to tell them apart) is a TypeError naming ``model=``: writing the kit's class on a
team's schema silently drops the team's column defaults.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Mapper, Session, mapperlib, registry

from sessionerror.models.contract import SESSION_ERRORS_TABLE
from sessionerror.models.mixin import SessionErrorMixin

__all__ = [
    "check_error_model",
    "configure_model",
    "configured_model",
    "contract_models",
    "resolve_error_model",
]

#: The team's SessionError class named by ``sessionerror_model`` (None: not named).
_configured: list[type[Any]] = []


def _is_contract(mapper: Mapper[Any]) -> bool:
    if mapper.inherits is not None:  # an inheritance subclass writes its base's table
        return False
    table_name = getattr(mapper.local_table, "name", None)
    return issubclass(mapper.class_, SessionErrorMixin) or table_name == SESSION_ERRORS_TABLE


def contract_models(registries: Iterable[registry] | None = None) -> list[type[Any]]:
    """The contract models mapped in ``registries`` (default: every live registry), by name."""
    if registries is None:
        # SQLAlchemy's own weak set of registries (configure_mappers() walks it); 1.4 to 2.1.
        registries = list(mapperlib._mapper_registries)
    found = {m.class_ for reg in registries for m in reg.mappers if _is_contract(m)}
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def configured_model() -> type[Any] | None:
    """The SessionError class the run names (``sessionerror_model``), or None."""
    return _configured[0] if _configured else None


def configure_model(model: type[Any] | None) -> type[Any] | None:
    """Name the team's SessionError class for the factories, repositories and data sets (None:
    back to the default); returns the one named before, to restore it."""
    previous = configured_model()
    _configured[:] = [] if model is None else [model]
    return previous


def check_error_model(value: object, source: str) -> type[Any]:
    """``value`` if it is a mapped SessionError class (a SessionErrorMixin subclass or a class
    mapped to ``session_errors``), else ValueError in one line starting with ``source``."""
    if isinstance(value, type):
        mapper: Any = inspect(value, raiseerr=False)
        if isinstance(mapper, Mapper) and _is_contract(mapper):
            return value
        what = f"the class {value.__name__}, not a mapped SessionError class"
    else:
        what = f"a {type(value).__name__}, not a class"
    raise ValueError(
        f"{source} is {what}: point it at your SessionErrorMixin subclass (or the class mapped "
        f"to {SESSION_ERRORS_TABLE}), e.g. myapp.models:SessionError"
    )


def _session_registries(db: Session) -> set[registry]:
    """The registries of the objects ``db`` holds (loaded or pending)."""
    classes = {key[0] for key in db.identity_map.keys()}  # noqa: SIM118 (no __iter__ typed)
    classes.update(type(obj) for obj in db.new)
    found = set()
    for cls in classes:
        mapper = inspect(cls, raiseerr=False)
        if isinstance(mapper, Mapper):
            found.add(mapper.registry)
    return found


def _name(cls: type[Any]) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def resolve_error_model(db: Session, model: object, api: str) -> type[Any]:
    """The model ``api`` (``"SessionErrorRepository"``) writes with ``db``; see the module doc.

    ``model`` is the caller's ``model=`` (None: resolve). ``db`` is a sync Session (an
    AsyncSession's ``sync_session``).
    """
    if model is not None:
        if not isinstance(model, type) or not isinstance(inspect(model, raiseerr=False), Mapper):
            raise TypeError(
                f"{api}(db, model=...) needs a mapped model class such as your "
                f"SessionErrorMixin subclass, got {model!r}"
            )
        return model
    named = configured_model()
    if named is not None:
        return named
    in_session = contract_models(_session_registries(db))
    if len(in_session) == 1:
        return in_session[0]
    mapped = contract_models()
    if len(mapped) == 1:
        return mapped[0]
    if not mapped:
        from sessionerror.models.session_error import SessionError

        return SessionError
    names = ", ".join(_name(cls) for cls in mapped)
    raise TypeError(
        f"{api}(db) cannot tell which session_errors model to write: {names} are mapped and "
        f"the session holds no object of one schema; pass it: {api}(db, model=YourErrorModel)"
    )
