"""Check a PostgreSQL server: connect once, and word a failure in one line with its fix.

Shared by every tier of :mod:`sessionerror.testdb.postgres.provider` (URL, local server,
container) and by the janitor. SQLAlchemy and the driver are imported only when a check runs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sessionerror.errors import BackendUnavailableError, first_line
from sessionerror.redaction import redact_text
from sessionerror.testdb.postgres.capacity import (
    find_too_many_connections,
    limits_key,
    too_many_connections_line,
    wait_for_slots,
)
from sessionerror.urls import DatabaseURL

__all__ = [
    "ENABLE_HINT",
    "PG_BIN_DIR_HINT",
    "URL_HINT",
    "PostgresServer",
    "PostgresUnavailableError",
    "check_server",
    "log_tail",
    "server_error_line",
    "short_version",
]

#: Where a user sets the server URL; named in every message that asks to fix it.
URL_HINT = "--sessionerror-postgres-url / SESSIONERROR_POSTGRES_URL"
#: Where a user sets the directory of initdb and pg_ctl.
PG_BIN_DIR_HINT = "--sessionerror-pg-bin-dir / SESSIONERROR_PG_BIN_DIR"
#: The closing sentence of the "nothing worked" message.
ENABLE_HINT = "Set SESSIONERROR_POSTGRES_URL=postgresql://user:pw@host/db to use a server."

_DRIVER_EXTRAS = {
    "psycopg2": "pip install sessionerror[postgres]",
    "psycopg": "pip install psycopg",
}


class PostgresUnavailableError(BackendUnavailableError):
    """No PostgreSQL server could be provided; ``attempts`` lists each step and why it failed."""

    def __init__(
        self,
        message: str,
        *,
        attempts: Sequence[str] = (),
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        #: One entry per step tried, e.g. ``"docker: no Docker engine answered (...)"``.
        self.attempts: list[str] = list(attempts)
        #: The driver or subprocess error behind the message (not chained, to keep output short).
        self.cause = cause


@dataclass(frozen=True)
class PostgresServer:
    """A usable PostgreSQL server: the URL of its maintenance database and where it came from."""

    #: ``postgresql+psycopg2://user:pw@host:port/postgres``: prints masked, :meth:`~DatabaseURL.
    #: reveal` connects (a string given is read into one).
    url: DatabaseURL = field(repr=False)
    #: Which step provided it.
    source: Literal["url", "local", "container"]
    #: One line for the pytest header, password masked.
    description: str

    def __post_init__(self) -> None:
        if not isinstance(self.url, DatabaseURL):
            object.__setattr__(self, "url", DatabaseURL(self.url))


def _libpq_timeout(timeout: float) -> int:
    # libpq takes whole seconds and treats anything below 2 as 2.
    return max(2, math.ceil(timeout))


def log_tail(text: str, lines: int = 6) -> list[str]:
    """The last ``lines`` non-blank lines of a server log or tool output, secrets redacted."""
    kept = [redact_text(line.rstrip()) for line in text.splitlines() if line.strip()]
    return kept[-lines:]


def server_error_line(exc: BaseException) -> str:
    """The server's error behind ``exc`` (``.orig`` of a DBAPIError) on one line, no ``ERROR:``.

    Not masked: callers pass it through URL masking before showing it.
    """
    orig = getattr(exc, "orig", None) or exc
    return " ".join(str(orig).split()).removeprefix("ERROR: ").strip()


def _describe_connect_failure(error: BaseException | None, password: str | None) -> tuple[str, str]:
    """(cause in plain words, fix) for a driver's connection error."""
    cause = first_line(error, default="unknown error")
    cause = re.sub(r"^connection to server (?:at|on) .*? failed:\s*", "", cause)
    cause = re.sub(r"^(?:FATAL|ERROR):\s+", "", cause)
    if password and len(password) >= 3:
        cause = cause.replace(password, "***")
    cause = redact_text(cause[:1].lower() + cause[1:])
    lowered = cause.lower()
    if any(
        marker in lowered
        for marker in ("password", "authentication", "pg_hba.conf", "role ", "permission denied")
    ):
        fix = f"fix the user/password in {URL_HINT}"
    elif "database" in lowered and "does not exist" in lowered:
        fix = f"create that database or name an existing one (e.g. /postgres) in {URL_HINT}"
    else:
        fix = f"start the server or fix {URL_HINT}"
    return cause, fix


def check_server(url: str | DatabaseURL, *, timeout: float = 5.0) -> str:
    """Connect once and return the server version (``SHOW server_version``, e.g. ``"15.20"``).

    Raises :class:`PostgresUnavailableError` with one short line: the masked URL, the cause in
    plain words and the fix. The driver's exception is kept as ``.cause``, not chained.
    """
    try:
        normalised = DatabaseURL(url).require_postgres()
    except ValueError as exc:
        raise PostgresUnavailableError(f"PostgreSQL: {exc}; fix {URL_HINT}") from None
    masked = redact_text(str(normalised))

    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    parsed = normalised.parse()
    try:
        engine = create_engine(
            parsed,
            poolclass=NullPool,
            connect_args={"connect_timeout": _libpq_timeout(timeout)},
        )
    except ImportError as exc:
        driver = parsed.get_driver_name()
        install = _DRIVER_EXTRAS.get(driver, f"install the {driver} driver")
        raise PostgresUnavailableError(
            f"PostgreSQL at {masked}: the {driver} driver is not installed: {install}",
            cause=exc,
        ) from None
    wait_for_slots(engine, pooled=False)  # a full server: wait for other runs' to end
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar_one()
    except DBAPIError as exc:
        words = find_too_many_connections(exc)
        if words is not None:  # a full server: its limit and this run's need, not "start it"
            key = limits_key(normalised.reveal())
            line = too_many_connections_line(masked, redact_text(words), key=key)
            raise PostgresUnavailableError(line, cause=exc.orig) from None
        cause, fix = _describe_connect_failure(exc.orig, parsed.password)
        raise PostgresUnavailableError(
            f"PostgreSQL at {masked} is not usable: {cause}; {fix}", cause=exc.orig
        ) from None
    finally:
        engine.dispose()
    return str(version)


def short_version(version: str) -> str:
    """``"15.20 (Debian 15.20-1)"`` -> ``"15.20"``."""
    return version.split()[0] if version.split() else version
