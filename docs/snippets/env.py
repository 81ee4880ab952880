import os

from alembic import context
from myapp.models import Base
from sqlalchemy import create_engine, pool

from sessionerror.autogenerate import process_revision_directives, render_item

config = context.config
target_metadata = Base.metadata


def run_migrations(connection):
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=render_item,  # autogenerate: portable types, CHECKs and defaults
        process_revision_directives=process_revision_directives,  # enum casts, missing CHECKs
        render_as_batch=True,  # so SQLite can add CHECKs (it rebuilds the table)
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    connection = config.attributes.get("connection")
    if connection is not None:  # the kit's connection, in tests: use it and nothing else
        run_migrations(connection)
        return
    engine = create_engine(os.environ["DATABASE_URL"], poolclass=pool.NullPool)
    with engine.connect() as connection:
        run_migrations(connection)


run_migrations_online()
