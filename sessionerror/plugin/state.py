"""Internal: run-wide plugin state, kept on ``config.stash`` (never in module globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn

import pytest

from sessionerror.plugin.config import SessionErrorConfig
from sessionerror.testdb.backend import Availability

if TYPE_CHECKING:
    from sessionerror.plugin.config import Backend
    from sessionerror.plugin.xdist_run import SharedRun
    from sessionerror.testdb.provisioning import DatabaseProvisioner, ProvidedDatabase

__all__ = [
    "PluginState",
    "get_state",
    "lists_only",
    "postgres_unavailable",
    "provided_database",
    "starts_xdist_workers",
    "state_key",
]


@dataclass
class PluginState:
    """What the plugin resolved for this run (and, on an xdist worker, what it was handed)."""

    config: SessionErrorConfig
    #: "main" without xdist, else the worker id ("gw0", ...).
    worker: str = "main"
    #: PostgreSQL's server, or why there is none (one line); neither before it is resolved.
    postgres: Availability = field(default_factory=Availability)
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    #: Lines for the terminal summary (masked): things the kit left alone and why.
    warnings: list[str] = field(default_factory=list)
    #: Issue 19: PostgreSQL and the templates wait for the first test needing a database
    #: (:mod:`sessionerror.plugin.lazy`). False on an xdist controller that resolves eagerly
    #: (:mod:`sessionerror.plugin.xdist_run`) and on its workers.
    lazy: bool = False
    #: The server and the templates were resolved (lazily or eagerly).
    resolved: bool = False
    #: The one-line error of a lazy resolution that failed, repeated to every later test.
    resolve_error: str | None = None
    #: The run of a lazy xdist controller: made by the controller, handed to its workers.
    shared_run: SharedRun | None = None

    @property
    def availability(self) -> dict[str, Availability]:
        """The server of each backend that needs one, as testdb takes it."""
        return {"postgresql": self.postgres}


state_key = pytest.StashKey[PluginState]()


def get_state(config: pytest.Config) -> PluginState:
    """Return the plugin state of this run."""
    try:
        return config.stash[state_key]
    except KeyError:
        raise RuntimeError(
            "the sessionerror plugin is not configured in this run; is it disabled with "
            "-p no:sessionerror?"
        ) from None


def starts_xdist_workers(config: pytest.Config) -> bool:
    """True on an xdist controller that will start workers (xdist's own condition).

    The controller collects nothing, so it cannot tell whether a test needs a database.
    """
    if getattr(config, "workerinput", None) is not None:
        return False
    if not config.pluginmanager.hasplugin("xdist"):
        return False
    return getattr(config.option, "dist", "no") != "no" and not config.option.collectonly


def lists_only(config: pytest.Config) -> bool:
    """True when the run only lists tests or fixtures (--collect-only, --fixtures, ...)."""
    option = config.option
    return bool(
        option.collectonly
        or getattr(option, "showfixtures", False)
        or getattr(option, "show_fixtures_per_test", False)
    )


def postgres_unavailable(config: pytest.Config, problem: str) -> NoReturn:
    """Skip the test, or fail it when the run requires PostgreSQL."""
    if get_state(config).config.require_postgres:
        pytest.fail(problem, pytrace=False)
    pytest.skip(problem)


def provided_database(
    provisioner: DatabaseProvisioner, backend: Backend, config: pytest.Config
) -> ProvidedDatabase:
    """``provisioner``'s database for ``backend``; skip or fail the test when there is none.

    A server that exists but refuses (e.g. CREATE DATABASE) is an error, never a skip.
    """
    from sessionerror.errors import BackendUnavailableError

    try:
        return provisioner.get(backend)
    except BackendUnavailableError as exc:
        if provisioner.backend(backend).problem is None:  # it has a server: an error
            pytest.fail(f"sessionerror: {exc}", pytrace=False)
        postgres_unavailable(config, str(exc))
