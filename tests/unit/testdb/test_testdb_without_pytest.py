"""testdb on its own (issue 17): the provisioner and the template builder driven directly.

No fixture of the plugin here, only pytest's ``tmp_path``: what a script would do. The
PostgreSQL half is ``tests/integration/backends/test_postgres_without_pytest.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, inspect, text

from sessionerror.errors import BackendUnavailableError
from sessionerror.testdb.backend import Availability
from sessionerror.testdb.backends import BACKEND_TYPES, create_backend
from sessionerror.testdb.provisioning import DatabaseProvisioner
from sessionerror.testdb.schema import Schema
from sessionerror.testdb.settings import BACKENDS, SchemaSettings
from sessionerror.testdb.templates import BuiltTemplates, TemplateBuilder


def _gadgets() -> MetaData:
    metadata = MetaData()
    Table("gadgets", metadata, Column("id", Integer, primary_key=True), Column("name", String(9)))
    return metadata


def _provisioner(
    tmp_path: Path,
    settings: SchemaSettings | None = None,
    *,
    cache_dir: Path | None = None,
    availability: dict[str, Availability] | None = None,
    metadata: MetaData | None = None,
    templates: BuiltTemplates | None = None,
) -> DatabaseProvisioner:
    return DatabaseProvisioner(
        settings or SchemaSettings(),
        worker="gw7",
        tmp_dir=tmp_path,
        cache_dir=cache_dir,
        availability=availability,
        metadata=metadata,
        templates=templates,
    )


def test_every_registered_backend_is_a_selectable_name() -> None:
    assert tuple(BACKEND_TYPES) == BACKENDS
    assert all(kind.name == name for name, kind in BACKEND_TYPES.items())
    with pytest.raises(KeyError, match="unknown backend 'duckdb': one of sqlite, postgresql"):
        create_backend("duckdb", Schema())


def test_a_fresh_sqlite_file_has_the_schema_and_is_gone_after_close(tmp_path: Path) -> None:
    provisioner = _provisioner(tmp_path)  # default settings: the kit's own models
    database = provisioner.get("sqlite")
    path = tmp_path / "sessionerror-gw7.db"
    assert database.location == f"sqlite:///{path}"
    assert path.is_file()
    assert {"sessions", "session_errors"} <= set(inspect(database.engine).get_table_names())
    assert provisioner.get("sqlite") is database  # one per backend and worker
    provisioner.close()
    assert not path.exists()


def test_in_memory_sqlite_has_the_schema(tmp_path: Path) -> None:
    provisioner = _provisioner(
        tmp_path, SchemaSettings(sqlite_path=":memory:"), metadata=_gadgets()
    )
    database = provisioner.get("sqlite")
    assert database.location == "sqlite:// (in memory)"
    assert inspect(database.engine).get_table_names() == ["gadgets"]
    provisioner.close()
    assert list(tmp_path.iterdir()) == []


def test_a_kept_sqlite_file_is_reused_emptied_and_held_by_one_run(tmp_path: Path) -> None:
    cache, first_tmp, second_tmp = (tmp_path / name for name in ("cache", "a", "b"))
    for folder in (cache, first_tmp, second_tmp):
        folder.mkdir()
    settings = SchemaSettings(reuse_schema=True)
    first = _provisioner(first_tmp, settings, cache_dir=cache, metadata=_gadgets())
    kept = first.get("sqlite")
    assert kept.location.endswith(" (reused)")
    with kept.engine.begin() as connection:  # a committed row, as a killed run leaves one
        connection.execute(text("INSERT INTO gadgets (name) VALUES ('left')"))
    # Another run while the first holds the file: a fresh one, said so.
    second = _provisioner(second_tmp, settings, cache_dir=cache, metadata=_gadgets())
    fresh = second.get("sqlite")
    assert fresh.location.endswith(" (the kept file is in use by another run: a fresh one)")
    second.close()
    first.close()
    kept_files = list(cache.glob("sqlite-*-gw7.db"))
    assert len(kept_files) == 1  # kept after close
    again = _provisioner(second_tmp, settings, cache_dir=cache, metadata=_gadgets())
    with again.get("sqlite").engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM gadgets")).scalar_one() == 0
    again.close()


def test_the_sqlite_template_is_built_once_copied_and_removed(tmp_path: Path) -> None:
    builder = TemplateBuilder(SchemaSettings(), cache_dir=None, metadata=_gadgets())
    templates = builder.build(("sqlite", "postgresql"))  # no PostgreSQL server: no template
    template = templates.for_backend("sqlite")
    assert template is not None and Path(template).is_file()
    assert templates.for_backend("postgresql") is None
    assert builder.built == {"sqlite": template} and builder.reused == set()
    provisioner = _provisioner(tmp_path, templates=templates)
    database = provisioner.get("sqlite")
    assert inspect(database.engine).get_table_names() == ["gadgets"]
    provisioner.close()
    assert not (tmp_path / "sessionerror-gw7.db").exists()
    builder.close()
    assert not Path(template).parent.exists()  # the run directory


def test_postgresql_without_a_server_says_why(tmp_path: Path) -> None:
    provisioner = _provisioner(
        tmp_path, availability={"postgresql": Availability(problem="no server here")}
    )
    assert provisioner.backend("postgresql").problem == "no server here"
    assert provisioner.backend("sqlite").problem is None
    with pytest.raises(BackendUnavailableError, match=r"^no server here$"):
        provisioner.get("postgresql")
    unresolved = _provisioner(tmp_path)
    with pytest.raises(BackendUnavailableError, match=r"^PostgreSQL is not available$"):
        unresolved.get("postgresql")
    provisioner.close()
    unresolved.close()
