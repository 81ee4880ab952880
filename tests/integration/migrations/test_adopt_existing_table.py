"""Adopting the contract on an existing table: autogenerate converts a VARCHAR table unedited.

A team's ``session_errors`` stores the enums as VARCHAR(50) with no CHECKs. With the docs'
``env.py`` (``render_item``, ``process_revision_directives``, ``render_as_batch``) the revision
``alembic revision --autogenerate`` writes against it converts the table, keeps the rows, passes
``sessionerror check``, and downgrades back to the VARCHAR table; on both backends.
"""

from __future__ import annotations

import importlib
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import alembic
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from sessionerror.check.api import run_checks
from sessionerror.cli import main
from sessionerror.errors import ErrorDataValidationError
from sessionerror.models.enums import ErrorCategory
from sessionerror.testdb.postgres.janitor import DatabaseJanitor

ROOT = Path(__file__).resolve().parents[3]
ENV_SNIPPET = ROOT / "docs" / "snippets" / "env.py"
HOOK_LINE = "        process_revision_directives=process_revision_directives,"

#: The team's models: its own Base and parents, the kit's mixin (as docs/snippets/own_model.py).
MODELS = """\
import uuid

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from sessionerror import SessionErrorMixin


class Base(DeclarativeBase):
    pass


class AppSession(Base):
    __tablename__ = "sessions"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    jira_user_id: Mapped[str] = mapped_column(String(64))
    session_errors: Mapped[list["AppError"]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True
    )


class UploadedFile(Base):
    __tablename__ = "uploaded_files"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(String(200))


class AppError(SessionErrorMixin, Base):
    sessionerror_session_model = "AppSession"
"""

#: The columns the real app stores as VARCHAR(50): the autogenerate run's four type changes.
LEGACY_COLUMNS = ("error_category", "severity", "operation_stage", "error_code")
SEEDED = [
    ("user_fixable", "blocking", "upload", "The file is not a CSV"),
    ("admin_required", "warning", "jira_export", "Jira refused the API token"),
    ("temporary", "info", "processing", "The parser was busy"),
]
READ_BACK = sa.text(
    "SELECT error_category, severity, operation_stage, user_message FROM session_errors "
    "ORDER BY user_message"
)


def legacy_metadata(metadata: sa.MetaData) -> sa.MetaData:
    """The "before" schema: the team's tables, ``session_errors`` with VARCHAR(50) enums and
    no CHECK constraints (foreign keys and indexes as the model has them)."""
    before = sa.MetaData()
    for table in metadata.sorted_tables:
        if table.name != "session_errors":
            table.to_metadata(before)
            continue
        columns = [
            sa.Column(column.name, sa.String(50), nullable=column.nullable)
            if column.name in LEGACY_COLUMNS
            else sa.Column(
                column.name,
                column.type,
                *(
                    sa.ForeignKey(fk.target_fullname, ondelete=fk.ondelete)
                    for fk in column.foreign_keys
                ),
                primary_key=column.primary_key,
                nullable=column.nullable,
                server_default=column.server_default,
            )
            for column in table.columns
        ]
        legacy = sa.Table(table.name, before, *columns)
        for index in table.indexes:
            sa.Index(index.name, *(legacy.c[column.name] for column in index.columns))
    return before


