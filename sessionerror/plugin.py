"""pytest11 entry point: options, ini keys, markers, backend resolution and the run header.

Fixtures live in :mod:`sessionerror.fixtures`; heavy modules (drivers, factory-boy,
testcontainers) are imported only when a test needs them.
"""

from __future__ import annotations

from typing import Any

import pytest

from .config import OPTIONS, SessionErrorConfig
from .factory_fixtures import (
    session_error,
    session_error_factory,
    ticket,
    ticket_factory,
    uploaded_file,
    uploaded_file_factory,
    workflow_session,
    workflow_session_factory,
)
from .fixtures import (
    marker_options,
    marker_options_key,
    sessionerror_assert_contract,
    sessionerror_assert_max_queries,
    sessionerror_assert_num_queries,
    sessionerror_backend,
    sessionerror_config,
    sessionerror_connection,
    sessionerror_database,
    sessionerror_databases,
    sessionerror_db,
    sessionerror_empty_database_url,
    sessionerror_engine,
)
from .state import PluginState, get_state, state_key

__all__ = [
    "session_error",
    "session_error_factory",
    "sessionerror_assert_contract",
    "sessionerror_assert_max_queries",
    "sessionerror_assert_num_queries",
    "sessionerror_backend",
    "sessionerror_config",
    "sessionerror_connection",
    "sessionerror_database",
    "sessionerror_databases",
    "sessionerror_db",
    "sessionerror_empty_database_url",
    "sessionerror_engine",
    "ticket",
    "ticket_factory",
    "uploaded_file",
    "uploaded_file_factory",
    "workflow_session",
    "workflow_session_factory",
]

MARKERS = (
    "sqlite: the test runs on the SQLite backend (set by the sessionerror fixtures).",
    "postgresql: the test runs on the PostgreSQL backend (set by the sessionerror fixtures).",
    "sessionerror(*, committed=False, backends=None): committed=True makes sessionerror_db "
    "really commit (rows deleted after the test); backends=['postgresql'] runs the test on "
    "those backends only (of the selected ones).",
    "sessionerror_data(*names): load the named data sets (fixtures/<name>.json) into "
    "sessionerror_db before the test.",
)
_WORKERINPUT_KEY = "sessionerror_postgres"


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
        raise pytest.UsageError(f"sessionerror: {exc}") from None


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Resolve the settings and, if PostgreSQL is wanted, the server (once per run)."""
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    state = PluginState(config=_settings(config))
    if workerinput is not None:
        state.worker = str(workerinput.get("workerid", "main"))
    config.stash[state_key] = state
    config.add_cleanup(lambda: _run_cleanups(state))
    if state.config.require_postgres:
        config.pluginmanager.register(_RequirePostgresHooks(), "sessionerror-require-postgres")
    if not state.config.wants_postgres:
        return
    if workerinput is not None:
        _adopt_controller_postgres(state, workerinput)
    else:
        _resolve_postgres(state)
    if config.pluginmanager.hasplugin("xdist") and workerinput is None:
        config.pluginmanager.register(_XdistHooks(state), "sessionerror-xdist")


def _resolve_postgres(state: PluginState) -> None:
    from .backends.postgres import PostgresProvider
    from .errors import BackendUnavailableError

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
        if settings.postgres_url or settings.require_postgres:
            raise pytest.UsageError(f"sessionerror: {exc}") from None
        state.postgres_problem = str(exc)
        return
    state.cleanups.append(provider.stop)
    from .backends.janitor import DatabaseJanitor

    DatabaseJanitor(state.postgres.url).remove_leftovers()


def _adopt_controller_postgres(state: PluginState, workerinput: dict[str, Any]) -> None:
    from .backends.postgres import PostgresServer

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

    def pytest_configure_node(self, node: Any) -> None:
        server = self.state.postgres
        node.workerinput[_WORKERINPUT_KEY] = (
            {"url": server.url, "source": server.source, "description": server.description}
            if server is not None
            else {"problem": self.state.postgres_problem}
        )


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say which backends run and where PostgreSQL comes from."""
    state = get_state(config)
    lines = [f"sessionerror: backends {', '.join(state.config.backends)}"]
    if state.config.wants_postgres:
        if state.postgres is not None:
            lines.append(f"sessionerror: postgresql from {state.postgres.description}")
        else:
            lines.append(f"sessionerror: postgresql tests will skip: {state.postgres_problem}")
    return lines


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each test that uses the database fixtures once per selected backend."""
    if "sessionerror_backend" not in metafunc.fixturenames:
        return
    if any(
        "sessionerror_backend" in getattr(marker, "args", ("",))[0]
        for marker in metafunc.definition.iter_markers("parametrize")
    ):
        return
    backends = get_state(metafunc.config).config.backends
    marker = metafunc.definition.get_closest_marker("sessionerror")
    if marker is not None and marker.kwargs.get("backends") is not None:
        from .fixtures import marker_backends

        try:
            only = marker_backends(marker.kwargs["backends"]) or backends
        except TypeError as exc:
            raise pytest.UsageError(
                f"Invalid @pytest.mark.sessionerror on {metafunc.definition.nodeid}: {exc}"
            ) from None
        backends = tuple(name for name in backends if name in only)
    metafunc.parametrize(
        "sessionerror_backend",
        [pytest.param(name, id=name, marks=getattr(pytest.mark, name)) for name in backends],
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
