"""Driver rules: which SQLAlchemy driver a URL scheme means, async <-> sync drivers, packages.

Text in, text out, no SQLAlchemy at import: the one place these rules are written down.
:class:`sessionerror.urls.DatabaseURL` is built on them (``is_async``, ``to_sync()``...).
"""

from __future__ import annotations

from sessionerror.redaction import mask_url

__all__ = [
    "ASYNC_TO_SYNC_DRIVER",
    "DRIVER_PACKAGES",
    "POSTGRES_DRIVERS",
    "SYNC_TO_ASYNC_DRIVER",
    "async_drivername",
    "driver_package",
    "explicit_driver",
    "normalise_postgres_url",
    "sync_url",
]

#: URL scheme (lower case) -> the SQLAlchemy scheme it means. The one rule for "a bare
#: ``postgresql://`` / ``postgres://`` URL means psycopg2": SQLAlchemy 2.1 would map it to
#: psycopg 3, which sessionerror does not depend on.
POSTGRES_DRIVERS = {
    "postgresql": "postgresql+psycopg2",
    "postgres": "postgresql+psycopg2",
    "postgresql+psycopg2": "postgresql+psycopg2",
    "postgres+psycopg2": "postgresql+psycopg2",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgres+psycopg": "postgresql+psycopg",
}


def explicit_driver(url: str) -> str:
    """``url`` with its PostgreSQL driver spelled out (:data:`POSTGRES_DRIVERS`).

    Bare ``postgres://`` / ``postgresql://`` become ``postgresql+psycopg2://``; URLs of other
    drivers and other databases are returned unchanged (stripped).
    """
    stripped = url.strip()
    scheme, separator, rest = stripped.partition("://")
    target = POSTGRES_DRIVERS.get(scheme.lower()) if separator else None
    return f"{target}://{rest}" if target is not None else stripped


def normalise_postgres_url(url: str) -> str:
    """Return ``url`` with an explicit driver, strictly: it must be a PostgreSQL URL.

    The driver is chosen by :data:`POSTGRES_DRIVERS` (as in :func:`explicit_driver`). Raises
    ``ValueError`` (password masked) for anything that is not a psycopg2/psycopg URL.
    """
    text = url.strip()
    scheme, separator, _rest = text.partition("://")
    if not separator:
        raise ValueError(
            f"not a PostgreSQL URL: {mask_url(text)!r}; "
            "expected postgresql://user:pw@host:port/dbname"
        )
    if scheme.lower() not in POSTGRES_DRIVERS:
        raise ValueError(
            f"unsupported URL scheme {scheme!r} in {mask_url(text)!r}; use "
            "postgresql:// (psycopg2), postgresql+psycopg2:// or postgresql+psycopg://"
        )
    normalised = explicit_driver(text)
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(normalised)
    except (ArgumentError, ValueError):
        raise ValueError(f"malformed PostgreSQL URL {mask_url(text)!r}") from None
    return normalised


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


def _scheme(url: str) -> tuple[str, str]:
    """``(scheme, rest)`` of ``url``, the scheme lower-cased (``"postgresql+asyncpg"``)."""
    scheme, sep, rest = url.strip().partition("://")
    return (scheme.lower(), rest) if sep else ("", url.strip())


def sync_url(url: str) -> str:
    """``url`` with an async driver replaced by the sync driver of the same database.

    ``postgresql+asyncpg://`` -> ``postgresql+psycopg2://``, ``postgresql+psycopg_async://`` ->
    ``postgresql+psycopg://``, ``sqlite+aiosqlite://`` -> ``sqlite://``; anything else unchanged.
    Only the scheme changes: user, password, host, database and query stay as written.
    """
    scheme, rest = _scheme(url)
    if scheme not in ASYNC_TO_SYNC_DRIVER:
        return url
    return f"{ASYNC_TO_SYNC_DRIVER[scheme]}://{rest}"


def async_drivername(drivername: str) -> str:
    """The async driver for a sync SQLAlchemy driver name (``postgresql+psycopg2`` -> asyncpg).

    Raises ValueError naming the supported drivers for anything else.
    """
    if drivername in ASYNC_TO_SYNC_DRIVER:
        return drivername
    try:
        return SYNC_TO_ASYNC_DRIVER[drivername]
    except KeyError:
        raise ValueError(
            f"no async driver is known for {drivername!r}; supported: "
            f"{', '.join(sorted(SYNC_TO_ASYNC_DRIVER))}"
        ) from None


def driver_package(drivername: str) -> str:
    """The package to install for a SQLAlchemy driver name, for error messages."""
    driver = drivername.partition("+")[2] or {"postgresql": "psycopg", "sqlite": ""}.get(
        drivername, ""
    )
    return DRIVER_PACKAGES.get(driver, driver or drivername)
