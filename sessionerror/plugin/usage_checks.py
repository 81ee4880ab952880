"""Internal: configuration mistakes found once, before any test runs, each as one line.

A wrong ``--sessionerror-metadata`` / ``--sessionerror-schema-setup`` /
``--sessionerror-model`` path, an invalid ``@pytest.mark.sessionerror`` or ``sessionerror_data``
marker and an unknown data set stop the run with a ``pytest.UsageError`` at the end of
collection, before a server starts or a schema is built, instead of one traceback per test.
Only the selected tests are checked: a deselected test's typo does not stop a run.

Under xdist the controller collects nothing and a worker cannot stop the run cleanly: the
controller checks the import paths when the session starts, and each worker's tests fail on a
bad marker in one line (``markers.marker_options``). The pytest hooks that call these checks are
in :mod:`sessionerror.plugin.hooks`.
"""

from __future__ import annotations

import pytest

from sessionerror.plugin.markers import marker_problems
from sessionerror.plugin.model_setting import model_problems
from sessionerror.plugin.state import get_state

__all__ = [
    "check_import_paths_on_controller",
    "check_selected_tests",
    "import_path_problems",
]


def check_import_paths_on_controller(session: pytest.Session) -> None:
    """On an xdist controller, stop at once on an import path that cannot work.

    Called before the templates are built (workers report a bad marker themselves).
    """
    config = session.config
    if config.pluginmanager.has_plugin("dsession"):
        _raise(config, import_path_problems(config))


def check_selected_tests(session: pytest.Session) -> None:
    """Raise one UsageError listing every mistake of the selected tests, one line each.

    Called before anything that would start a server or build a schema for these tests.
    """
    config = session.config
    if getattr(config, "workerinput", None) is not None:
        return  # a worker's UsageError is an INTERNALERROR: its tests fail one line each
    problems = [problem for item in session.items for problem in marker_problems(item)]
    if any("sessionerror_backend" in getattr(item, "fixturenames", ()) for item in session.items):
        problems.extend(import_path_problems(config))
    _raise(config, problems)


def import_path_problems(config: pytest.Config) -> list[str]:
    """The metadata, schema-setup and model settings that cannot be imported, one line each."""
    settings = get_state(config).config
    problems = model_problems(config)
    try:
        settings.load_metadata()
    except ValueError as exc:
        if not problems or settings.is_explicit("metadata"):  # else it is the model's
            problems.append(f"sessionerror: {exc}")
    if settings.schema_setup_path is not None and settings.alembic_ini is None:
        try:
            settings.load_schema_setup()
        except ValueError as exc:
            problems.append(f"sessionerror: {exc}")
    return problems


def _raise(config: pytest.Config, problems: list[str]) -> None:
    """One UsageError, one line per distinct problem, URL passwords and tokens hidden."""
    if not problems:
        return
    from sessionerror.redaction import redact_text
    from sessionerror.urls import DatabaseURL

    # The server URL masks its own password; redact_text any other URL's (a module's import
    # error may quote a DSN).
    url = get_state(config).config.postgres_url or DatabaseURL("")
    lines = [redact_text(url.hide(line)) for line in dict.fromkeys(problems)]
    raise pytest.UsageError(*lines)
