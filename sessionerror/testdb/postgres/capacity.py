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

import json
import os
import sys
import time
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from sessionerror.errors import BackendUnavailableError

__all__ = [
    "LINE_MARK",
    "PER_RUN",
    "PER_WORKER",
    "SLOT_WAIT",
    "SYNC_POOL",
    "TOO_MANY_CONNECTIONS",
    "ServerLimits",
    "TooManyConnectionsError",
    "connect_waiting",
    "find_too_many_connections",
    "limits_key",
    "remember_limits",
    "set_budget",
    "too_many_connections_line",
    "wait_for_slots",
]

T = TypeVar("T")

#: Every line about a full server has these words (a wrapped one is not wrapped again).
LINE_MARK = "has no connection slot left"
#: Seconds a connection of the kit waits for a free slot (connections of other runs end) before
#: the run is told in one line; a process that gave up once does not wait again.
SLOT_WAIT = 30.0
#: Where an xdist controller leaves the limits it read for its workers (they inherit it).
_LIMITS_ENV = "_SESSIONERROR_SERVER_LIMITS"
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
SYNC_POOL: dict[str, Any] = {
    "pool_size": 1,
    "max_overflow": 20,
    # Waits for a free slot from its first connect on (see wait_for_slots).
    "plugins": ["sessionerror_wait_for_slots"],
}


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
_budget = [PER_WORKER]
_gave_up: list[bool] = []
_idle_pools: weakref.WeakSet[Any] = weakref.WeakSet()
_waiting: weakref.WeakSet[Any] = weakref.WeakSet()


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
    # xdist workers start after the controller read them: they inherit the environment.
    handed = json.loads(os.environ.get(_LIMITS_ENV, "{}"))
    handed[key] = asdict(_known[key])
    os.environ[_LIMITS_ENV] = json.dumps(handed)


def _limits(key: str) -> ServerLimits | None:
    if key not in _known:
        try:
            handed = json.loads(os.environ.get(_LIMITS_ENV, "{}")).get(key)
            if handed is not None:
                _known[key] = ServerLimits(**handed)
        except (ValueError, TypeError):
            return None
    return _known.get(key)


def __getattr__(name: str) -> Any:
    """``WaitForSlotsPlugin``: made on first use (SQLAlchemy is imported only then)."""
    if name != "WaitForSlotsPlugin":
        raise AttributeError(name)
    from sqlalchemy.engine import CreateEnginePlugin

    class WaitForSlotsPlugin(CreateEnginePlugin):
        """``create_engine(..., plugins=[...])`` of :data:`SYNC_POOL`: the engine waits."""

        def update_url(self, url: Any) -> Any:
            return url  # takes nothing from the URL

        def engine_created(self, engine: Any) -> None:
            wait_for_slots(engine)

    globals()[name] = WaitForSlotsPlugin
    return WaitForSlotsPlugin


def _register_plugin() -> None:
    from sqlalchemy.dialects import plugins

    plugins.register("sessionerror_wait_for_slots", __name__, "WaitForSlotsPlugin")


def wait_for_slots(engine: Any, *, pooled: bool = True) -> None:
    """Let ``engine`` (sync, or an AsyncEngine's ``sync_engine``) wait for a free slot.

    A connect refused for want of a slot is tried again for up to :data:`SLOT_WAIT` seconds,
    after giving back the idle pooled connections of this process's other kit engines (a
    worker between a sync and an async test holds one it does not use). Then the server's
    error is raised, which the plugin reports in one line. ``pooled`` engines give their idle
    connections back to others.
    """
    from sqlalchemy import event

    _register_plugin()  # the janitor's engine comes first: SYNC_POOL's engines find it then
    if engine in _waiting:
        return
    _waiting.add(engine)
    if pooled:
        _idle_pools.add(engine)

    def connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        return connect_waiting(lambda: dialect.connect(*cargs, **cparams), exclude=engine)

    event.listen(engine, "do_connect", connect)


def connect_waiting(connect: Callable[[], T], *, exclude: Any = None) -> T:
    """``connect()``, tried again while the server has no slot left (see wait_for_slots)."""
    deadline = time.monotonic() + (0.0 if _gave_up else SLOT_WAIT)
    delay = 0.05
    while True:
        try:
            return connect()
        except Exception as exc:
            if find_too_many_connections(exc) is None:
                raise
            if time.monotonic() + delay > deadline:
                _gave_up.append(True)
                raise
        for engine in list(_idle_pools):
            pool = engine.pool
            if engine is not exclude and pool.checkedout() == 0:
                pool.dispose()  # closes its idle connections; it opens new ones when asked
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


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


def set_budget(*, keeps_copies: bool) -> None:
    """What a worker of this run holds: with schema reuse, its kept copy's lock too."""
    _budget[0] = PER_WORKER + (1 if keeps_copies else 0)


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
    limits = _limits(key)
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
    per_worker = _budget[0]
    total = workers * per_worker + PER_RUN
    need = f"{per_worker} connections per worker"
    need += f" (-n {workers}: {total} in all)" if workers > 1 else f" ({total} in all)"
    raise_what = "the role's CONNECTION LIMIT" if role_limited else "max_connections"
    return (
        f"PostgreSQL at {where} has no connection slot left ({words}; {setting}): this run "
        f"needs up to {need}; run fewer concurrent runs or workers (-n), raise {raise_what}, "
        "or put a pooler such as PgBouncer in front"
    )


if "sqlalchemy" in sys.modules:  # else wait_for_slots registers it before it is needed
    _register_plugin()
