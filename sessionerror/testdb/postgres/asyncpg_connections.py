"""asyncpg connections for the test databases: enum codecs preset, throwaway connections dropped.

With pytest-asyncio's default function-scoped loops every test opens a new asyncpg connection
(a connection cannot outlive its loop), and a new asyncpg connection pays twice for things a
pooled one pays once:

* **Type introspection.** The first statement that binds or returns an enum makes asyncpg look
  the types up (a recursive ``pg_type`` query, prepared and planned on every new connection, plus
  two ``jit`` round trips): 5 to 8 ms per connection. :class:`ConnectionPresets` runs that
  lookup once per database and run, for every enum type of the database and the arrays of
  them, and hands the answer to each new connection before its first statement. A type the
  answer does not hold (one a test creates inside its transaction, one recreated since with a
  new OID) is introspected by asyncpg as usual; a stale entry names an OID nobody uses now.
* **TLS negotiation.** Without ``ssl``/``sslmode`` (or ``PGSSLMODE``) asyncpg asks the server
  for TLS first (``prefer``): an SSL context built and one round trip, answered "no" by a server
  without TLS every time. When the first connection ran in plain text,
  :attr:`ConnectionPresets.plaintext` says so and the registry connects the later ones in plain
  text directly: the same outcome, one negotiation fewer. A server that accepts TLS keeps being
  asked.
* **Closing.** ``close()`` waits for the server to acknowledge (1.5 to 2 ms). A connection of a
  rolled-back test holds no transaction, so :class:`ThrowawayConnection` drops the socket
  instead; the server ends the backend on EOF, as after a graceful close. With a transaction
  still open it closes gracefully.

The preset uses two asyncpg internals (``Connection._introspect_types`` and the protocol
settings' ``register_data_types``, as in asyncpg 0.32); when either is missing the presets
say so (:attr:`ConnectionPresets.problem`) and every connection introspects as before.
"""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]

__all__ = ["ENUM_TYPES_SQL", "ConnectionPresets", "ThrowawayConnection"]

#: The enum types of the database (any schema) and the array types of them.
ENUM_TYPES_SQL = """
SELECT t.oid FROM pg_catalog.pg_type AS t
WHERE t.typtype = 'e'
   OR t.typelem IN (SELECT e.oid FROM pg_catalog.pg_type AS e WHERE e.typtype = 'e')
"""


class ThrowawayConnection(asyncpg.Connection):  # type: ignore[misc]
    """An asyncpg connection whose ``close()`` drops the socket when no transaction is open."""

    async def close(self, *, timeout: float | None = None) -> None:
        """Terminate outside a transaction (nothing to wait for); close gracefully inside one."""
        if not self.is_closed() and self.is_in_transaction():
            await super().close(timeout=timeout)
        else:
            self.terminate()


class ConnectionPresets:
    """What the first asyncpg connection to a database learnt, for the later ones: the enum
    types' introspection (preset on each) and whether the link is plain text."""

    def __init__(self) -> None:
        self.records: Sequence[Any] | None = None
        self.problem: str | None = None
        self.plaintext = False

    @property
    def loaded(self) -> bool:
        """Whether the lookup ran (with or without a usable answer)."""
        return self.records is not None or self.problem is not None

    async def load(self, connection: Any) -> None:
        """Introspect the database's enum types on ``connection`` (an asyncpg connection, no
        transaction open) and preset them on it."""
        if self.loaded:
            return
        transport = getattr(connection, "_transport", None)
        self.plaintext = transport is not None and transport.get_extra_info("ssl_object") is None
        introspect = getattr(connection, "_introspect_types", None)
        if introspect is None or _settings(connection) is None:
            self.problem = f"asyncpg {asyncpg.__version__} has no type introspection hooks"
            return
        records: Sequence[Any] = []
        try:
            oids = [row[0] for row in await connection.fetch(ENUM_TYPES_SQL)]
            if oids:
                records, _statement = await introspect(oids, None)
        except asyncpg.PostgresError as exc:  # e.g. a pooler that refuses it: introspect as before
            self.problem = f"the enum types could not be looked up: {exc}"
            return
        self.records = list(records)
        self.preset(connection)

    def on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        """SQLAlchemy pool ``connect`` listener (runs in the adapter's greenlet): the first
        connection looks the types up, every later one gets them preset."""
        connection = dbapi_connection.driver_connection
        if self.loaded:
            self.preset(connection)
        else:
            _await(self.load(connection))

    def preset(self, connection: Any) -> None:
        """Register the cached types on a new asyncpg connection (before its first statement)."""
        settings = _settings(connection)
        if self.records and settings is not None:
            settings.register_data_types(self.records)


def _await(awaitable: Coroutine[Any, Any, None]) -> None:
    """Await from SQLAlchemy's greenlet (``await_`` since 2.1, ``await_only`` before)."""
    from sqlalchemy.util import concurrency

    wait = getattr(concurrency, "await_", None) or concurrency.await_only
    wait(awaitable)


def _settings(connection: Any) -> Any:
    protocol = getattr(connection, "_protocol", None)
    settings = protocol.get_settings() if protocol is not None else None
    return settings if hasattr(settings, "register_data_types") else None
