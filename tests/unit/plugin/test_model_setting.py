"""Issue 18, in process: ``sessionerror_model`` from the CLI, the environment and the ini file,
the metadata that follows it, and a bad value as one line naming the setting and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionerror.models import SessionError
from sessionerror.plugin.config import OPTIONS, SessionErrorConfig

TEAM = "team_schema:TeamError"
UNSET_INI = {option.name: option.default or "" for option in OPTIONS}
FIX = (
    "set --sessionerror-model (ini sessionerror_model, env SESSIONERROR_MODEL) to your "
    "SessionError class, e.g. myapp.models:SessionError"
)


@pytest.fixture(autouse=True)
def team_schema_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """``team_schema`` (tests/unit/factories) is the team's module the setting names."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "factories"))


def from_ini(**ini: str) -> SessionErrorConfig:
    return SessionErrorConfig.from_sources(cli={}, ini={**UNSET_INI, **ini}, environ={})


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_unset_is_the_reference_model_and_its_metadata() -> None:
    settings = from_ini()
    assert settings.model_path == "sessionerror.models:SessionError"
    assert settings.metadata_path == "sessionerror.models:Base.metadata"
    assert not settings.is_explicit("model")
    assert settings.load_model() is SessionError


@pytest.mark.parametrize("via", ["cli", "env", "ini"])
def test_each_source_names_the_model_and_the_metadata_follows_it(via: str) -> None:
    cli = {"model": TEAM} if via == "cli" else {}
    environ = {"SESSIONERROR_MODEL": TEAM} if via == "env" else {}
    ini = {**UNSET_INI, "model": TEAM} if via == "ini" else UNSET_INI
    settings = SessionErrorConfig.from_sources(cli=cli, ini=ini, environ=environ)
    assert settings.model_path == TEAM
    assert settings.is_explicit("model")
    assert settings.metadata_path == "team_schema:TeamError.metadata"
    from team_schema import TeamBase, TeamError

    assert settings.load_model() is TeamError
    assert settings.load_metadata() is TeamBase.metadata


def test_cli_beats_environment_beats_ini() -> None:
    ini = {**UNSET_INI, "model": "ini_models:Error"}
    env = {"SESSIONERROR_MODEL": "env_models:Error"}
    assert SessionErrorConfig.from_sources(cli={}, ini=ini, environ=env).model_path == (
        "env_models:Error"
    )
    both = SessionErrorConfig.from_sources(cli={"model": TEAM}, ini=ini, environ=env)
    assert both.model_path == TEAM


def test_a_metadata_that_is_set_is_kept() -> None:
    settings = from_ini(model=TEAM, metadata="myapp.models:Base.metadata")
    assert settings.metadata_path == "myapp.models:Base.metadata"


def test_a_model_that_cannot_be_imported_names_the_setting_and_the_fix() -> None:
    with pytest.raises(ValueError) as exc:
        from_ini(model="nosuchmodule:AppError").load_model()
    text = one_line(exc)
    assert text.startswith("sessionerror_model='nosuchmodule:AppError': cannot import")
    assert text.endswith(FIX)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "sessionerror.models:SessionEror",
            "sessionerror_model='sessionerror.models:SessionEror': 'sessionerror.models' has no "
            "attribute 'SessionEror'; did you mean sessionerror.models:SessionError?",
        ),
        (
            "sessionerror.models.SessionError",
            "sessionerror_model='sessionerror.models.SessionError' is not an import path: "
            "write it as package.module:attribute",
        ),
        (
            "sessionerror.models:WorkflowSession",
            "sessionerror_model='sessionerror.models:WorkflowSession' is the class "
            "WorkflowSession, not a mapped SessionError class: point it at your "
            "SessionErrorMixin subclass (or the class mapped to session_errors), e.g. "
            "myapp.models:SessionError",
        ),
        (
            "sessionerror.models:Base.metadata",
            "sessionerror_model='sessionerror.models:Base.metadata' is a MetaData, not a class: "
            "point it at your SessionErrorMixin subclass (or the class mapped to "
            "session_errors), e.g. myapp.models:SessionError",
        ),
    ],
)
def test_a_model_that_is_not_a_session_error_class_is_one_line(path: str, message: str) -> None:
    with pytest.raises(ValueError) as exc:
        from_ini(model=path).load_model()
    assert one_line(exc) == message