class TeamProject:
    """A team's Alembic project in ``root``: alembic.ini, the docs' env.py, myapp/models.py."""

    def __init__(self, root: Path, url: str, *, hook: bool = True) -> None:
        self.root, self.url = root, url
        scripts = root / "migrations"
        self.versions = scripts / "versions"
        self.versions.mkdir(parents=True)
        env = ENV_SNIPPET.read_text().splitlines(keepends=True)
        assert any(line.startswith(HOOK_LINE) for line in env)
        kept = [line for line in env if hook or not line.startswith(HOOK_LINE)]
        (scripts / "env.py").write_text("".join(kept))
        mako = Path(alembic.__file__).parent / "templates" / "generic" / "script.py.mako"
        (scripts / "script.py.mako").write_text(mako.read_text())
        (root / "alembic.ini").write_text(f"[alembic]\nscript_location = {scripts}\n")
        (root / "myapp").mkdir()
        (root / "myapp" / "__init__.py").write_text("")
        (root / "myapp" / "models.py").write_text(MODELS)
        self.config = Config(str(root / "alembic.ini"))
        self.models: Any = importlib.import_module("myapp.models")

    def engine(self) -> sa.Engine:
        """A fresh engine on the project's database (dispose it)."""
        return sa.create_engine(self.url, poolclass=NullPool)

    def build_legacy_table(self, rows: list[tuple[str, str, str, str]]) -> None:
        """Create the VARCHAR(50) schema and seed ``rows`` (category, severity, stage, message)."""
        before = legacy_metadata(self.models.Base.metadata)
        engine = self.engine()
        try:
            with engine.begin() as connection:
                before.create_all(connection)
                session_id = uuid.uuid4()
                connection.execute(
                    before.tables["sessions"].insert(), {"id": session_id, "jira_user_id": "J-1"}
                )
                connection.execute(
                    before.tables["session_errors"].insert(),
                    [
                        {
                            "id": uuid.uuid4(),
                            "session_id": session_id,
                            "error_category": category,
                            "severity": severity,
                            "operation_stage": stage,
                            "user_message": message,
                            "recovery_actions": {"actions": ["Try again"]},
                            "technical_details": {},
                        }
                        for category, severity, stage, message in rows
                    ],
                )
        finally:
            engine.dispose()

    def autogenerate(self) -> str:
        """``alembic revision --autogenerate``; the new revision's text."""
        known = set(self.versions.glob("*.py"))
        command.revision(self.config, message="adopt the contract", autogenerate=True)
        [script] = set(self.versions.glob("*.py")) - known
        return script.read_text()

    def query(self, statement: Any) -> list[Any]:
        """Run ``statement`` on a new connection; the rows as tuples."""
        engine = self.engine()
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(statement)]
        finally:
            engine.dispose()

    def loaded_categories(self) -> set[Any]:
        """The ``error_category`` of every row, loaded through the team's mapped class."""
        engine = self.engine()
        try:
            with Session(engine) as db:
                return {
                    error.error_category for error in db.scalars(sa.select(self.models.AppError))
                }
        finally:
            engine.dispose()

    def schema(self) -> dict[str, Any]:
        """What the downgrade must restore: column types, CHECKs and (PostgreSQL) enum types."""
        engine = self.engine()
        try:
            with engine.connect() as connection:
                inspector = sa.inspect(connection)
                columns = inspector.get_columns("session_errors")
                return {
                    "types": {
                        column["name"]: (type(column["type"]).__name__, column["type"].length)
                        for column in columns
                        if column["name"] in LEGACY_COLUMNS
                    },
                    "checks": inspector.get_check_constraints("session_errors"),
                    "enums": (
                        inspector.get_enums() if connection.dialect.name == "postgresql" else []
                    ),
                }
        finally:
            engine.dispose()


