"""What testdb needs to know to build a schema: the backend names and the schema settings.

testdb's own settings, so that it works from a script and never reaches up into the pytest
adapter: :mod:`sessionerror.plugin.config` maps its options onto :class:`SchemaSettings`.
Importing this module loads no SQLAlchemy (the plugin imports it at start-up).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from sqlalchemy import MetaData

__all__ = ["BACKENDS", "MEMORY_PATH", "Backend", "SchemaSettings", "load_object"]

#: The database kinds, in the order ``all`` runs them (one registry entry each:
#: :data:`sessionerror.testdb.backends.BACKEND_TYPES`).
BACKENDS = ("sqlite", "postgresql")
Backend = Literal["sqlite", "postgresql"]
#: ``sqlite_path`` value that selects an in-memory SQLite database.
MEMORY_PATH = ":memory:"


def load_object(path: str, *, source: str) -> Any:
    """Import ``package.module:attr.attr`` and return the attribute."""
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ValueError(
            f"{source}={path!r} is not an import path: write it as package.module:attribute"
        )
    problem: str | None = None
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        problem = f"cannot import {module_name!r} ({exc})"
    except Exception as exc:  # the module itself is broken: say so in one line, not a traceback
        problem = f"importing {module_name!r} raised {type(exc).__name__}: {_first_line(exc)}"
    if problem is not None:  # raised outside the except: no "during handling" chain
        raise ValueError(f"{source}={path!r}: {problem}")
    done: list[str] = []
    for part in attribute.split("."):
        if not hasattr(target, part):
            owner = ".".join([module_name, *done])
            close = difflib.get_close_matches(part, [n for n in dir(target) if n[:1] != "_"], 1)
            hint = f"; did you mean {module_name}:{'.'.join([*done, close[0]])}?" if close else ""
            raise ValueError(f"{source}={path!r}: {owner!r} has no attribute {part!r}{hint}")
        target = getattr(target, part)
        done.append(part)
    return target


def _fix(name: str, what: str) -> str:
    """``"set --sessionerror-<name> (ini ..., env ...) to <what>"``: every place it is set.

    The names follow the plugin's one rule for its options (``plugin.config.OptionSpec``).
    """
    cli = "--sessionerror-" + name.replace("_", "-")
    return f"set {cli} (ini sessionerror_{name}, env SESSIONERROR_{name.upper()}) to {what}"


def _load(path: str, name: str, fix: str) -> Any:
    """:func:`load_object` for setting ``name``, the fix added when the import itself failed."""
    try:
        return load_object(path, source=f"sessionerror_{name}")
    except ValueError as exc:
        message = str(exc)
    ends_with_fix = "did you mean" in message or "write it as" in message
    raise ValueError(message if ends_with_fix else f"{message}; {fix}")


def _kind(value: object) -> str:
    """``"a str"``, ``"the class Base"``: what a setting pointed at, without its repr."""
    if isinstance(value, type):
        return f"the class {value.__name__}"
    return f"a {type(value).__name__}"


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else "(no message)"


@dataclass(frozen=True)
class SchemaSettings:
    """Where the test schema comes from and how the test databases are kept."""

    #: Import path of the MetaData whose ``create_all`` builds the schema.
    metadata_path: str = "sessionerror.models:Base.metadata"
    #: Import path of a ``callable(connection)`` that builds the schema instead.
    schema_setup_path: str | None = None
    #: An alembic.ini whose migrations build the schema (excludes ``schema_setup_path``).
    alembic_ini: str | None = None
    alembic_target: str = "head"
    #: Keep the databases between runs, keyed on the schema's fingerprint.
    reuse_schema: bool = False
    #: ``"file"`` (a file per worker) or ``":memory:"``.
    sqlite_path: str = "file"

    def load_metadata(self) -> MetaData:
        """Import the configured MetaData; ValueError says in one line what to set it to."""
        from sqlalchemy import MetaData

        path = self.metadata_path
        fix = _fix("metadata", "your models' MetaData, e.g. myapp.models:Base.metadata")
        metadata = _load(path, "metadata", fix)
        if not isinstance(metadata, MetaData):
            inner = getattr(metadata, "metadata", None)
            hint = f"did you mean {path}.metadata?" if isinstance(inner, MetaData) else fix
            raise ValueError(
                f"sessionerror_metadata={path!r} is {_kind(metadata)}, not a sqlalchemy "
                f"MetaData; {hint}"
            )
        return metadata

    def load_schema_setup(self) -> Callable[..., Any] | None:
        """Import the configured schema-setup callable, if any (the Alembic runner with
        ``alembic_ini``)."""
        if self.alembic_ini is not None:  # migrations (issue 11)
            from sessionerror.testdb.migrations import AlembicSetup

            return AlembicSetup(self.alembic_ini, self.alembic_target)
        if self.schema_setup_path is None:
            return None
        fix = _fix("schema_setup", "a function taking a SQLAlchemy Connection")
        setup = _load(self.schema_setup_path, "schema_setup", fix)
        if not callable(setup):
            raise ValueError(
                f"sessionerror_schema_setup={self.schema_setup_path!r} is {_kind(setup)}, "
                f"not callable; {fix}"
            )
        return setup  # type: ignore[no-any-return]
