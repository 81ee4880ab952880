"""Internal (issue 19): PostgreSQL and the schema templates wait until a test needs a database.

In one process nothing is resolved, started or built while pytest configures. After collection,
if a selected test uses a kit database fixture, the server is resolved and the templates built
then, before the first test runs, with the same one-line usage errors as before (they stop the
run). A database reached another way (``request.getfixturevalue``, an engine fixture of
``sessionerror_engine_factory``) is resolved by its fixture on first use; a failure then fails
that test, and every later one, in one line. ``--collect-only``, ``--fixtures`` and runs that use
no database fixture do nothing at all.

Under xdist the controller collects no test, so it cannot know whether one needs a database:
with PostgreSQL given by URL, from a local server, or not selected it leaves everything to the
workers, which resolve on their first database test (the first one starts the local server) and
build the templates once between them (:mod:`sessionerror.plugin.xdist_run`); a container it
must own is still started (and the templates built) while it configures. The pytest hooks that call
:func:`resolve_after_collection` and :func:`announce_in_summary` are in
:mod:`sessionerror.plugin.hooks`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from sessionerror.plugin.schema_build import build_templates, template_lines
from sessionerror.plugin.server_resolution import postgres_lines, resolve_postgres
from sessionerror.plugin.state import get_state, lists_only, state_key

__all__ = [
    "DATABASE_FIXTURES",
    "announce_in_summary",
    "ensure_for_test",
    "ensure_resources",
    "needs_database",
    "resolve_after_collection",
]

#: Every kit fixture that needs a database has one of these in its closure.
DATABASE_FIXTURES = frozenset({"sessionerror_provisioner", "sessionerror_empty_database_url"})

_announced_key = pytest.StashKey[bool]()


def needs_database(items: Iterable[pytest.Item]) -> bool:
    """True if one of ``items`` uses a kit fixture that needs a database."""
    return any(
        not DATABASE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ())) for item in items
    )


def ensure_resources(config: pytest.Config) -> None:
    """Resolve PostgreSQL (if wanted) and build the templates, once per run.

    Raises the one-line :class:`pytest.UsageError` of the eager path; a later call raises the
    same error again instead of trying (and starting servers) a second time.
    """
    state = get_state(config)
    if state.resolve_error is not None:
        raise pytest.UsageError(state.resolve_error)
    if state.resolved:
        return
    state.resolved = True
    try:
        if state.config.wants_postgres:
            resolve_postgres(state)
        build_templates(config)
    except pytest.UsageError as exc:
        state.resolve_error = str(exc)
        raise


def ensure_for_test(config: pytest.Config) -> None:
    """:func:`ensure_resources` from a fixture: a failure fails the test in one line."""
    try:
        ensure_resources(config)
    except pytest.UsageError as exc:
        problem = str(exc)  # failed outside the except: no "during handling" chain
    else:
        return
    pytest.fail(problem, pytrace=False)


def resolve_after_collection(session: pytest.Session) -> None:
    """Resolve and build now if a selected test needs a database, before the first test.

    Called after every other plugin's ``pytest_collection_finish`` (the "collected" line).
    """
    config = session.config
    state = config.stash.get(state_key, None)
    if state is None or not state.lazy or state.resolved or lists_only(config):
        return
    if getattr(config, "workerinput", None) is not None:
        return  # an xdist worker resolves on its first database test (plugin.xdist_run)
    if not needs_database(session.items) and not state.config.drop_kept:
        return
    ensure_resources(config)
    _announce(config, config.pluginmanager.get_plugin("terminalreporter"))


def announce_in_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The header lines of a resolution that happened during the tests (first use)."""
    state = config.stash.get(state_key, None)
    if state is not None and state.lazy and state.resolved and state.resolve_error is None:
        _announce(config, terminalreporter)


def _announce(config: pytest.Config, reporter: Any) -> None:
    """Write the header lines the run header could not know yet (where verbosity shows it)."""
    if reporter is None or config.stash.get(_announced_key, False):
        return
    config.stash[_announced_key] = True
    if not getattr(reporter, "showheader", True) or getattr(reporter, "no_header", False):
        return
    for line in postgres_lines(get_state(config)) + template_lines(config):
        reporter.write_line(line)
