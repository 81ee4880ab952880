"""Internal: the run's PostgreSQL server, resolved once and handed to xdist workers.

Called by :mod:`sessionerror.plugin.hooks` (controller or single process, while configuring or,
lazily, after collection through :mod:`sessionerror.plugin.lazy`). Every line it produces has the
URL passwords masked.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from sessionerror.plugin.config import SessionErrorConfig
from sessionerror.plugin.state import PluginState
from sessionerror.testdb.backend import Availability
from sessionerror.urls import DatabaseURL

__all__ = [
    "WORKERINPUT_KEY",
    "WORKEROUTPUT_KEY",
    "adopt_controller_postgres",
    "full_server_line",
    "masked",
    "postgres_lines",
    "postgres_workerinput",
    "resolve_postgres",
]

#: ``workerinput`` key of the server a controller hands to its workers.
WORKERINPUT_KEY = "sessionerror_postgres"
#: ``workeroutput`` key of the summary lines a worker hands back.
WORKEROUTPUT_KEY = "sessionerror_warnings"


def resolve_postgres(state: PluginState) -> None:
    """Find (or start) the PostgreSQL server; an explicit setting that cannot work is a
    one-line :class:`pytest.UsageError`, anything else a skip reason on ``state``."""
    from sessionerror.errors import BackendUnavailableError
    from sessionerror.testdb.postgres.capacity import set_budget
    from sessionerror.testdb.postgres.janitor import DatabaseJanitor
    from sessionerror.testdb.postgres.provider import PostgresProvider

    settings = state.config
    set_budget(keeps_copies=settings.reuse_schema)  # for the line of a full server
    provider = PostgresProvider(
        url=settings.postgres_url,
        pg_bin_dir=settings.pg_bin_dir,
        allow_local=settings.allow_local_postgres,
        allow_container=settings.allow_containers,
        container_image=settings.container_image,
    )
    try:
        if state.shared_run is not None and not settings.postgres_url:  # issue 19: one server
            server = state.shared_run.start_server_once(provider)
        else:
            server = provider.start()
    except BackendUnavailableError as exc:
        provider.stop()
        problem = masked(str(exc), [settings.postgres_url])
        explicit = _explicit_setting_failure(settings, provider.attempts, problem)
        if explicit is not None:
            raise pytest.UsageError(f"sessionerror: {explicit}") from None
        if settings.require_postgres:
            raise pytest.UsageError(f"sessionerror: {problem}") from None
        state.postgres = Availability(problem=problem)
        return
    state.postgres = Availability(server)
    state.cleanups.append(provider.stop)
    janitor = DatabaseJanitor(server.url)
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


def adopt_controller_postgres(state: PluginState, workerinput: dict[str, Any]) -> None:
    """On an xdist worker: take the server (or the reason there is none) the controller found."""
    from sessionerror.testdb.postgres.capacity import set_budget
    from sessionerror.testdb.postgres.server import PostgresServer

    set_budget(keeps_copies=state.config.reuse_schema)  # for the line of a full server

    handed = workerinput.get(WORKERINPUT_KEY) or {}
    if handed.get("url"):
        server = PostgresServer(
            url=DatabaseURL(handed["url"]),
            source=handed["source"],
            description=handed["description"],
        )
        state.postgres = Availability(server)
    else:
        state.postgres = Availability(
            problem=handed.get("problem") or "PostgreSQL was not resolved"
        )


def postgres_workerinput(state: PluginState) -> dict[str, Any]:
    """What a controller puts into a worker's ``workerinput`` under :data:`WORKERINPUT_KEY`."""
    server = state.postgres.server
    if server is None:
        return {"problem": state.postgres.problem}
    return {
        "url": server.url.reveal(),  # execnet sends plain data; the worker reads it back
        "source": server.source,
        "description": server.description,
    }


def postgres_lines(state: PluginState) -> list[str]:
    """Where PostgreSQL comes from, or why its tests skip (masked); none before it is resolved."""
    from sessionerror.redaction import mask_url_password

    lines = []
    server = state.postgres.server
    if state.config.wants_postgres and state.resolved:
        if server is not None:
            lines.append(f"sessionerror: postgresql from {server.description}")
        else:
            lines.append(f"sessionerror: postgresql tests will skip: {state.postgres.problem}")
    secrets = [state.config.postgres_url, server.url if server is not None else None]
    return [masked(mask_url_password(line), secrets) for line in lines]


def masked(text: str, urls: Iterable[DatabaseURL | str | None]) -> str:
    """``text`` with the passwords of ``urls`` (the URL values, or raw settings) hidden."""
    from sessionerror.redaction import URLSecrets

    return URLSecrets(*(url for url in urls if url)).scrub(text)


def full_server_line(state: PluginState, exc: BaseException) -> str | None:
    """The one line for a test that failed because the server had no connection slot left
    (an engine's first connect, the async engine's, the test's own), else None."""
    from sessionerror.testdb.postgres.capacity import (
        LINE_MARK,
        TooManyConnectionsError,
        find_too_many_connections,
        limits_key,
        too_many_connections_line,
    )

    server = state.postgres.server
    message = str(exc)
    if isinstance(exc, TooManyConnectionsError) or LINE_MARK in message:  # already the line
        line = message[message.find("PostgreSQL at ") :] if LINE_MARK in message else message
        return f"sessionerror: {masked(line, [server.url if server else None])}"
    words = find_too_many_connections(exc)
    if words is None or server is None:
        return None
    from sessionerror.redaction import redact_text

    line = too_many_connections_line(
        str(server.url), redact_text(words), key=limits_key(server.url.reveal())
    )
    return f"sessionerror: {masked(line, [server.url])}"
