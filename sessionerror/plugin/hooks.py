"""pytest11 entry point: options, ini keys, markers, backend resolution and the run header.

Fixtures live in :mod:`sessionerror.plugin.database_fixtures`, marker validation in
:mod:`sessionerror.plugin.markers`; heavy modules (drivers, factory-boy,
testcontainers) are imported only when a test needs them.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from sessionerror.plugin.config import OPTIONS, SessionErrorConfig
from sessionerror.plugin.markers import backend_params, marker_options, marker_options_key
from sessionerror.plugin.state import (
    PluginState,
    get_state,
    lists_only,
    starts_xdist_workers,
    state_key,
)

__all__ = [
    "pytest_addoption",
    "pytest_configure",
    "pytest_generate_tests",
    "pytest_report_header",
    "pytest_runtest_setup",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
]

MARKERS = (
    "sqlite: the test runs on the SQLite backend (set by the sessionerror fixtures).",
    "postgresql: the test runs on the PostgreSQL backend (set by the sessionerror fixtures).",
    "sessionerror(*, committed=False, backends=None): committed=True makes sessionerror_db "
    "really commit (the template's rows restored after the test); backends=['postgresql'] "
    "runs the test on those backends only (of the selected ones).",
    "sessionerror_data(*names): load the named data sets (fixtures/<name>.json) into "
    "sessionerror_db before the test.",
)
_WORKERINPUT_KEY = "sessionerror_postgres"
_WORKEROUTPUT_KEY = "sessionerror_warnings"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``sessionerror`` option group and its ini keys."""
    group = parser.getgroup("sessionerror", "sessionerror: SessionError test databases")
    for option in OPTIONS:
        help_text = f"{option.help} [ini {option.ini}; env {option.env}]"
        if option.is_flag:
            group.addoption(
                option.cli, action="store_const", const="true", dest=option.ini, help=help_text
            )
        else:
            group.addoption(
                option.cli,
                action="store",
                dest=option.ini,
                choices=option.choices,
                metavar=option.name.upper(),
                help=help_text,
            )
        parser.addini(option.ini, help=option.help, default=option.default or "")


