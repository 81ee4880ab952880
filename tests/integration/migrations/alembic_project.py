"""A small Alembic project, written into pytester's directory the way a team has it."""

from __future__ import annotations

from pathlib import Path

import pytest

import sessionerror

#: Where the sessionerror under test is imported from. Subprocess runs put it on PYTHONPATH so
#: they test the same code as this process (the installed copy may be another tree).
KIT_ROOT = Path(sessionerror.__file__).resolve().parents[1]

ALEMBIC_INI = """\
[alembic]
script_location = %(here)s/migrations
"""

# The one branch the kit needs: use the connection it hands over in Config.attributes.
ENV_PY = """\
from pathlib import Path

from alembic import context
from sqlalchemy import engine_from_config, pool

from sessionerror.autogenerate import render_item

config = context.config
target_metadata = None


def run_with(connection):
    runs = Path(config.config_file_name).with_name("migration_runs.txt")
    with runs.open("a") as handle:
        handle.write(connection.dialect.name + " " + str(connection.engine.url.database) + "\\n")
    context.configure(
        connection=connection, target_metadata=target_metadata, render_item=render_item
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    engine = engine_from_config(
        config.get_section(config.config_ini_section), prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as own:
        run_with(own)
"""

REVISION = '''\
"""{message}"""
import sqlalchemy as sa
from alembic import op

from sessionerror.models import Base

revision = "{revision}"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''

HISTORY = {
    "0001_parents": (
        None,
        "    for name in ('sessions', 'uploaded_files', 'tickets'):\n"
        "        Base.metadata.tables[name].create(op.get_bind())",
        "    for name in ('tickets', 'uploaded_files', 'sessions'):\n"
        "        Base.metadata.tables[name].drop(op.get_bind())",
    ),
    "0002_session_errors": (
        "0001",
        "    Base.metadata.tables['session_errors'].create(op.get_bind())",
        "    bind = op.get_bind()\n"
        "    Base.metadata.tables['session_errors'].drop(bind)\n"
        "    if bind.dialect.name == 'postgresql':\n"
        # IF EXISTS: SQLAlchemy 2.0's Table.drop() drops the enum types itself, 2.1's does not
        "        op.execute('DROP TYPE IF EXISTS error_category')\n"
        "        op.execute('DROP TYPE IF EXISTS error_severity')",
    ),
    # A column only the migrations create: the reference models do not have it.
    "0003_ticket_priority": (
        "0002",
        "    op.add_column('tickets', sa.Column('priority', sa.Integer(), nullable=True))",
        "    op.drop_column('tickets', 'priority')",
    ),
}

#: The team's models: the reference schema plus the column revision 0003 adds.
MODELS = """\
from sqlalchemy import Column, Integer, MetaData

from sessionerror.models import Base

metadata = MetaData(naming_convention=Base.metadata.naming_convention)
for table in Base.metadata.sorted_tables:
    table.to_metadata(metadata)
metadata.tables["tickets"].append_column(Column("priority", Integer(), nullable=True))
"""


class AlembicProject:
    """The project in ``pytester.path``: alembic.ini, migrations/, models.py."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.root = pytester.path
        self.versions = self.root / "migrations" / "versions"
        self.versions.mkdir(parents=True)
        (self.root / "alembic.ini").write_text(ALEMBIC_INI)
        (self.root / "migrations" / "env.py").write_text(ENV_PY)
        (self.root / "migrations" / "script.py.mako").write_text("# unused by these tests\n")
        (self.root / "models.py").write_text(MODELS)
        for name, (down, up, back) in HISTORY.items():
            self.add_revision(name, down, up, back)

    def add_revision(self, name: str, down: str | None, upgrade: str, downgrade: str) -> Path:
        """Write ``migrations/versions/<name>.py`` (revision id = the name's first part)."""
        path = self.versions / f"{name}.py"
        path.write_text(
            REVISION.format(
                message=name,
                revision=name.split("_", 1)[0],
                down=down,
                upgrade=upgrade,
                downgrade=downgrade,
            )
        )
        return path

    @property
    def runs(self) -> list[str]:
        """One line per time the migrations ran: ``<dialect> <database>``."""
        path = self.root / "migration_runs.txt"
        return path.read_text().splitlines() if path.exists() else []
