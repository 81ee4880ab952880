"""Issue 19, in process: option resolution, marker validation and the driver check say the
setting, the value and the fix in one line."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from sessionerror.errors import BackendUnavailableError
from sessionerror.plugin.config import SessionErrorConfig, load_object
from sessionerror.plugin.markers import backend_suggestion, validate_sessionerror_marker
from sessionerror.testdb.postgres.provider import PostgresProvider

ROOT = Path(__file__).resolve().parents[3]


def config(**cli: str) -> SessionErrorConfig:
    return SessionErrorConfig.from_sources(cli=cli, ini={}, environ={})


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_misspelt_backend_setting_suggests_the_right_one() -> None:
    with pytest.raises(ValueError) as exc:
        SessionErrorConfig.from_sources(cli={}, ini={"backend": "postgres"}, environ={})
    assert one_line(exc) == (
        "sessionerror_backend='postgres' is unknown (did you mean 'postgresql'?): use sqlite, "
        "postgresql or all"
    )


def test_metadata_that_cannot_be_imported_names_the_setting_and_the_fix() -> None:
    with pytest.raises(ValueError) as exc:
        config(metadata="nosuchmodule:Base.metadata").load_metadata()
    text = one_line(exc)
    assert text.startswith(
        "sessionerror_metadata='nosuchmodule:Base.metadata': cannot import 'nosuchmodule'"
    )
    assert text.endswith(
        "set --sessionerror-metadata (ini sessionerror_metadata, env SESSIONERROR_METADATA) "
        "to your models' MetaData, e.g. myapp.models:Base.metadata"
    )


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "sessionerror.models:Base",
            "sessionerror_metadata='sessionerror.models:Base' is the class Base, not a "
            "sqlalchemy MetaData; did you mean sessionerror.models:Base.metadata?",
        ),
        (
            "sessionerror.models:Base.metdata",
            "sessionerror_metadata='sessionerror.models:Base.metdata': "
            "'sessionerror.models.Base' has no attribute 'metdata'; "
            "did you mean sessionerror.models:Base.metadata?",
        ),
        (
            "sessionerror.models.Base.metadata",
            "sessionerror_metadata='sessionerror.models.Base.metadata' is not an import path: "
            "write it as package.module:attribute",
        ),
    ],
)
def test_metadata_pointing_at_the_wrong_thing_says_what_was_meant(path: str, message: str) -> None:
    with pytest.raises(ValueError) as exc:
        config(metadata=path).load_metadata()
    assert one_line(exc) == message


def test_schema_setup_that_is_not_callable_names_the_fix() -> None:
    with pytest.raises(ValueError) as exc:
        config(schema_setup="sessionerror.plugin.config:BACKENDS").load_schema_setup()
    assert one_line(exc) == (
        "sessionerror_schema_setup='sessionerror.plugin.config:BACKENDS' is a tuple, not "
        "callable; set --sessionerror-schema-setup (ini sessionerror_schema_setup, env "
        "SESSIONERROR_SCHEMA_SETUP) to a function taking a SQLAlchemy Connection"
    )


def test_a_module_that_fails_to_import_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken_models_i19.py").write_text("raise RuntimeError('boom\\nsecond line')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError) as exc:
        load_object("broken_models_i19:Base", source="sessionerror_metadata")
    assert one_line(exc) == (
        "sessionerror_metadata='broken_models_i19:Base': importing 'broken_models_i19' raised "
        "RuntimeError: boom"
    )


@pytest.mark.parametrize(
    ("given", "meant"),
    [("postgres", "postgresql"), ("pg", "postgresql"), ("SQLite3", "sqlite"), ("mysql", None)],
)
def test_backend_suggestion(given: str, meant: str | None) -> None:
    assert backend_suggestion(given) == meant


def test_marker_signature_names_the_backend_that_was_meant() -> None:
    with pytest.raises(TypeError) as exc:
        validate_sessionerror_marker(pytest.mark.sessionerror(backends=["postgres"]).mark)
    assert one_line(exc) == (
        "unknown backend 'postgres' in backends=['postgres']: did you mean 'postgresql'? "
        "backends must list 'sqlite' and/or 'postgresql'"
    )
    with pytest.raises(TypeError, match="unexpected keyword argument 'backend'"):
        validate_sessionerror_marker(pytest.mark.sessionerror(backend=["sqlite"]).mark)
    assert validate_sessionerror_marker(pytest.mark.sessionerror(backends="sqlite").mark) == (
        False,
        ("sqlite",),
    )


def test_no_server_is_started_without_the_driver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = tmp_path / "started"
    for tool in ("initdb", "pg_ctl"):
        (tmp_path / tool).write_text(f"#!/bin/sh\ntouch '{started}'\nexit 1\n")
        (tmp_path / tool).chmod(0o755)
    monkeypatch.setitem(sys.modules, "psycopg2", None)  # None in sys.modules: ImportError
    provider = PostgresProvider(pg_bin_dir=str(tmp_path), allow_container=False)
    with pytest.raises(BackendUnavailableError) as exc:
        provider.start()
    assert one_line(exc).endswith(
        'so no server was started or used: pip install "sessionerror[postgres]"'
    )
    assert provider.attempts == ["driver: psycopg2 is not installed"]
    assert not started.exists()


def test_the_apps_async_url_reaches_the_server_through_the_sync_driver(server_url: str) -> None:
    async_url = make_url(server_url).set(drivername="postgresql+asyncpg")
    with PostgresProvider(url=async_url.render_as_string(hide_password=False)) as server:
        assert server.url.driver == "postgresql+psycopg2"
        assert server.url.parse().database == make_url(server_url).database


def test_the_async_extra_has_what_the_async_fixtures_need_on_postgresql() -> None:
    # greenlet (through SQLAlchemy[asyncio]) and asyncpg run the async session; psycopg2 is
    # how the kit creates and drops the test databases behind it.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extra = pyproject["project"]["optional-dependencies"]["async"]
    names = {requirement.split(">")[0].split("<")[0].lower() for requirement in extra}
    assert {"sqlalchemy[asyncio]", "asyncpg", "psycopg2-binary"} <= names
