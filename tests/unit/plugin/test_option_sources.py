"""Every setting from each of its three sources (CLI flag, ini key, environment variable) into
the resolved settings, in process: the values pytest hands over, merged by precedence."""

from __future__ import annotations

from typing import Any

import pytest

from sessionerror.plugin.config import OPTIONS, SessionErrorConfig
from sessionerror.urls import DatabaseURL

#: (option, value given, field of SessionErrorConfig, resolved value); None: a flag.
OPTION_CASES: list[tuple[str, str | None, str, object]] = [
    (
        "postgres_url",
        "postgresql://postgres@127.0.0.1:5432/postgres",
        "postgres_url",
        DatabaseURL("postgresql://postgres@127.0.0.1:5432/postgres"),  # read once, here
    ),
    ("require_postgres", None, "require_postgres", True),
    ("pg_bin_dir", "/opt/pg/bin", "pg_bin_dir", "/opt/pg/bin"),
    ("no_local_postgres", None, "allow_local_postgres", False),
    ("no_containers", None, "allow_containers", False),
    ("container_image", "postgres:16.4-alpine", "container_image", "postgres:16.4-alpine"),
    ("sqlite_path", ":memory:", "sqlite_path", ":memory:"),
    ("metadata", "myapp.models:Base.metadata", "metadata_path", "myapp.models:Base.metadata"),
    ("model", "myapp.models:AppError", "model_path", "myapp.models:AppError"),
    ("schema_setup", "os:getcwd", "schema_setup_path", "os:getcwd"),
    # On by default: --sessionerror-no-reuse-schema stores "false", ini and env spell it out.
    ("reuse_schema", "false", "reuse_schema", False),
    ("drop_kept", None, "drop_kept", True),
    ("backend", "all", "backends", ("sqlite", "postgresql")),
    ("alembic_ini", "migrations/alembic.ini", "alembic_ini", "migrations/alembic.ini"),
    ("alembic_target", "base", "alembic_target", "base"),
]


def unset_ini() -> dict[str, Any]:
    """What ``config.getini`` returns for keys the project does not set: the registered default."""
    return {option.name: option.default or "" for option in OPTIONS}


def resolve(via: str, name: str, value: str) -> SessionErrorConfig:
    """Resolve one setting given through ``via`` only, as pytest hands it to the plugin."""
    cli: dict[str, Any] = {}
    ini = unset_ini()
    environ: dict[str, str] = {}
    if via == "cli":
        cli[name] = value
    elif via == "ini":
        ini[name] = value
    else:
        environ["SESSIONERROR_" + name.upper()] = value
    return SessionErrorConfig.from_sources(cli=cli, ini=ini, environ=environ)


def test_the_cases_cover_every_option() -> None:
    assert {case[0] for case in OPTION_CASES} == {option.name for option in OPTIONS}


@pytest.mark.parametrize("via", ["cli", "ini", "env"])
@pytest.mark.parametrize(
    ("name", "value", "field", "expected"), OPTION_CASES, ids=[case[0] for case in OPTION_CASES]
)
def test_every_option_from_every_source_reaches_the_resolved_config(
    via: str, name: str, value: str | None, field: str, expected: object
) -> None:
    # A CLI flag stores "true" (store_const); ini and environment spell it out.
    settings = resolve(via, name, "true" if value is None else value)
    assert getattr(settings, field) == expected
    assert settings.is_explicit(name)
    default = SessionErrorConfig.from_sources(cli={}, ini=unset_ini(), environ={})
    assert getattr(default, field) != expected  # the case proves a change
    assert not default.is_explicit(name)


@pytest.mark.parametrize("via", ["cli", "ini", "env"])
@pytest.mark.parametrize(
    ("value", "backends"),
    [
        ("sqlite", ("sqlite",)),
        ("postgresql", ("postgresql",)),
        ("all", ("sqlite", "postgresql")),
        (" ALL ", ("sqlite", "postgresql")),
    ],
)
def test_backend_values(via: str, value: str, backends: tuple[str, ...]) -> None:
    settings = resolve(via, "backend", value)
    assert settings.backends == backends
    assert settings.wants_postgres is ("postgresql" in backends)


@pytest.mark.parametrize("value", ["1", "yes", "on", "TRUE", " true "])
def test_flags_accept_every_spelling_of_true(value: str) -> None:
    assert resolve("env", "reuse_schema", value).reuse_schema is True


@pytest.mark.parametrize("value", ["0", "no", "off", "false"])
def test_flags_accept_every_spelling_of_false(value: str) -> None:
    assert resolve("ini", "require_postgres", value).require_postgres is False


def test_precedence_is_cli_then_environment_then_ini() -> None:
    ini = {**unset_ini(), "backend": "postgresql"}
    env = {"SESSIONERROR_BACKEND": "all"}
    cli = {"backend": "sqlite"}
    assert SessionErrorConfig.from_sources(cli={}, ini=ini, environ={}).backends == ("postgresql",)
    both = SessionErrorConfig.from_sources(cli={}, ini=ini, environ=env)
    assert both.backends == ("sqlite", "postgresql")  # environment beats ini
    assert SessionErrorConfig.from_sources(cli=cli, ini=ini, environ=env).backends == ("sqlite",)


def test_an_unset_cli_flag_does_not_hide_the_environment() -> None:
    # argparse hands over None (or False) for a flag that was not given.
    settings = SessionErrorConfig.from_sources(
        cli={"require_postgres": None, "no_containers": False},
        ini=unset_ini(),
        environ={"SESSIONERROR_REQUIRE_POSTGRES": "1", "SESSIONERROR_NO_CONTAINERS": "yes"},
    )
    assert settings.require_postgres is True
    assert settings.allow_containers is False


def test_an_ini_value_equal_to_the_default_is_not_explicit() -> None:
    settings = SessionErrorConfig.from_sources(
        cli={}, ini={**unset_ini(), "backend": "sqlite", "container_image": "other"}, environ={}
    )
    assert not settings.is_explicit("backend")
    assert settings.is_explicit("container_image")


def test_an_empty_environment_variable_falls_back_to_ini() -> None:
    settings = SessionErrorConfig.from_sources(
        cli={}, ini={**unset_ini(), "backend": "all"}, environ={"SESSIONERROR_BACKEND": ""}
    )
    assert settings.backends == ("sqlite", "postgresql")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "backend",
            "mysql",
            "sessionerror_backend='mysql' is unknown: use sqlite, postgresql or all",
        ),
        ("reuse_schema", "maybe", "sessionerror_reuse_schema='maybe' is not a boolean"),
        ("sqlite_path", "disk", "sessionerror_sqlite_path='disk' is unknown: use file or :memory:"),
    ],
)
@pytest.mark.parametrize("via", ["cli", "ini", "env"])
def test_bad_values_name_the_setting(via: str, name: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        resolve(via, name, value)


def test_alembic_and_a_setup_callable_exclude_each_other() -> None:
    with pytest.raises(ValueError, match="sessionerror_alembic_ini and sessionerror_schema_setup"):
        SessionErrorConfig.from_sources(
            cli={"alembic_ini": "alembic.ini", "schema_setup": "os:getcwd"},
            ini=unset_ini(),
            environ={},
        )


def test_the_url_is_not_in_the_repr() -> None:
    settings = resolve("cli", "postgres_url", "postgresql://u:hunter2@db/x")
    assert "hunter2" not in repr(settings)