@contextmanager
def _empty_database(backend: str, request: pytest.FixtureRequest, path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{path}"
        return
    janitor = DatabaseJanitor(request.getfixturevalue("server_url"), worker="adopt")
    try:
        yield janitor.create()
    finally:
        janitor.drop()


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend: a throwaway PostgreSQL database, a SQLite file."""
    with _empty_database(request.param, request, tmp_path / "app.db") as url:
        yield url


@pytest.fixture
def other_database_url(
    database_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """An empty database of the other backend."""
    other = "sqlite" if database_url.startswith("postgresql") else "postgresql"
    with _empty_database(other, request, tmp_path / "other.db") as url:
        yield url


@pytest.fixture
def make_project(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """Build the team's project (``hook=False``: env.py without process_revision_directives)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.syspath_prepend(str(tmp_path / "project"))

    def make(*, hook: bool = True) -> TeamProject:
        return TeamProject(tmp_path / "project", database_url, hook=hook)

    yield make
    for name in [name for name in sys.modules if name == "myapp" or name.startswith("myapp.")]:
        del sys.modules[name]


def _failures(url: str) -> list[str]:
    return [result.format() for result in run_checks(url).failures]


def test_autogenerate_converts_the_varchar_table_and_back(make_project: Any) -> None:
    project = make_project()
    project.build_legacy_table(SEEDED)
    before = project.schema()
    assert _failures(project.url)  # the VARCHAR table breaks the contract
    script = project.autogenerate()
    assert "postgresql_using='error_category::error_category'" in script
    assert "require_values('session_errors', 'error_category'" in script
    assert ".create(op.get_bind(), checkfirst=True)" in script
    assert "create_check_constraint('user_message_not_blank'" in script
    assert "sa.Enum(name='error_severity').drop(op.get_bind(), checkfirst=True)" in script
    command.upgrade(project.config, "head")
    assert _failures(project.url) == []
    assert main(["check", "--db", project.url]) == 0
    expected = sorted(SEEDED, key=lambda row: row[3])
    assert project.query(READ_BACK) == expected  # the rows, their values as the enums' values
    assert project.loaded_categories() == set(ErrorCategory)
    again = project.autogenerate()  # models and database now agree: an empty revision
    upgrade_body = again.split("def upgrade()")[1].split("def downgrade()")[0]
    assert "op." not in upgrade_body and "require_values(" not in upgrade_body, again
    command.downgrade(project.config, "base")
    assert project.schema() == before  # VARCHAR(50) again, no CHECK, no enum type
    assert project.query(READ_BACK) == expected
    command.upgrade(project.config, "head")
    assert _failures(project.url) == []
    assert project.query(READ_BACK) == expected


def test_the_revision_runs_unedited_on_the_other_backend(
    make_project: Any, other_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project()
    project.build_legacy_table(SEEDED)
    project.autogenerate()
    monkeypatch.setenv("DATABASE_URL", other_database_url)
    project.url = other_database_url
    project.build_legacy_table(SEEDED)
    before = project.schema()
    command.upgrade(project.config, "head")
    assert _failures(project.url) == []
    assert project.query(READ_BACK) == sorted(SEEDED, key=lambda row: row[3])
    command.downgrade(project.config, "base")
    assert project.schema() == before


def test_without_process_revision_directives_the_revision_does_not_convert(
    make_project: Any,
) -> None:
    project = make_project(hook=False)
    project.build_legacy_table(SEEDED)
    project.autogenerate()
    if project.url.startswith("postgresql"):
        with pytest.raises(ProgrammingError, match='type "error_category" does not exist'):
            command.upgrade(project.config, "head")
        return
    command.upgrade(project.config, "head")  # SQLite: runs, but adds no CHECK
    failures = _failures(project.url)
    assert any("user_message_not_blank" in failure for failure in failures), failures


def test_a_value_outside_the_enum_stops_the_upgrade_naming_it(make_project: Any) -> None:
    project = make_project()
    project.build_legacy_table([*SEEDED, ("USER_FIXABLE", "blocking", "upload", "Legacy row")])
    project.autogenerate()
    with pytest.raises(ErrorDataValidationError) as raised:
        command.upgrade(project.config, "head")
    assert str(raised.value) == (
        "session_errors.error_category holds 'USER_FIXABLE' (1 row), not one of "
        "'user_fixable', 'admin_required', 'temporary' ('USER_FIXABLE' is a member name: the "
        "contract stores values): update or delete those rows, then run the upgrade again"
    )
    assert project.schema()["types"]["error_category"] == ("VARCHAR", 50)  # nothing converted
