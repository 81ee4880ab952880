"""testdb on its own against a real PostgreSQL (issue 17): no fixture of the plugin.

The server is the one the run resolved (``SESSIONERROR_POSTGRES_URL`` as in CI, else the throwaway
local server); only the kit's own databases are created there, and each test proves they are
dropped again.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, inspect, text

from sessionerror.testdb.backend import Availability
from sessionerror.testdb.postgres.server import PostgresServer
from sessionerror.testdb.provisioning import DatabaseProvisioner
from sessionerror.testdb.settings import SchemaSettings
from sessionerror.testdb.templates import TemplateBuilder
from sessionerror.urls import DatabaseURL


@pytest.fixture(scope="module")
def server(server_url: str) -> PostgresServer:
    """The run's PostgreSQL server (``SESSIONERROR_POSTGRES_URL`` or the throwaway local one),
    handed to testdb as a plain value: the code under test sees no pytest fixture."""
    return PostgresServer(
        url=DatabaseURL(server_url).require_postgres(), source="url", description="test"
    )


def _exists(server: PostgresServer, name: str) -> bool:
    engine = create_engine(server.url.reveal())
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
    finally:
        engine.dispose()
    return found is not None


def _gadgets() -> MetaData:
    metadata = MetaData()
    Table("gadgets", metadata, Column("id", Integer, primary_key=True), Column("name", String(9)))
    return metadata


@pytest.fixture
def provisioner(tmp_path: Path, server: PostgresServer) -> Iterator[DatabaseProvisioner]:
    """A provisioner with the server (closed again even when a test fails)."""
    made = DatabaseProvisioner(
        SchemaSettings(),
        worker="np",
        tmp_dir=tmp_path,
        cache_dir=None,
        availability={"postgresql": Availability(server)},
        metadata=_gadgets(),
    )
    yield made
    made.close()


def test_a_fresh_database_has_the_schema_and_is_dropped_on_close(
    provisioner: DatabaseProvisioner, server: PostgresServer
) -> None:
    database = provisioner.get("postgresql")
    name = str(database.engine.url.database)
    assert name.startswith("sessionerror_") and _exists(server, name)
    assert inspect(database.engine).get_table_names() == ["gadgets"]
    assert "***" in database.location or server.url.parse().password is None
    provisioner.close()
    assert not _exists(server, name)


def test_the_template_is_built_once_cloned_and_both_dropped(
    tmp_path: Path, server: PostgresServer
) -> None:
    availability = {"postgresql": Availability(server)}
    builder = TemplateBuilder(
        SchemaSettings(), cache_dir=None, availability=availability, metadata=_gadgets()
    )
    try:
        templates = builder.build(("postgresql",))
        template = templates.for_backend("postgresql")
        assert template is not None and _exists(server, template)
        provisioner = DatabaseProvisioner(
            SchemaSettings(),
            worker="npt",
            tmp_dir=tmp_path,
            cache_dir=None,
            availability=availability,
            templates=templates,
        )
        copy = provisioner.get("postgresql")
        name = str(copy.engine.url.database)
        assert name != template and inspect(copy.engine).get_table_names() == ["gadgets"]
        provisioner.close()
        assert not _exists(server, name)
    finally:
        builder.close()
    assert not _exists(server, template)


def test_a_script_provisions_without_loading_pytest_or_the_plugin(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys, tempfile
        from pathlib import Path
        from sessionerror.testdb.provisioning import DatabaseProvisioner
        from sessionerror.testdb.settings import SchemaSettings

        with tempfile.TemporaryDirectory() as tmp:
            provisioner = DatabaseProvisioner(
                SchemaSettings(), worker="script", tmp_dir=Path(tmp), cache_dir=None
            )
            provisioner.get("sqlite")
            provisioner.close()
        loaded = sorted(m for m in sys.modules if m == "pytest" or m.startswith("_pytest")
                        or m.startswith("sessionerror.plugin"))
        print(loaded)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert done.stdout.strip() == "[]"
