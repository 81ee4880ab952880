"""restore_template() on real databases: keyed, composite-key, keyless and computed-column
tables, cascades between seeded tables, and no writes when nothing changed (issue 15)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import (
    Column,
    Computed,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
    select,
    text,
)

from sessionerror.engines.sqlite import create_sqlite_engine
from sessionerror.testdb.template_state import capture_template, restore_template

metadata = MetaData()
kinds = Table(
    "kinds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("label", String(20), nullable=False),
    Column("shout", String(40), Computed("upper(label)", persisted=True)),
)
links = Table(  # composite key, cascades from kinds
    "links",
    metadata,
    Column("kind_id", Integer, ForeignKey("kinds.id", ondelete="CASCADE"), primary_key=True),
    Column("n", Integer, primary_key=True),
    Column("note", String(20)),
)
notes = Table("notes", metadata, Column("body", String(20)), Column("n", Integer))  # keyless
events = Table("events", metadata, Column("id", Integer, primary_key=True))  # empty in template

TEMPLATE = {
    "kinds": [(1, "upload", "UPLOAD"), (2, "jira", "JIRA")],
    "links": [(1, 1, "a"), (2, 1, "b")],
    "notes": [("x", 1), ("x", 1)],
    "events": [],
}


@pytest.fixture
def engine(sessionerror_empty_database_url: str) -> Iterator[Engine]:
    url = sessionerror_empty_database_url
    made = create_sqlite_engine(url) if url.startswith("sqlite") else create_engine(url)
    metadata.create_all(made)
    with made.begin() as connection:
        connection.execute(
            insert(kinds), [{"id": 1, "label": "upload"}, {"id": 2, "label": "jira"}]
        )
        connection.execute(
            insert(links),
            [{"kind_id": 1, "n": 1, "note": "a"}, {"kind_id": 2, "n": 1, "note": "b"}],
        )
        connection.execute(insert(notes), [{"body": "x", "n": 1}, {"body": "x", "n": 1}])
    yield made
    made.dispose()


def _state(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as connection:
        return {
            table.name: sorted(tuple(row) for row in connection.execute(select(table)))
            for table in metadata.sorted_tables
        }


def test_every_kind_of_change_is_undone(engine: Engine) -> None:
    with engine.connect() as connection:
        snapshot = capture_template(connection, metadata)
    assert _state(engine) == TEMPLATE
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM kinds WHERE id = 2"))  # cascades to its link
        connection.execute(text("UPDATE kinds SET label = 'changed' WHERE id = 1"))
        connection.execute(text("INSERT INTO kinds (id, label) VALUES (7, 'added')"))
        connection.execute(text("INSERT INTO links (kind_id, n, note) VALUES (1, 2, 'new')"))
        connection.execute(text("UPDATE links SET note = 'edited' WHERE kind_id = 1 AND n = 1"))
        connection.execute(text("DELETE FROM notes"))
        connection.execute(text("INSERT INTO notes (body, n) VALUES ('y', 2)"))
        connection.execute(text("INSERT INTO events (id) VALUES (1), (2)"))
    with engine.begin() as connection:
        restore_template(connection, snapshot)
    assert _state(engine) == TEMPLATE


def test_nothing_is_written_when_nothing_changed(engine: Engine) -> None:
    with engine.connect() as connection:
        snapshot = capture_template(connection, metadata)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with engine.begin() as connection:
        restore_template(connection, snapshot)
    writes = [s.split()[0] for s in statements if not s.lstrip().upper().startswith("SELECT")]
    # One DELETE for the table the template leaves empty; the seeded ones are only read.
    assert writes == ["DELETE"], statements
    assert _state(engine) == TEMPLATE
