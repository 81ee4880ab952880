"""Database URLs: read once at the edge into a :class:`DatabaseURL`, with the driver rules.

:mod:`sessionerror.urls.drivers` holds the rules (bare ``postgresql://`` means psycopg2, async
<-> sync drivers, what to install), :mod:`sessionerror.urls.database_url` the value built on
them. Hiding passwords in text is :mod:`sessionerror.redaction`'s job.
"""

from __future__ import annotations

from sessionerror.urls.database_url import DatabaseURL
from sessionerror.urls.drivers import (
    ASYNC_TO_SYNC_DRIVER,
    DRIVER_PACKAGES,
    POSTGRES_DRIVERS,
    SYNC_TO_ASYNC_DRIVER,
    driver_package,
)

__all__ = [
    "ASYNC_TO_SYNC_DRIVER",
    "DRIVER_PACKAGES",
    "POSTGRES_DRIVERS",
    "SYNC_TO_ASYNC_DRIVER",
    "DatabaseURL",
    "driver_package",
]
