"""Factories for a team's own model: ``factories_for(TeamError)``, outside pytest or inside.

The team's parents are found from the class's foreign keys (``session_id``, ``related_file_id``,
``related_ticket_id``) and its relationships. The SessionError factory is the kit's
:class:`~sessionerror.factories.SessionErrorFactory` (same traits, content and randomness) on the
team's class; each parent gets a factory that fills what the kit knows (a session's ``name``, a
file's ``filename``, a ticket's ``summary`` / ``title``) and the other NOT NULL columns by type
(:mod:`sessionerror.models.filling`). Links go through the team's relationships when it has them,
else through the foreign-key columns. The factories are built once per model and cached.
"""

# factory-boy's declarations are untyped; everything else here is checked strictly.
# mypy: disable-error-code="no-untyped-call"
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from factory.declarations import (
    BaseDeclaration,
    LazyAttribute,
    LazyFunction,
    Maybe,
    SelfAttribute,
    Sequence,
    SubFactory,
    Trait,
)
from factory.faker import Faker as FakerValue
from sqlalchemy import Column, Table
from sqlalchemy.orm import Mapper, RelationshipDirection

from sessionerror.errors import UsageError
from sessionerror.factories.base import SessionErrorKitFactory, set_stand_in
from sessionerror.factories.classes import (
    SessionErrorFactory,
    TicketFactory,
    UploadedFileFactory,
    WorkflowSessionFactory,
)
from sessionerror.models.filling import (
    is_generated_key,
    mapped_class,
    needs_value,
    parent_table,
    type_filler,
    unfillable,
)
from sessionerror.runtime.model_choice import configured_model

__all__ = ["ModelFactories", "configured_factories", "factories_for", "generated_factories"]

#: ``table.column`` -> a constant, a no-argument callable or a factory-boy declaration.
Values = Mapping[str, Any]


@dataclass(frozen=True)
class ModelFactories:
    """The factories of one SessionError model: its own and its parents'.

    ``uploaded_file`` / ``ticket`` are None when the model has no foreign key to such a table
    (then the ``with_file`` / ``with_ticket`` traits say so when used).
    """

    session_error: type[SessionErrorKitFactory]
    session: type[SessionErrorKitFactory]
    uploaded_file: type[SessionErrorKitFactory] | None
    ticket: type[SessionErrorKitFactory] | None

    def all(self) -> tuple[type[SessionErrorKitFactory], ...]:
        """Every factory (parents first)."""
        found = (self.session, self.uploaded_file, self.ticket, self.session_error)
        return tuple(factory for factory in found if factory is not None)


_REFERENCE = ModelFactories(
    SessionErrorFactory, WorkflowSessionFactory, UploadedFileFactory, TicketFactory
)
_CACHE: dict[type[Any], tuple[Values, ModelFactories]] = {}

_HOW = (
    'pass factories_for({model}, values={{"{name}": ...}}) '
    "(a value, a no-argument callable or a factory-boy declaration)"
)


class _LinkedKwargs:
    """Hands a parent object to the team's class the way it takes it.

    ``_links`` maps a factory argument (``session``, ``related_file``...) to the team's
    relationship (the object is passed as is), to its foreign-key column (the parent's key is
    passed: ``(column, key attribute)``), or to None (the table has no such link: dropped).
    """

    _links: ClassVar[dict[str, tuple[str, str | None] | None]] = {}

    @classmethod
    def _adjust_kwargs(cls, **kwargs: Any) -> dict[str, Any]:
        adjusted: dict[str, Any] = super()._adjust_kwargs(**kwargs)  # type: ignore[misc]
        for name, target in cls._links.items():
            if name not in adjusted:
                continue
            value = adjusted.pop(name)
            if target is None:
                continue
            key, attribute = target
            adjusted[key] = value if attribute is None else getattr(value, attribute)
        return adjusted


