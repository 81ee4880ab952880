"""Driver rules: which SQLAlchemy driver a URL scheme means, async <-> sync drivers, packages.

Tables and text, no SQLAlchemy at import: the one place these rules are written down.
:class:`sessionerror.urls.DatabaseURL` applies them (``is_async``, ``to_sync()``...).
"""

from __future__ import annotations

__all__ = [
    "ASYNC_TO_SYNC_DRIVER",
    "DRIVER_PACKAGES",
    "POSTGRES_DRIVERS",
    "SYNC_TO_ASYNC_DRIVER",
    "driver_package",
]

#: URL scheme (lower case) -> the SQLAlchemy scheme it means. The one rule for "a bare
#: ``postgresql://`` / ``postgres://`` URL means psycopg2": SQLAlchemy 2.1 would map it to
#: psycopg 3, which sessionerror does not depend on. The PostgreSQL schemes the kit accepts.
POSTGRES_DRIVERS = {
    "postgresql": "postgresql+psycopg2",
    "postgres": "postgresql+psycopg2",
    "postgresql+psycopg2": "postgresql+psycopg2",
    "postgres+psycopg2": "postgresql+psycopg2",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgres+psycopg": "postgresql+psycopg",
}


# -- async <-> sync drivers (one rule for the CLI, the checker and the async fixtures) --------

#: Each async driver and the sync driver that reaches the same database.
ASYNC_TO_SYNC_DRIVER: dict[str, str] = {
    "postgresql+asyncpg": "postgresql+psycopg2",
    "postgresql+psycopg_async": "postgresql+psycopg",
    "sqlite+aiosqlite": "sqlite",
}
#: The async driver the test fixtures use for each backend.
SYNC_TO_ASYNC_DRIVER: dict[str, str] = {
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+psycopg_async",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
}
#: pip package that provides each driver name, for "install it" messages.
DRIVER_PACKAGES: dict[str, str] = {
    "psycopg2": 'psycopg2-binary (pip install "sessionerror[postgres]")',
    "psycopg": 'psycopg (pip install "psycopg[binary]")',
    "psycopg_async": 'psycopg (pip install "psycopg[binary]")',
    "asyncpg": 'asyncpg (pip install "sessionerror[async]")',
    "aiosqlite": 'aiosqlite (pip install "sessionerror[async]")',
}


def driver_package(drivername: str) -> str:
    """The package to install for a SQLAlchemy driver name, for error messages."""
    driver = drivername.partition("+")[2] or {"postgresql": "psycopg", "sqlite": ""}.get(
        drivername, ""
    )
    return DRIVER_PACKAGES.get(driver, driver or drivername)