def _settings(config: pytest.Config) -> SessionErrorConfig:
    cli = {option.name: config.getoption(option.ini) for option in OPTIONS}
    ini = {option.name: config.getini(option.ini) for option in OPTIONS}
    # An ini value equal to the default is indistinguishable from "unset" and harmless.
    try:
        return SessionErrorConfig.from_sources(cli=cli, ini=ini)
    except ValueError as exc:
        from sessionerror.redaction import redact_text

        # A message may quote a value, and a URL given to the wrong setting holds a password.
        given = [*cli.values(), *ini.values(), *(os.environ.get(o.env) for o in OPTIONS)]
        problem = _masked(str(exc), [str(value) for value in given if isinstance(value, str)])
        raise pytest.UsageError(f"sessionerror: {redact_text(problem)}") from None


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Resolve the settings; on an xdist controller (or worker) also the server, once per run."""
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    state = PluginState(config=_settings(config))
    if workerinput is not None:
        state.worker = str(workerinput.get("workerid", "main"))
    config.stash[state_key] = state
    config.add_cleanup(lambda: _run_cleanups(state))
    settings = state.config
    if (
        settings.reuse_schema
        and "sqlite" in settings.backends
        and settings.sqlite_path == "file"
        and not config.pluginmanager.hasplugin("cacheprovider")
    ):
        raise pytest.UsageError(
            "sessionerror: --sessionerror-reuse-schema / SESSIONERROR_REUSE_SCHEMA keeps the "
            "SQLite database in pytest's cache, which is disabled (-p no:cacheprovider): "
            "enable the cache, or unset reuse-schema"
        )
    if state.config.require_postgres:
        config.pluginmanager.register(_RequirePostgresHooks(), "sessionerror-require-postgres")
    # Issue 19: one process resolves nothing until a test needs a database (plugin.lazy). An
    # xdist controller collects no test, so it cannot know: it resolves now for its workers.
    state.lazy = workerinput is None and (not starts_xdist_workers(config) or lists_only(config))
    state.resolved = not state.lazy
    if state.lazy or not state.config.wants_postgres:
        return
    if workerinput is not None:
        _adopt_controller_postgres(state, workerinput)
    else:
        _resolve_postgres(state)
    if config.pluginmanager.hasplugin("xdist") and workerinput is None:
        config.pluginmanager.register(_XdistHooks(state), "sessionerror-xdist")


def _resolve_postgres(state: PluginState) -> None:
    from sessionerror.errors import BackendUnavailableError
    from sessionerror.testdb.postgres.janitor import DatabaseJanitor
    from sessionerror.testdb.postgres.provider import PostgresProvider

    settings = state.config
    provider = PostgresProvider(
        url=settings.postgres_url,
        pg_bin_dir=settings.pg_bin_dir,
        allow_local=settings.allow_local_postgres,
        allow_container=settings.allow_containers,
        container_image=settings.container_image,
    )
    try:
        state.postgres = provider.start()
    except BackendUnavailableError as exc:
        provider.stop()
        problem = _masked(str(exc), [settings.postgres_url or ""])
        explicit = _explicit_setting_failure(settings, provider.attempts, problem)
        if explicit is not None:
            raise pytest.UsageError(f"sessionerror: {explicit}") from None
        if settings.require_postgres:
            raise pytest.UsageError(f"sessionerror: {problem}") from None
        state.postgres_problem = problem
        return
    state.cleanups.append(provider.stop)
    janitor = DatabaseJanitor(state.postgres.url)
    try:
        janitor.require_createdb()  # else every PostgreSQL test would fail later, one by one
        janitor.remove_leftovers()
    except BackendUnavailableError as exc:
        raise pytest.UsageError(f"sessionerror: {exc}") from None
    finally:
        state.warnings.extend(janitor.warnings)


def _explicit_setting_failure(
    settings: SessionErrorConfig, attempts: list[str], problem: str
) -> str | None:
    """The one-line error when a setting the user gave explicitly cannot work, else None.

    A PostgreSQL that cannot be provided is a skip only when nothing explicit asked for it.
    """
    if settings.postgres_url:
        return problem  # already names the URL setting and the fix
    if settings.is_explicit("pg_bin_dir") and settings.allow_local_postgres:
        return problem  # names --sessionerror-pg-bin-dir and the fix
    docker = next((entry for entry in attempts if entry.startswith("docker:")), None)
    if (
        settings.is_explicit("container_image")
        and docker is not None
        and docker != "docker: disabled"
    ):
        reason = docker.removeprefix("docker:").strip()
        return (
            f"--sessionerror-container-image / SESSIONERROR_CONTAINER_IMAGE is set to "
            f"{settings.container_image!r} but no container could be started ({reason}); start "
            "Docker, or unset it and set SESSIONERROR_POSTGRES_URL to use a server"
        )
    if settings.is_explicit("backend") and settings.backends == ("postgresql",):
        return (
            f"--sessionerror-backend / SESSIONERROR_BACKEND is postgresql, but "
            f"{problem.rstrip().rstrip('.')}. Or run with --sessionerror-backend sqlite (or all, "
            "which skips PostgreSQL tests)."
        )
    return None


def _adopt_controller_postgres(state: PluginState, workerinput: dict[str, Any]) -> None:
    from sessionerror.testdb.postgres.server import PostgresServer

    handed = workerinput.get(_WORKERINPUT_KEY) or {}
    if handed.get("url"):
        state.postgres = PostgresServer(
            url=handed["url"], source=handed["source"], description=handed["description"]
        )
    else:
        state.postgres_problem = handed.get("problem") or "PostgreSQL was not resolved"


def _run_cleanups(state: PluginState) -> None:
    while state.cleanups:
        state.cleanups.pop()()


class _XdistHooks:
    """Hands the controller's PostgreSQL server to each xdist worker."""

    def __init__(self, state: PluginState) -> None:
        self.state = state

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """Collect the lines a worker left for the terminal summary."""
        output = getattr(node, "workeroutput", None) or {}
        self.state.warnings.extend(output.get(_WORKEROUTPUT_KEY, []))

    def pytest_configure_node(self, node: Any) -> None:
        server = self.state.postgres
        node.workerinput[_WORKERINPUT_KEY] = (
            {"url": server.url, "source": server.source, "description": server.description}
            if server is not None
            else {"problem": self.state.postgres_problem}
        )


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say which backends run and where PostgreSQL comes from (passwords masked)."""
    state = get_state(config)
    lines = [f"sessionerror: backends {', '.join(state.config.backends)}"]
    if state.config.wants_postgres and not state.resolved:
        lines.append("sessionerror: postgresql resolved on first use")
    return lines + postgres_lines(state)


def postgres_lines(state: PluginState) -> list[str]:
    """Where PostgreSQL comes from, or why its tests skip (masked); none before it is resolved."""
    from sessionerror.redaction import mask_url_password

    lines = []
    if state.config.wants_postgres and state.resolved:
        if state.postgres is not None:
            lines.append(f"sessionerror: postgresql from {state.postgres.description}")
        else:
            lines.append(f"sessionerror: postgresql tests will skip: {state.postgres_problem}")
    secrets = [state.config.postgres_url or ""]
    if state.postgres is not None:
        secrets.append(state.postgres.url)
    return [_masked(mask_url_password(line), secrets) for line in lines]


def _masked(text: str, urls: list[str]) -> str:
    from sessionerror.redaction import hide_url_secrets

    return hide_url_secrets(text, [url for url in urls if url])


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker, hand the summary lines to the controller."""
    state = session.config.stash.get(state_key, None)
    workeroutput = getattr(session.config, "workeroutput", None)
    if state is not None and workeroutput is not None:
        workeroutput[_WORKEROUTPUT_KEY] = list(state.warnings)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Show what the kit left alone on the server, and why (masked), as warning lines."""
    state = config.stash.get(state_key, None)
    if state is None or not state.warnings:
        return
    urls = [state.config.postgres_url or ""]
    if state.postgres is not None:
        urls.append(state.postgres.url)
    terminalreporter.section("sessionerror", sep="-", yellow=True)
    for line in dict.fromkeys(state.warnings):
        terminalreporter.line(f"sessionerror: warning: {_masked(line, urls)}", yellow=True)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each test that uses the database fixtures once per selected backend."""
    if "sessionerror_backend" not in metafunc.fixturenames:
        return
    if any(
        "sessionerror_backend" in getattr(marker, "args", ("",))[0]
        for marker in metafunc.definition.iter_markers("parametrize")
    ):
        return
    # A bad backends= is one line at the end of collection (plugin.usage_checks), not a
    # traceback from inside this hook.
    metafunc.parametrize(
        "sessionerror_backend",
        backend_params(metafunc.definition, get_state(metafunc.config).config.backends),
        indirect=True,
        scope="session",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Validate sessionerror marker arguments on every test, used fixtures or not."""
    item.stash[marker_options_key] = marker_options(item)


class _RequirePostgresHooks:
    """Registered only with --sessionerror-require-postgres: a PostgreSQL skip is a failure."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        """Report a skipped PostgreSQL test as failed."""
        report: pytest.TestReport = yield
        if (
            report.skipped
            and not hasattr(report, "wasxfail")
            and item.get_closest_marker("postgresql") is not None
            and item.get_closest_marker("sqlite") is None
        ):
            longrepr = report.longrepr
            reason = longrepr[-1] if isinstance(longrepr, tuple) else longrepr
            report.outcome = "failed"
            report.longrepr = (
                f"PostgreSQL test skipped while PostgreSQL is required "
                f"(--sessionerror-require-postgres): {reason}"
            )
        return report
