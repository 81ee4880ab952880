"""Internal: every pytest hook of the plugin (``pytest11`` entry point ``sessionerror``), once.

The hooks only decide *when*; the work is plain functions in the modules it concerns
(:mod:`~sessionerror.plugin.server_resolution`, :mod:`~sessionerror.plugin.schema_build`,
:mod:`~sessionerror.plugin.lazy`, :mod:`~sessionerror.plugin.usage_checks`,
:mod:`~sessionerror.plugin.markers`). In the order pytest calls them:

1. ``pytest_addoption``: the ``sessionerror`` option group and ini keys.
2. ``pytest_configure`` (trylast): markers; a worker adopts the controller's templates; the
   settings are resolved into the run state; an xdist controller that must own a container
   resolves PostgreSQL now, any other hands its workers a run to build in
   (:mod:`~sessionerror.plugin.xdist_run`, issue 19), and registers
   :class:`_XdistControllerHooks`; ``--sessionerror-require-postgres`` registers
   :class:`_RequirePostgresHooks`.
3. ``pytest_sessionstart`` (tryfirst): on an xdist controller, a bad import path stops the run,
   then (eager controller only) the templates are built, before any worker starts.
4. ``pytest_report_header``: backends, where PostgreSQL comes from, the templates.
5. ``pytest_generate_tests``: one test per selected backend.
6. ``pytest_collection_finish`` (wrapper): before the other plugins, the selected tests'
   mistakes stop the run (usage errors before any server starts or schema is built) and
   ``sessionerror_model`` is put in force (:mod:`~sessionerror.plugin.model_setting`); after
   them (after the "collected" line), one process resolves PostgreSQL and builds the templates
   if a selected test needs a database (lazy resolution, issue 19).
7. ``pytest_runtest_setup``: marker arguments validated on every test;
   ``pytest_runtest_makereport`` (wrapper): a test failed by a full server (no connection slot
   left) is reported in one line naming ``max_connections`` and the fix.
8. ``pytest_sessionfinish``: an xdist worker hands its summary lines (and, for a lazy
   controller, its header lines) to the controller.
9. ``pytest_terminal_summary``: the header lines of a lazy resolution, then the warnings. A lazy
   controller drops its workers' per-run templates when the run's config is cleaned up.

Fixtures live in the modules listed in ``sessionerror.plugin.pytest_plugins``; heavy modules
(drivers, factory-boy, testcontainers) are imported only when a test needs them.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from sessionerror.plugin import (
    lazy,
    model_setting,
    schema_build,
    server_resolution,
    usage_checks,
    xdist_run,
)
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
    "pytest_collection_finish",
    "pytest_configure",
    "pytest_generate_tests",
    "pytest_report_header",
    "pytest_runtest_makereport",
    "pytest_runtest_setup",
    "pytest_sessionfinish",
    "pytest_sessionstart",
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


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``sessionerror`` option group and its ini keys."""
    group = parser.getgroup("sessionerror", "sessionerror: SessionError test databases")
    for option in OPTIONS:
        help_text = f"{option.help} [ini {option.ini}; env {option.env}]"
        if option.is_flag:
            group.addoption(
                option.cli, action="store_const", const="true", dest=option.ini, help=help_text
            )
            if option.default == "true":  # on by default: its negative form turns it off
                negative = option.cli.replace("--sessionerror-", "--sessionerror-no-", 1)
                group.addoption(
                    negative,
                    action="store_const",
                    const="false",
                    dest=option.ini,
                    help=f"Turn {option.cli} off.",
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
        strings = [str(value) for value in given if isinstance(value, str)]
        problem = server_resolution.masked(str(exc), strings)
        raise pytest.UsageError(f"sessionerror: {redact_text(problem)}") from None


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Resolve the settings; on an xdist controller (or worker) also the server, once per run."""
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is not None:
        schema_build.adopt_controller_templates(config, workerinput)
    state = PluginState(config=_settings(config))
    if workerinput is not None:
        state.worker = str(workerinput.get("workerid", "main"))
    config.stash[state_key] = state
    config.add_cleanup(lambda: _run_cleanups(state))
    settings = state.config
    if (
        settings.reuse_schema
        and settings.is_explicit("reuse_schema")  # on by default: no cache, nothing kept
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
    # xdist controller collects no test, so it cannot know: it leaves the work to its workers
    # (plugin.xdist_run; the first starts a local server), or resolves now for a container.
    controller = starts_xdist_workers(config)
    shared = None if workerinput is None else workerinput.get(xdist_run.WORKERINPUT_KEY)
    if controller and xdist_run.controller_is_lazy(settings):
        state.shared_run = xdist_run.SharedRun.new()
        state.cleanups.append(lambda: _finish_shared_run(state))
    elif shared:
        state.shared_run = xdist_run.SharedRun.from_dict(shared)
    state.lazy = state.shared_run is not None or (
        workerinput is None and (not controller or lists_only(config))
    )
    state.resolved = not state.lazy
    hands_postgres = not state.lazy and state.config.wants_postgres
    if hands_postgres and workerinput is not None:
        server_resolution.adopt_controller_postgres(state, workerinput)
    elif hands_postgres:
        server_resolution.resolve_postgres(state)
    if config.pluginmanager.hasplugin("xdist") and workerinput is None:
        hooks = _XdistControllerHooks(config, state, hands_postgres=hands_postgres)
        config.pluginmanager.register(hooks, "sessionerror-xdist")


def _finish_shared_run(state: PluginState) -> None:
    """The lazy controller's end: its workers' per-run templates and run directory go."""
    if state.shared_run is not None:
        state.warnings.extend(state.shared_run.finish(state.config))


@pytest.hookimpl(tryfirst=True)  # before xdist starts the workers (its hook is trylast)
def pytest_sessionstart(session: pytest.Session) -> None:
    """On an xdist controller: a bad import path stops the run, else the templates are built."""
    usage_checks.check_import_paths_on_controller(session)
    schema_build.build_at_session_start(session.config)


def _run_cleanups(state: PluginState) -> None:
    while state.cleanups:
        state.cleanups.pop()()


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say which backends run and where PostgreSQL comes from (passwords masked)."""
    state = get_state(config)
    lines = [f"sessionerror: backends {', '.join(state.config.backends)}"]
    if state.config.wants_postgres and not state.resolved:
        lines.append("sessionerror: postgresql resolved on first use")
    return lines + server_resolution.postgres_lines(state) + schema_build.template_lines(config)


@pytest.hookimpl(wrapper=True)
def pytest_collection_finish(session: pytest.Session) -> Any:
    """Usage errors before the other plugins' hooks; the lazy resolution after them."""
    usage_checks.check_selected_tests(session)  # before anything starts a server
    model_setting.activate_model(session.config)  # sessionerror_model, for every test
    result = yield
    lazy.resolve_after_collection(session)  # after the "collected N items" line
    return result


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker, hand the summary lines to the controller."""
    state = session.config.stash.get(state_key, None)
    workeroutput = getattr(session.config, "workeroutput", None)
    if state is not None and workeroutput is not None:
        workeroutput[server_resolution.WORKEROUTPUT_KEY] = list(state.warnings)
        if state.shared_run is not None and state.resolved and state.resolve_error is None:
            lines = server_resolution.postgres_lines(state)
            workeroutput[xdist_run.WORKEROUTPUT_KEY] = lines + schema_build.template_lines(
                session.config
            )


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """A lazy resolution's header lines; what the kit left alone, and why (masked), as warnings."""
    lazy.announce_in_summary(terminalreporter, config)
    state = config.stash.get(state_key, None)
    if state is None or not state.warnings:
        return
    server = state.postgres.server
    urls = [state.config.postgres_url, server.url if server is not None else None]
    terminalreporter.section("sessionerror", sep="-", yellow=True)
    for line in dict.fromkeys(state.warnings):
        terminalreporter.line(
            f"sessionerror: warning: {server_resolution.masked(line, urls)}", yellow=True
        )


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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A test that failed because the server had no connection slot left: one line."""
    report: pytest.TestReport = yield
    excinfo = call.excinfo
    state = item.config.stash.get(state_key, None)
    if report.failed and excinfo is not None and state is not None:
        line = server_resolution.full_server_line(state, excinfo.value)
        if line is not None:
            report.longrepr = line
    return report


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


class _XdistControllerHooks:
    """On an xdist controller: hands the templates (and the server) to each worker."""

    def __init__(self, config: pytest.Config, state: PluginState, *, hands_postgres: bool) -> None:
        self.config = config
        self.state = state
        #: The controller resolved PostgreSQL for its workers (and collects their warnings).
        self.hands_postgres = hands_postgres
        #: A lazy controller's workers' header lines (where PostgreSQL is, the templates).
        self.header_lines: list[str] = []

    def pytest_configure_node(self, node: Any) -> None:
        """Put the template locations and the server into the worker's ``workerinput``."""
        templates = schema_build.templates_workerinput(self.config)
        if templates is not None:
            node.workerinput[schema_build.WORKERINPUT_KEY] = templates
        if self.hands_postgres:
            postgres = server_resolution.postgres_workerinput(self.state)
            node.workerinput[server_resolution.WORKERINPUT_KEY] = postgres
        if self.state.shared_run is not None:  # the workers resolve and build (issue 19)
            node.workerinput[xdist_run.WORKERINPUT_KEY] = self.state.shared_run.to_dict()

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """Collect the lines a worker left for the terminal summary."""
        if self.hands_postgres or self.state.shared_run is not None:
            output = getattr(node, "workeroutput", None) or {}
            self.state.warnings.extend(output.get(server_resolution.WORKEROUTPUT_KEY, []))
            self.header_lines.extend(output.get(xdist_run.WORKEROUTPUT_KEY, []))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """The header lines of the workers' resolution and build (lazy controller only)."""
        if not getattr(terminalreporter, "showheader", True):
            return
        if getattr(terminalreporter, "no_header", False):
            return
        for line in dict.fromkeys(self.header_lines):
            terminalreporter.write_line(line)
