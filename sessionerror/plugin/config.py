"""Internal: the plugin's settings, one table of options resolved into a frozen dataclass.

Each setting has a CLI flag ``--sessionerror-<name>``, an ini key ``sessionerror_<name>`` and an
environment variable ``SESSIONERROR_<NAME>``. Precedence: CLI flag, then environment variable,
then ini key, then the default.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sessionerror.testdb.settings import BACKENDS, Backend, SchemaSettings, load_object
from sessionerror.urls import DatabaseURL

if TYPE_CHECKING:
    from sqlalchemy import MetaData

__all__ = [
    "BACKENDS",
    "OPTIONS",
    "REFERENCE_MODEL",
    "Backend",
    "OptionSpec",
    "SessionErrorConfig",
    "load_model_object",
    "load_object",
    "options_markdown",
    "parse_bool",
]

_BACKEND_CHOICES = (*BACKENDS, "all")
#: The ``sessionerror_model`` default: the kit's reference SessionError.
REFERENCE_MODEL = "sessionerror.models:SessionError"


@dataclass(frozen=True)
class OptionSpec:
    """One setting: its help text is shared by the CLI flag, the ini key and the README."""

    name: str
    help: str
    default: str | None = None
    is_flag: bool = False
    choices: tuple[str, ...] | None = None

    @property
    def cli(self) -> str:
        """The command-line flag."""
        return "--sessionerror-" + self.name.replace("_", "-")

    @property
    def ini(self) -> str:
        """The ini key (also the argparse ``dest``)."""
        return "sessionerror_" + self.name

    @property
    def env(self) -> str:
        """The environment variable."""
        return "SESSIONERROR_" + self.name.upper()


OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec(
        "backend",
        f"Backend(s) the database fixtures run on: {', '.join(BACKENDS)} or all "
        "(all runs each database test once per backend).",
        default="sqlite",
        choices=_BACKEND_CHOICES,
    ),
    OptionSpec(
        "postgres_url",
        "URL of a PostgreSQL server to use instead of starting one; the kit creates its own "
        "databases there and drops them. Unreachable is an error, never a skip. The app's "
        "async URL (postgresql+asyncpg://) is accepted.",
    ),
    OptionSpec(
        "require_postgres",
        "Fail the run instead of skipping PostgreSQL tests when no PostgreSQL can be provided.",
        default="false",
        is_flag=True,
    ),
    OptionSpec(
        "pg_bin_dir",
        "Directory holding initdb and pg_ctl for the throwaway local server "
        "(default: found via pg_config, PATH or /usr/lib/postgresql/*/bin).",
    ),
    OptionSpec(
        "no_local_postgres",
        "Do not start a throwaway local PostgreSQL server from the binaries on this machine.",
        default="false",
        is_flag=True,
    ),
    OptionSpec(
        "no_containers",
        "Do not try testcontainers (Docker) for PostgreSQL.",
        default="false",
        is_flag=True,
    ),
    OptionSpec(
        "container_image",
        "Docker image for the testcontainers PostgreSQL.",
        default="postgres:15-alpine",
    ),
    OptionSpec(
        "sqlite_path",
        "SQLite database: 'file' (a temporary file per xdist worker) or ':memory:'.",
        default="file",
    ),
    OptionSpec(
        "model",
        "Import path of your SessionError class, e.g. myapp.models:SessionError: the factories, "
        "the row fixtures, the repositories' default and the data sets then write it and its "
        "parent classes (found from its foreign keys).",
        default=REFERENCE_MODEL,
    ),
    OptionSpec(
        "metadata",
        "Import path of the MetaData whose schema the fixtures create, "
        "e.g. myapp.models:Base.metadata (default: the sessionerror_model's metadata).",
        default="sessionerror.models:Base.metadata",
    ),
    OptionSpec(
        "schema_setup",
        "Import path of a callable(connection) that builds the schema instead of create_all "
        "(e.g. one that runs your Alembic migrations).",
    ),
    OptionSpec(
        "reuse_schema",
        "Keep the schema template and each worker's copy between runs, keyed on a hash of the "
        "schema (metadata DDL or every migration file, the kit's version): an unchanged schema "
        "is not rebuilt, a changed one always is; a copy that changed is copied again. On by "
        "default; --sessionerror-no-reuse-schema (or false) builds and drops per run, "
        "--sessionerror-drop-kept drops the kept ones.",
        default="true",
        is_flag=True,
    ),
    OptionSpec(
        "drop_kept",
        "Drop this project's kept schema templates and copies (PostgreSQL databases and SQLite "
        "files the kit keeps for --sessionerror-reuse-schema) before the run; with "
        "--sessionerror-no-reuse-schema nothing is kept again.",
        default="false",
        is_flag=True,
    ),
    # -- migrations (issue 11) --
    OptionSpec(
        "alembic_ini",
        "Path of your alembic.ini: the kit runs `alembic upgrade` in-process on its own "
        "connection (Config.attributes['connection']) to build the schema, once per backend "
        "and run.",
    ),
    OptionSpec(
        "alembic_target",
        "Revision the migrations are upgraded to (with sessionerror_alembic_ini).",
        default="head",
    ),
)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def parse_bool(value: str | bool, *, source: str) -> bool:
    """Parse a boolean setting; a value that is neither true nor false is a clear error."""
    if isinstance(value, bool):
        return value
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{source}={value!r} is not a boolean: use true/false, 1/0, yes/no or on/off")


@dataclass(frozen=True)
class SessionErrorConfig:
    """All plugin settings, resolved once per run."""

    backends: tuple[Backend, ...] = ("sqlite",)
    #: The server URL, read here once; prints masked (and is left out of ``repr()``).
    postgres_url: DatabaseURL | None = field(default=None, repr=False)
    require_postgres: bool = False
    pg_bin_dir: str | None = None
    allow_local_postgres: bool = True
    allow_containers: bool = True
    container_image: str = "postgres:15-alpine"
    sqlite_path: str = "file"
    metadata_path: str = "sessionerror.models:Base.metadata"
    #: ``sessionerror_model``: import path of the team's SessionError class.
    model_path: str = REFERENCE_MODEL
    schema_setup_path: str | None = None
    reuse_schema: bool = True
    drop_kept: bool = False
    #: Names of the options the user set (CLI, environment or ini), not left to the default.
    explicit: frozenset[str] = field(default=frozenset(), compare=False)
    alembic_ini: str | None = None
    alembic_target: str = "head"

    @property
    def wants_postgres(self) -> bool:
        """True if PostgreSQL is one of the selected backends."""
        return "postgresql" in self.backends

    @property
    def schema(self) -> SchemaSettings:
        """The settings testdb builds the schema from (:mod:`sessionerror.testdb.settings`)."""
        return SchemaSettings(
            metadata_path=self.metadata_path,
            schema_setup_path=self.schema_setup_path,
            alembic_ini=self.alembic_ini,
            alembic_target=self.alembic_target,
            reuse_schema=self.reuse_schema,
            sqlite_path=self.sqlite_path,
        )

    def load_metadata(self) -> MetaData:
        """Import the configured MetaData; ValueError says in one line what to set it to."""
        return self.schema.load_metadata()

    def load_schema_setup(self) -> Callable[..., Any] | None:
        """Import the configured schema-setup callable, if any (the Alembic runner with
        ``alembic_ini``)."""
        return self.schema.load_schema_setup()

    def load_model(self) -> type[Any]:
        """Import the ``sessionerror_model`` class; ValueError says in one line what to set."""
        from sessionerror.runtime.model_choice import check_error_model

        return check_error_model(
            load_model_object(self.model_path), f"sessionerror_model={self.model_path!r}"
        )

    def is_explicit(self, name: str) -> bool:
        """True if the user set option ``name`` (e.g. ``"pg_bin_dir"``) rather than a default."""
        return name in self.explicit

    @classmethod
    def from_values(
        cls, values: Mapping[str, str | bool | None], *, explicit: frozenset[str] = frozenset()
    ) -> SessionErrorConfig:
        """Build from raw values keyed by option name (already merged by precedence)."""

        def flag(name: str) -> bool:
            raw = values.get(name)
            return parse_bool(raw if raw is not None else False, source=f"sessionerror_{name}")

        backend = str(values.get("backend") or "sqlite").strip().lower()
        if backend not in _BACKEND_CHOICES:
            close = difflib.get_close_matches(backend, _BACKEND_CHOICES, 1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(
                f"sessionerror_backend={backend!r} is unknown{hint}: use "
                f"{', '.join(BACKENDS)} or all"
            )
        backends: tuple[Backend, ...] = (
            BACKENDS if backend == "all" else (backend,)  # type: ignore[assignment]
        )
        sqlite_path = str(values.get("sqlite_path") or "file")
        if sqlite_path not in ("file", ":memory:"):
            raise ValueError(
                f"sessionerror_sqlite_path={sqlite_path!r} is unknown: use file or :memory:"
            )
        return cls(
            backends=backends,
            postgres_url=_database_url(values.get("postgres_url")),
            require_postgres=flag("require_postgres"),
            pg_bin_dir=_text(values.get("pg_bin_dir")),
            allow_local_postgres=not flag("no_local_postgres"),
            allow_containers=not flag("no_containers"),
            container_image=_text(values.get("container_image")) or "postgres:15-alpine",
            sqlite_path=sqlite_path,
            metadata_path=_metadata_path(values, explicit),
            model_path=_text(values.get("model")) or REFERENCE_MODEL,
            schema_setup_path=_text(values.get("schema_setup")),
            reuse_schema=flag("reuse_schema"),
            drop_kept=flag("drop_kept"),
            explicit=explicit,
            **_migration_values(values),
        )

    @classmethod
    def from_sources(
        cls,
        *,
        cli: Mapping[str, Any],
        ini: Mapping[str, Any],
        environ: Mapping[str, str] | None = None,
    ) -> SessionErrorConfig:
        """Merge CLI, environment and ini values (in that order of precedence) and build."""
        environ = os.environ if environ is None else environ
        merged: dict[str, str | bool | None] = {}
        explicit: set[str] = set()
        for option in OPTIONS:
            value: Any = cli.get(option.name)
            if value in (None, False) and option.env in environ:
                value = environ[option.env]
            set_by_user = value not in (None, False, "")
            if value in (None, False, "") and ini.get(option.name) not in (None, ""):
                value = ini[option.name]
                # pytest hands back the registered default for an unset ini key.
                set_by_user = str(value).strip() != (option.default or "")
            if set_by_user and str(value).strip():
                explicit.add(option.name)
            merged[option.name] = value if value not in (None, "") else option.default
        return cls.from_values(merged, explicit=frozenset(explicit))


def _metadata_path(values: Mapping[str, str | bool | None], explicit: frozenset[str]) -> str:
    """``sessionerror_metadata``; unset, the metadata of the ``sessionerror_model`` class."""
    default = "sessionerror.models:Base.metadata"
    metadata = _text(values.get("metadata")) or default
    model = _text(values.get("model")) or REFERENCE_MODEL
    if model != REFERENCE_MODEL and metadata == default and "metadata" not in explicit:
        return f"{model}.metadata"
    return metadata


def load_model_object(path: str) -> Any:
    """What ``sessionerror_model=path`` points at; a path that cannot be imported is one line."""
    fix = (
        "set --sessionerror-model (ini sessionerror_model, env SESSIONERROR_MODEL) to your "
        "SessionError class, e.g. myapp.models:SessionError"
    )
    try:
        return load_object(path, source="sessionerror_model")
    except ValueError as exc:
        message = str(exc)
    ends_with_fix = "did you mean" in message or "write it as" in message
    raise ValueError(message if ends_with_fix else f"{message}; {fix}")


def _migration_values(values: Mapping[str, str | bool | None]) -> dict[str, Any]:
    """The Alembic settings; migrations and a schema-setup callable exclude each other."""
    alembic_ini = _text(values.get("alembic_ini"))
    if alembic_ini is not None and _text(values.get("schema_setup")) is not None:
        raise ValueError(
            "sessionerror_alembic_ini and sessionerror_schema_setup are both set: the schema "
            "comes from one of them, unset the other"
        )
    return {
        "alembic_ini": alembic_ini,
        "alembic_target": _text(values.get("alembic_target")) or "head",
    }


def _text(value: str | bool | None) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    stripped = value.strip()
    return stripped or None


def _database_url(value: str | bool | None) -> DatabaseURL | None:
    """The URL setting read into its one value (None if unset or blank)."""
    text = _text(value)
    return DatabaseURL(text) if text is not None else None


def options_markdown() -> str:
    """The README's configuration table, generated from :data:`OPTIONS`."""
    rows = [
        "| setting | CLI | ini | env | default |",
        "| --- | --- | --- | --- | --- |",
    ]
    for option in OPTIONS:
        value = f"`{option.cli}`" if option.is_flag else f"`{option.cli} {option.name.upper()}`"
        default = f"`{option.default}`" if option.default not in (None, "") else "—"
        rows.append(f"| {option.help} | {value} | `{option.ini}` | `{option.env}` | {default} |")
    return "\n".join(rows)
