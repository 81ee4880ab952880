"""PostgreSQL's connection limit: the kit's budget, and a full server said in one line.

A server with no slot left refuses a new connection with "sorry, too many clients already"
(SQLSTATE 53300), "remaining connection slots are reserved for ..." (the slots kept for
superusers) or "too many connections for role/database ..." (a ``CONNECTION LIMIT``). Many CI
shards on one server hit it. :func:`too_many_connections_line` turns any of them into one
line: the server's ``max_connections``, what this run needs per worker, and what to change.

The budget (docs, "CI and sharding"): per xdist worker (or the only process) one connection of
the sync engine's pool and one of the async engine during async tests; per run one more while
the schema template is built and, with ``--sessionerror-reuse-schema``, one for the whole run
(the shared lock that keeps the reused template from being dropped). Creating and dropping a
database costs one more for a moment. No SQLAlchemy import here: the plugin's report hook
uses it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sessionerror.errors import BackendUnavailableError

__all__ = [
    "PER_RUN",
    "PER_WORKER",
    "SYNC_POOL",
    "TOO_MANY_CONNECTIONS",
    "ServerLimits",
    "TooManyConnectionsError",
    "find_too_many_connections",
    "limits_key",
    "remember_limits",
    "too_many_connections_line",
]

#: SQLSTATE of "too many connections" (asyncpg and psycopg 3 report it; psycopg2 cannot on
#: connect, so the server's message is matched too).
TOO_MANY_CONNECTIONS = "53300"
_MESSAGES = (
    "too many clients already",
    "remaining connection slots are reserved",
    "too many connections for role",
    "too many connections for database",
)
#: Connections a worker holds at most: the sync engine's one, the async engine's one.
PER_WORKER = 2
#: Connections a run holds besides its workers: the template build (or, with reuse, the lock
#: that holds the reused template for the whole run).
PER_RUN = 1
#: Pool settings of the kit's per-worker sync engines: one connection stays open between
#: tests; a test that opens more gets them, and they are closed when it gives them back.
SYNC_POOL: dict[str, Any] = {"pool_size": 1, "max_overflow": 20}


class TooManyConnectionsError(BackendUnavailableError):
    """The server refused a connection because it has no slot left (one line, URL masked)."""


@dataclass(frozen=True)
class ServerLimits:
    """What the server allows: ``max_connections``, the superuser-only slots, the role's limit."""

    max_connections: int
    reserved: int
    role: str
    role_limit: int  # -1: none


_known: dict[str, ServerLimits] = {}


def limits_key(url: str) -> str:
    """``user@host:port`` of a server URL: the limits are the server's and the role's."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.username or ''}@{parts.hostname or ''}:{port or 5432}"


def remember_limits(key: str, connection: Any) -> None:
    """Read the server's limits once per process on a working ``connection`` (one query)."""
    if key in _known:
        return
    row = connection.exec_driver_sql(
        "SELECT current_setting('max_connections')::int, "
        "current_setting('superuser_reserved_connections')::int, r.rolname, r.rolconnlimit "
        "FROM pg_roles r WHERE r.rolname = current_user"
    ).one()
    _known[key] = ServerLimits(int(row[0]), int(row[1]), str(row[2]), int(row[3]))


def find_too_many_connections(exc: BaseException | None) -> str | None:
    """The server's words when ``exc`` (or what it wraps) is a full server, else None."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        for candidate in (getattr(exc, "orig", None), exc):
            if candidate is None:
                continue
            code = getattr(candidate, "pgcode", None) or getattr(candidate, "sqlstate", None)
            text = " ".join(str(candidate).split())
            lowered = text.lower()
            if code == TOO_MANY_CONNECTIONS or any(m in lowered for m in _MESSAGES):
                return _server_words(text)
        exc = exc.__cause__ or exc.__context__
    return None


def _server_words(text: str) -> str:
    """``connection to server ... failed: FATAL: sorry, ...`` -> ``sorry, ...``."""
    for marker in ("FATAL:", "ERROR:"):
        text = text.rsplit(marker, 1)[-1]
    return text.split("(Background on this error", 1)[0].strip().rstrip(".")


def _workers() -> int:
    try:
        return max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    except ValueError:
        return 1


def too_many_connections_line(where: str, words: str, *, key: str = "") -> str:
    """One line: the server's refusal, its ``max_connections``, this run's need, the fix.

    ``where`` names the server (masked URL, or host:port); ``key`` finds the limits
    :func:`remember_limits` read earlier in this process.
    """
    limits = _known.get(key)
    if limits is None:
        setting = "the server's max_connections"
    else:
        setting = f"max_connections = {limits.max_connections}"
        if limits.reserved:
            setting += f", {limits.reserved} of them for superusers only"
    role_limited = "for role" in words
    if role_limited and limits is not None and limits.role_limit >= 0:
        setting += f"; role {limits.role} CONNECTION LIMIT {limits.role_limit}"
    workers = _workers()
    total = workers * PER_WORKER + PER_RUN
    need = f"{PER_WORKER} connections per worker"
    need += f" (-n {workers}: {total} in all)" if workers > 1 else f" ({total} in all)"
    raise_what = "the role's CONNECTION LIMIT" if role_limited else "max_connections"
    return (
        f"PostgreSQL at {where} has no connection slot left ({words}; {setting}): this run "
        f"needs up to {need}; run fewer concurrent runs or workers (-n), raise {raise_what}, "
        "or put a pooler such as PgBouncer in front"
    )
