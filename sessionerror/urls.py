"""Database URL helpers shared by the CLI, the scenarios and the backends."""

from __future__ import annotations

__all__ = ["explicit_driver"]

_BARE_POSTGRES = ("postgres://", "postgresql://")


def explicit_driver(url: str) -> str:
    """Give a bare ``postgres://`` / ``postgresql://`` URL the psycopg2 driver.

    SQLAlchemy 2.1 maps a bare PostgreSQL URL to psycopg 3, which sessionerror does not depend
    on; URLs that name a driver, and other databases, are returned unchanged.
    """
    stripped = url.strip()
    for prefix in _BARE_POSTGRES:
        if stripped.lower().startswith(prefix):
            return "postgresql+psycopg2://" + stripped[len(prefix) :]
    return stripped