def _declaration(value: Any) -> Any:
    if isinstance(value, BaseDeclaration):
        return value
    if callable(value):
        return LazyFunction(value)
    return value


def _link(mapper: Mapper[Any], column: Column[Any]) -> tuple[str, str | None]:
    """How ``mapper``'s class takes the parent of ``column``: its relationship, else the key."""
    for relationship in mapper.relationships:
        if relationship.direction is RelationshipDirection.MANYTOONE and set(
            relationship.local_columns
        ) == {column}:
            return relationship.key, None
    [foreign_key] = column.foreign_keys
    parent = mapped_class(mapper.class_, foreign_key.column.table)
    if parent is None:
        raise UsageError(f"{column.table.name}.{column.key}: no class is mapped to its table")
    key = parent.__mapper__.get_property_by_column(foreign_key.column).key
    return mapper.get_property_by_column(column).key, key


class _Builder:
    """Builds the factories of one model (see :func:`factories_for`)."""

    def __init__(self, model: type[Any], values: Values) -> None:
        self.model = model
        self.values = dict(values)
        self.used: set[str] = set()

    def fill(
        self, table: Table, skip: set[str], known: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Declarations for ``table``'s columns: the team's values, then known ones, then by
        type for the NOT NULL columns; an unfillable column raises naming ``table.column``.

        ``skip`` and ``known`` are keyed by column name; declarations by attribute name."""
        known = known or {}
        mapper: Mapper[Any] = _class_of(self.model, table).__mapper__
        attrs: dict[str, Any] = {}
        for column in table.columns:
            name = f"{table.name}.{column.name}"
            attribute = mapper.get_property_by_column(column).key
            if name in self.values:
                self.used.add(name)
                attrs[attribute] = _declaration(self.values[name])
            elif column.name in skip:
                continue
            elif column.name in known and _long_text(column):
                attrs[attribute] = known[column.name]
            elif needs_value(column) and not is_generated_key(column):
                filler = None if column.foreign_keys else type_filler(column)
                if filler is None:
                    raise unfillable(column, _HOW.format(model=self.model.__name__, name=name))
                attrs[attribute] = LazyFunction(filler)
        return attrs

    def session_factory(self, sessions: Table) -> type[SessionErrorKitFactory]:
        """The factory of the team's ``sessions`` class."""
        parent = _class_of(self.model, sessions)
        known = {
            "name": Sequence(lambda n: f"Ticket import #{n + 1}"),
            "current_stage": "upload",
        }
        attrs = self.fill(sessions, skip=set(), known=known)
        return _make(parent, attrs, (SessionErrorKitFactory,))

    def child_factory(
        self,
        table: Table | None,
        sessions: Table,
        session_factory: type[SessionErrorKitFactory],
        known: Mapping[str, Any],
        traits: Mapping[str, Any] | None = None,
    ) -> type[SessionErrorKitFactory] | None:
        """The factory of a file or ticket class, a child of the team's session unless the
        caller gives ``session`` / ``session_id``."""
        if table is None:
            return None
        child = _class_of(self.model, table)
        mapper: Mapper[Any] = child.__mapper__
        to_sessions = [
            c for c in table.columns if any(fk.column.table is sessions for fk in c.foreign_keys)
        ]
        links: dict[str, tuple[str, str | None] | None] = {"session": None, "session_id": None}
        attrs = self.fill(table, skip={c.name for c in to_sessions}, known=known)
        if len(to_sessions) == 1:
            [column] = to_sessions
            links["session"] = _link(mapper, column)
            links["session_id"] = (mapper.get_property_by_column(column).key, None)
            attrs.update(session_id=None, session=_new_parent(session_factory))
        attrs.update(_links=links, _omit_when_none=("session", "session_id"))
        return _make(child, attrs, (_LinkedKwargs, SessionErrorKitFactory), params=traits)

    def build(self) -> ModelFactories:
        """Every factory of the model."""
        model = self.model
        mapper: Mapper[Any] = model.__mapper__
        sessions = parent_table(model, "session_id")
        if sessions is None:
            raise UsageError(
                f"{model.__name__}.session_id has no foreign key: the kit cannot find the "
                "sessions table. Fix: declare session_id = mapped_column(ForeignKey('sessions.id'))"
            )
        session_factory = self.session_factory(sessions)
        files = parent_table(model, "related_file_id")
        tickets = parent_table(model, "related_ticket_id")
        file_known = {"filename": FakerValue("file_name", category="office")}
        file_factory = self.child_factory(files, sessions, session_factory, file_known)
        ticket_known = {"summary": FakerValue("catch_phrase"), "title": FakerValue("catch_phrase")}
        exported = {}
        if tickets is not None and "jira_key" in tickets.c:
            exported["exported"] = Trait(jira_key=Sequence(lambda n: f"OPS-{1001 + n}"))
        ticket_factory = self.child_factory(
            tickets, sessions, session_factory, ticket_known, exported
        )
        table: Table = model.__table__
        links: dict[str, tuple[str, str | None] | None] = {
            argument: _link(mapper, table.c[column]) if column in table.c else None
            for argument, column in _ERROR_LINKS.items()
        }
        declared = set(SessionErrorFactory._meta.declarations)
        attrs = self.fill(table, skip=declared | set(_ERROR_LINKS.values()))
        attrs["_links"] = links
        attrs["session"] = _new_parent(session_factory)
        params = {
            "with_file": _linked_trait("related_file", file_factory, model, "uploaded_files"),
            "with_ticket": _linked_trait("related_ticket", ticket_factory, model, "tickets"),
            "filename": LazyAttribute(
                lambda o: _text_of(o.related_file, ("filename", "name"), o.default_filename)
            ),
            "ticket": LazyAttribute(
                lambda o: _text_of(o.related_ticket, ("summary", "title"), o.default_ticket)
            ),
        }
        # Declared by the kit's factory but not attributes of the team's class: not passed.
        exclude = tuple(name for name in declared if name not in links and name not in mapper.attrs)
        unknown = set(self.values) - self.used
        if unknown:
            raise UsageError(
                f"factories_for({model.__name__}): no column {', '.join(sorted(unknown))} in its "
                "tables. Fix: name values as 'table.column'"
            )
        bases = (_LinkedKwargs, SessionErrorFactory)
        error_factory = _make(model, attrs, bases, params=params, exclude=exclude)
        return ModelFactories(error_factory, session_factory, file_factory, ticket_factory)


#: The kit factory's arguments for the parents of an error, and the columns they fill.
_ERROR_LINKS = {
    "session": "session_id",
    "related_file": "related_file_id",
    "related_ticket": "related_ticket_id",
}


def _new_parent(session_factory: type[SessionErrorKitFactory]) -> Any:
    """A new parent session unless the caller gave ``session_id``."""
    return Maybe("session_id", yes_declaration=None, no_declaration=SubFactory(session_factory))


def _long_text(column: Column[Any]) -> bool:
    """A text column long enough for the kit's realistic values (else it is filled by type)."""
    try:
        is_text = column.type.python_type is str
    except NotImplementedError:
        return False
    length = getattr(column.type, "length", None)
    return is_text and (length is None or length >= 100)


def _text_of(related: Any, names: tuple[str, ...], default: Any) -> str:
    for name in names:
        value = getattr(related, name, None)
        if isinstance(value, str) and value:
            return value
    return str(default)


def _missing(table: str, model: type[Any]) -> Callable[[], Any]:
    def fail() -> Any:
        raise UsageError(f"{model.__name__} has no foreign key to {table}: no row to link")

    return fail


def _linked_trait(
    argument: str, factory: type[SessionErrorKitFactory] | None, model: type[Any], table: str
) -> Any:
    """``with_file`` / ``with_ticket``: a file or ticket of the error's own session."""
    if factory is None:
        return Trait(**{argument: LazyFunction(_missing(table, model))})
    linked = SubFactory(
        factory, session=SelfAttribute("..session"), session_id=SelfAttribute("..session_id")
    )
    return Trait(**{argument: linked})


def _class_of(model: type[Any], table: Table) -> type[Any]:
    found = mapped_class(model, table)
    if found is None:
        raise UsageError(
            f"{model.__name__}: no class of its registry is mapped to table {table.name}. "
            "Fix: map a class to it on the same declarative Base"
        )
    return found


def _make(
    model: type[Any],
    attrs: dict[str, Any],
    bases: tuple[type[Any], ...],
    params: Mapping[str, Any] | None = None,
    exclude: tuple[str, ...] = (),
) -> type[SessionErrorKitFactory]:
    meta = type("Meta", (), {"model": model, "exclude": exclude})
    namespace: dict[str, Any] = {"Meta": meta, **attrs}
    if params:
        namespace["Params"] = type("Params", (), dict(params))
    namespace["__doc__"] = f"Factory of {model.__module__}.{model.__qualname__} (generated)."
    namespace["__module__"] = __name__
    factory_class: type[SessionErrorKitFactory] = type(f"{model.__name__}Factory", bases, namespace)
    return factory_class


def factories_for(model: type[Any], *, values: Values | None = None) -> ModelFactories:
    """The factories of ``model`` (a SessionError class) and of its parent classes.

    ``factories_for(TeamError).session_error()`` creates a valid ``TeamError`` with a new
    parent of the team's session class; its traits, ``create_batch``, ``create_async`` and
    ``create_batch_async`` work as :class:`~sessionerror.factories.SessionErrorFactory`'s.
    NOT NULL columns the kit does not know are filled by type; ``values`` declares the others
    (or overrides any): ``{"sessions.region_id": 1}``, a no-argument callable or a factory-boy
    declaration per ``table.column``. Built once per model and cached (a call with other
    ``values`` rebuilds). The reference ``SessionError`` gets the kit's own factories.
    """
    given: Values = dict(values or {})
    cached = _CACHE.get(model)
    if cached is not None and (values is None or cached[0] == given):
        return cached[1]
    if not given and model is SessionErrorFactory._meta.model:
        return _REFERENCE
    if getattr(model, "__table__", None) is None or not isinstance(model.__table__, Table):
        raise UsageError(f"factories_for({model!r}): not a mapped SQLAlchemy class")
    built = _Builder(model, given).build()
    _CACHE[model] = (given, built)
    return built


def generated_factories() -> tuple[type[SessionErrorKitFactory], ...]:
    """Every factory built by :func:`factories_for` so far (``seed_factories`` resets them)."""
    return tuple(factory for _, built in _CACHE.values() for factory in built.all())


def configured_factories() -> ModelFactories:
    """The factories of the model ``sessionerror_model`` names (default: the kit's own)."""
    model = configured_model()
    return _REFERENCE if model is None else factories_for(model)


#: The kit factory of each role of :class:`ModelFactories`.
_ROLES: dict[type[Any], tuple[str, str]] = {
    SessionErrorFactory: ("session_error", "session_errors"),
    WorkflowSessionFactory: ("session", "sessions"),
    UploadedFileFactory: ("uploaded_file", "uploaded_files"),
    TicketFactory: ("ticket", "tickets"),
}


def _stand_in(factory: type[Any], model: type[Any]) -> type[Any]:
    """The factory of ``model``'s schema that creates in place of the kit's ``factory``."""
    role = _ROLES.get(factory)
    if role is None or model is SessionErrorFactory._meta.model:
        return factory
    found = getattr(factories_for(model), role[0])
    if found is None:
        raise UsageError(
            f"{factory.__name__}: {model.__name__} (sessionerror_model) has no foreign key to "
            f"{role[1]}, so there is no such row to create"
        )
    return found  # type: ignore[no-any-return]


set_stand_in(_stand_in)
