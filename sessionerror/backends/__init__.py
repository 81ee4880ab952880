"""Database backends for the test kit: a PostgreSQL server (URL, local pg_ctl or container).

``postgres`` finds or starts a server (:class:`~sessionerror.backends.postgres.PostgresProvider`);
``janitor`` creates and drops the throwaway databases on it
(:class:`~sessionerror.backends.janitor.DatabaseJanitor`). Both work outside pytest too and
import their optional drivers (psycopg2, testcontainers, docker) lazily.
"""
