"""A PostgreSQL server for tests: explicit URL, throwaway local pg_ctl server or container,
and the janitor that creates and drops the kit's own databases on it."""
