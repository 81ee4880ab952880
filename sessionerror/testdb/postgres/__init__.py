"""A PostgreSQL server for tests, and the kit's own databases on it.

``provider`` chooses the server (explicit URL, else ``local_server`` from ``binaries``, else
``container`` with ``container_labels``); ``server`` checks one and words its failures;
``janitor`` creates and drops the kit's databases, ``kept`` the ones kept for schema reuse.
"""
