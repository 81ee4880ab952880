"""``render_item``: the Alembic render hook for the models' types, CHECKs and defaults.

``alembic revision --autogenerate`` on a model using :class:`~sessionerror.SessionErrorMixin`
otherwise writes a migration that (1) names ``sessionerror.models.types.UTCDateTime`` without
importing it, (2) creates the SQLite-only and the PostgreSQL-only CHECK constraints on every
backend, and (3) renders ``func.now()`` server defaults as the SQL of the dialect it ran
against. With the hook each becomes portable. Chain your own hook by calling ``render_item``
first and falling back when it returns False.
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["render_item"]


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Alembic ``render_item`` hook: imports for custom types, per-dialect CHECKs, portable
    ``now()`` defaults. Returns False for everything else (Alembic's own rendering)."""
    if type_ == "type":
        return _type_import(obj, autogen_context)
    if type_ == "check":
        return _dialect_check(obj, autogen_context)
    if type_ == "server_default":
        return _portable_default(obj, autogen_context)
    return False


def _type_import(type_obj: Any, autogen_context: Any) -> str | Literal[False]:
    variant = _json_variant(type_obj, autogen_context)
    if variant:
        return variant
    # Alembic writes a non-SQLAlchemy type as <its module>.<repr>; import that module.
    module = type(type_obj).__module__
    user_prefix = autogen_context.opts.get("user_module_prefix")
    if not module.startswith("sqlalchemy.") and user_prefix is None and module != "builtins":
        autogen_context.imports.add(f"import {module}")
    return False


def _json_variant(type_obj: Any, autogen_context: Any) -> str | Literal[False]:
    """``JSON().with_variant(JSONB(), "postgresql")``: Alembic writes ``astext_type=Text()``
    without its ``sa.`` prefix inside a variant (a NameError); JSONB's default is that anyway."""
    from sqlalchemy import JSON
    from sqlalchemy.dialects.postgresql import JSONB

    variants = getattr(type_obj, "_variant_mapping", None)
    if (
        not variants
        or type(type_obj) is not JSON
        or set(variants) != {"postgresql"}
        or type(variants["postgresql"]) is not JSONB
        or variants["postgresql"].none_as_null
    ):
        return False
    sa = autogen_context.opts.get("sqlalchemy_module_prefix") or ""
    autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
    return f"{sa}JSON().with_variant(postgresql.JSONB(), 'postgresql')"


def _original_check(constraint: Any, autogen_context: Any) -> Any:
    """The CheckConstraint of the target metadata that ``constraint`` was copied from.

    Alembic renders copies of the model's constraints, and a copy loses ``ddl_if()``.
    """
    table = getattr(constraint, "table", None)
    metadatas = autogen_context.metadata
    if table is None or metadatas is None:
        return None
    from sqlalchemy import CheckConstraint

    for metadata in metadatas if isinstance(metadatas, list | tuple) else [metadatas]:
        original_table = metadata.tables.get(table.key)
        if original_table is None:
            continue
        for original in original_table.constraints:
            if (
                isinstance(original, CheckConstraint)
                and original.name == constraint.name
                and str(original.sqltext) == str(constraint.sqltext)
            ):
                return original
    return None


def _dialect_check(constraint: Any, autogen_context: Any) -> str | Literal[False]:
    original = _original_check(constraint, autogen_context)
    if original is None:  # (a constraint with no columns is falsy: compare with None)
        original = constraint
    ddl_if = getattr(original, "_ddl_if", None)  # set by CheckConstraint(...).ddl_if()
    dialect = getattr(ddl_if, "dialect", None)
    if ddl_if is None or not isinstance(dialect, str) or ddl_if.callable_ is not None:
        return False
    if getattr(original, "_type_bound", False):
        return False  # rendered by its Enum / Boolean type
    sa = autogen_context.opts.get("sqlalchemy_module_prefix") or ""
    op = autogen_context.opts.get("alembic_module_prefix") or ""
    name = f", name={op}f({str(constraint.name)!r})" if constraint.name else ""
    return f"{sa}CheckConstraint({str(constraint.sqltext)!r}{name}).ddl_if(dialect={dialect!r})"


def _portable_default(default: Any, autogen_context: Any) -> str | Literal[False]:
    from sqlalchemy.sql.functions import GenericFunction

    argument = getattr(default, "arg", None)
    if isinstance(argument, GenericFunction) and not list(argument.clauses):
        sa = autogen_context.opts.get("sqlalchemy_module_prefix") or ""
        return f"{sa}func.{argument.name}()"
    return False
