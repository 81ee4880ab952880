"""Test databases: provisioning, isolation, query counting, SQLite and PostgreSQL servers.

Everything here works outside pytest too; drivers (psycopg2, testcontainers) load lazily.
"""
