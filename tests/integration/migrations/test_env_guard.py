"""A team's own env.py can never make the kit migrate, or downgrade, the team's real database.

Each test points real Alembic projects (the stock ``alembic init`` template, the
``alembic init -t async`` template, and an env.py that reads ``DATABASE_URL``) at a POPULATED
team database and proves it is identical afterwards: every table, ``alembic_version`` included.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from alembic_project import HISTORY, REVISION
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from sessionerror.factories import SessionErrorFactory
from sessionerror.models import Base
from sessionerror.models.binding import bind_session
from sessionerror.testdb.migration_guard import (
    ForeignDatabaseError,
    kit_database_only,
    mark_sqlite_file,
)
from sessionerror.testdb.migrations import MigrationError, downgrade, load_alembic_config, upgrade

SERVER = os.environ.get(
    "SESSIONERROR_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
ROWS = 50

#: An app's env.py: its engine comes from DATABASE_URL, as most FastAPI services have it.
DATABASE_URL_ENV_PY = """\
import os

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
target_metadata = None


def run_migrations_online():
    engine = create_engine(os.environ["DATABASE_URL"], poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
"""

Snapshot = dict[str, list[tuple[Any, ...]]]


def _snapshot(engine: Engine) -> Snapshot:
    """Every row of every table (alembic_version included), in a stable order."""
    content: Snapshot = {}
    with engine.connect() as connection:
        for table in sorted(inspect(connection).get_table_names()):
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
            content[table] = sorted((tuple(row) for row in rows), key=repr)
    return content


def _populate(engine: Engine) -> Snapshot:
    """The team's database at head: the schema, 50 sessions with 50 errors, alembic_version."""
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        connection.execute(text("INSERT INTO alembic_version VALUES ('0003')"))
        connection.execute(text("ALTER TABLE tickets ADD COLUMN priority INTEGER"))
    with Session(engine) as db, bind_session(db):
        SessionErrorFactory.create_batch(ROWS)
        db.commit()
    content = _snapshot(engine)
    assert len(content["sessions"]) == ROWS and len(content["session_errors"]) == ROWS
    assert content["alembic_version"] == [("0003",)]
    return content


@pytest.fixture
def team_postgres() -> Iterator[str]:
    """A populated PostgreSQL database that is NOT the kit's (no marker), dropped afterwards."""
    name = f"team_app_{secrets.token_hex(4)}"
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = create_engine(SERVER).url.set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def team_sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A populated SQLite file that is NOT the kit's."""
    return f"sqlite:///{tmp_path_factory.mktemp('team') / 'app.db'}"


def _team_project(root: Path, template: str, url: str) -> Path:
    """``alembic init -t <template>`` in ``root`` with the team's history, pointed at ``url``."""
    ini = root / "alembic.ini"
    command.init(Config(str(ini)), str(root / "migrations"), template=template)
    text_ini = ini.read_text()
    start = text_ini.index("sqlalchemy.url =")
    end = text_ini.index("\n", start)
    ini.write_text(text_ini[:start] + "sqlalchemy.url = " + url.replace("%", "%%") + text_ini[end:])
    versions = root / "migrations" / "versions"
    if template == "generic" and "unused" in url:  # the app's own env.py, on DATABASE_URL
        (root / "migrations" / "env.py").write_text(DATABASE_URL_ENV_PY)
    for name, (down, up, back) in HISTORY.items():
        revision = REVISION.format(
            message=name, revision=name.split("_", 1)[0], down=down, upgrade=up, downgrade=back
        )
        (versions / f"{name}.py").write_text(revision)
    return ini


SHAPES: dict[str, Callable[[str, str], tuple[str, str, dict[str, str]]]] = {
    # (alembic template, sqlalchemy.url in alembic.ini, environment) for a team URL
    "alembic-init": lambda pg, _lite: ("generic", pg, {}),
    "alembic-init-async": lambda pg, _lite: (
        "async",
        pg.replace("postgresql://", "postgresql+asyncpg://"),
        {},
    ),
    "database-url-postgres": lambda pg, _lite: ("generic", "driver://unused", {"DATABASE_URL": pg}),
    "database-url-sqlite": lambda _pg, lite: (
        "generic",
        "driver://unused",
        {"DATABASE_URL": lite},
    ),
}

CHECKS_TEST = """\
def test_round_trip(sessionerror_migrations):
    sessionerror_migrations.assert_round_trip()


def test_no_drift(sessionerror_migrations):
    from models import metadata

    sessionerror_migrations.assert_no_drift(metadata)


def test_rows(sessionerror_db):
    assert sessionerror_db is not None
"""


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_team_env_py_never_reaches_the_team_database(
    shape: str,
    pytester: pytest.Pytester,
    run_pytest: Callable[..., pytest.RunResult],
    monkeypatch: pytest.MonkeyPatch,
    team_postgres: str,
    team_sqlite: str,
) -> None:
    template, ini_url, environment = SHAPES[shape](team_postgres, team_sqlite)
    team_url = environment.get("DATABASE_URL", ini_url).replace("+asyncpg", "")
    team = create_engine(team_url, poolclass=NullPool)
    before = _populate(team)
    ini = _team_project(pytester.path, template, ini_url)
    (pytester.path / "models.py").write_text(
        "from sessionerror.models import Base\nmetadata = Base.metadata\n"
    )
    pytester.makepyfile(test_checks=CHECKS_TEST)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    for backend in ("sqlite", "postgresql"):
        result = run_pytest(
            f"--sessionerror-alembic-ini={ini}",
            f"--sessionerror-backend={backend}",
            f"--sessionerror-postgres-url={SERVER}",
        )
        assert result.ret != 0, result.stdout.str()
        errors = [line for line in result.stderr.lines if "sessionerror:" in line]
        assert len(errors) == 1, result.stderr.str()
        assert f"{ini.parent / 'migrations' / 'env.py'} opened its own connection" in errors[0]
        assert 'config.attributes.get("connection")' in errors[0]
        assert "nothing ran there" in errors[0]
    assert _snapshot(team) == before
    team.dispose()


@pytest.fixture
def kit_project(pytester: pytest.Pytester) -> Config:
    """The kit's test project (env.py uses the connection handed over)."""
    from alembic_project import AlembicProject

    return load_alembic_config(AlembicProject(pytester).root / "alembic.ini")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_and_downgrade_refuse_a_database_the_kit_did_not_create(
    backend: str, kit_project: Config, team_postgres: str, team_sqlite: str
) -> None:
    team = create_engine(team_sqlite if backend == "sqlite" else team_postgres, poolclass=NullPool)
    before = _populate(team)
    for step, target in ((downgrade, "base"), (upgrade, "head")):
        with team.begin() as connection, pytest.raises(ForeignDatabaseError) as refused:
            step(connection, kit_project, target)
        assert "the kit did not create it" in str(refused.value)
        assert "\n" not in str(refused.value)
    assert _snapshot(team) == before
    team.dispose()


def test_the_round_trip_check_refuses_a_team_engine(
    kit_project: Config, team_postgres: str
) -> None:
    from sessionerror.check.migrations import assert_round_trip

    team = create_engine(team_postgres, poolclass=NullPool)
    before = _populate(team)
    with pytest.raises(AssertionError, match="the kit did not create it"):
        assert_round_trip(team, kit_project)
    assert _snapshot(team) == before
    team.dispose()


def test_a_marked_sqlite_file_migrates(kit_project: Config, tmp_path: Path) -> None:
    path = tmp_path / "kit.db"
    mark_sqlite_file(path)
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    with engine.begin() as connection:
        upgrade(connection, kit_project)
    with engine.begin() as connection:
        downgrade(connection, kit_project)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()


def test_the_guard_refuses_other_databases_and_keeps_its_own(
    team_postgres: str, team_sqlite: str, tmp_path: Path
) -> None:
    kit_path = tmp_path / "kit.db"
    kit = create_engine(f"sqlite:///{kit_path}")
    same = create_engine(f"sqlite:///{kit_path}", poolclass=NullPool)
    pooled = create_engine(team_sqlite)
    with pooled.connect() as connection:  # a connection the app's engine pooled earlier
        connection.execute(text("SELECT 1"))
    with kit.connect() as connection, kit_database_only(connection, "env.py"):
        connection.execute(text("SELECT 1"))
        with same.connect() as own:  # another connection to the kit's own database is fine
            own.execute(text("SELECT 1"))
        for url in (team_postgres, team_sqlite, "sqlite://"):
            with pytest.raises(ForeignDatabaseError, match=r"env\.py opened its own connection"):
                create_engine(url, poolclass=NullPool).connect()
        with pooled.connect() as connection_to_team, pytest.raises(ForeignDatabaseError):
            connection_to_team.execute(text("SELECT 1"))
    with pooled.connect() as connection:  # the guard is gone after the block
        assert connection.execute(text("SELECT 1")).scalar() == 1
    for engine in (kit, same, pooled):
        engine.dispose()


def test_the_guard_stops_an_async_engine_before_it_connects(team_postgres: str) -> None:
    import asyncio

    from sqlalchemy.ext.asyncio import create_async_engine

    kit = create_engine("sqlite://")

    async def connect_to_team() -> None:
        engine = create_async_engine(
            team_postgres.replace("postgresql://", "postgresql+asyncpg://")
        )
        try:
            async with engine.connect():
                pass
        finally:
            await engine.dispose()

    with (
        kit.connect() as connection,
        kit_database_only(connection, "env.py"),
        pytest.raises(ForeignDatabaseError, match="on local:5432"),
    ):
        asyncio.run(connect_to_team())
    assert issubclass(ForeignDatabaseError, MigrationError)
