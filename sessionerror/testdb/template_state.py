"""The rows a test database starts with, and putting them back after a committed test.

A worker database is a copy of the run's template: its tables may hold rows the migrations or
the schema-setup callable seeded (``alembic_version``, lookup tables). A committed test's
cleanup must bring those back, not empty every table. :func:`capture_template` reads the rows
once; :func:`restore_template` then costs, per committed test, one DELETE per table the template
leaves empty and one SELECT per seeded table (a second one only for a seeded table with foreign
keys, and only when rows were deleted: a cascade may have touched it). Nothing is written to a
seeded table that is already as the template had it.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, MetaData, Table, and_, bindparam, delete, insert, select, update

__all__ = ["TableRows", "TemplateSnapshot", "capture_template", "restore_template"]

Row = tuple[Any, ...]


@dataclass(frozen=True)
class TableRows:
    """One table of the template with the rows it holds (empty for most tables)."""

    table: Table
    rows: tuple[Row, ...]
    #: Positions of the primary-key columns in a row; empty when the table has none.
    key_positions: tuple[int, ...]
    #: Columns written when a row is put back (computed columns are left to the database).
    writable: tuple[int, ...]

    def key(self, row: Row) -> Hashable:
        """The primary-key value of ``row``."""
        return tuple(row[i] for i in self.key_positions)


@dataclass(frozen=True)
class TemplateSnapshot:
    """The template's rows of every table, parents first (as read by one driver)."""

    tables: tuple[TableRows, ...]
    #: The driver that read the rows: another driver may return other Python types.
    driver: str = field(default="")

    @property
    def seeded(self) -> tuple[str, ...]:
        """Names of the tables the template holds rows in."""
        return tuple(t.table.name for t in self.tables if t.rows)


def capture_template(connection: Connection, metadata: MetaData) -> TemplateSnapshot:
    """Read every row of the tables of ``metadata`` on ``connection``: the state to return to."""
    captured = []
    for table in metadata.sorted_tables:
        columns = list(table.columns)
        keys = tuple(i for i, column in enumerate(columns) if column.primary_key)
        writable = tuple(i for i, column in enumerate(columns) if column.computed is None)
        rows = tuple(tuple(row) for row in connection.execute(select(table)))
        captured.append(TableRows(table, rows, keys, writable))
    return TemplateSnapshot(tuple(captured), connection.dialect.driver)


def restore_template(connection: Connection, snapshot: TemplateSnapshot) -> None:
    """Bring the tables of ``snapshot`` back to its rows, in the caller's transaction.

    Children before parents, rows the template does not hold are deleted; then, parents first,
    template rows that are missing are inserted and changed ones updated.
    """
    current: dict[str, list[Row]] = {}
    deleted = False
    for entry in reversed(snapshot.tables):
        if not entry.rows:
            result = connection.execute(delete(entry.table))
            deleted = deleted or result.rowcount != 0  # -1 (unknown) counts as deleted
            continue
        rows = _read(connection, entry.table)
        removed = _delete_extra(connection, entry, rows)
        deleted = deleted or removed
        current[entry.table.name] = rows
    for entry in snapshot.tables:
        if not entry.rows:
            continue
        rows = current[entry.table.name]
        if deleted and entry.table.foreign_keys:  # ON DELETE CASCADE / SET NULL may have run
            rows = _read(connection, entry.table)
        _put_back(connection, entry, rows)


def _read(connection: Connection, table: Table) -> list[Row]:
    return [tuple(row) for row in connection.execute(select(table))]


def _delete_extra(connection: Connection, entry: TableRows, rows: list[Row]) -> bool:
    """Delete the rows of ``entry``'s table that the template does not hold; True if any."""
    if not entry.key_positions:  # no key to tell rows apart: all of them go, all come back
        if rows == list(entry.rows):
            return False
        connection.execute(delete(entry.table))
        rows.clear()
        return True
    template_keys = {entry.key(row) for row in entry.rows}
    extra = [row for row in rows if entry.key(row) not in template_keys]
    if not extra:
        return False
    columns = list(entry.table.columns)
    where = and_(
        *(columns[i] == bindparam(f"sessionerror_k{n}") for n, i in enumerate(entry.key_positions))
    )
    connection.execute(delete(entry.table).where(where), [_key_params(entry, row) for row in extra])
    rows[:] = [row for row in rows if entry.key(row) in template_keys]
    return True


def _put_back(connection: Connection, entry: TableRows, rows: list[Row]) -> None:
    """Insert the template rows missing from ``rows`` and update the changed ones."""
    columns = list(entry.table.columns)
    if not entry.key_positions:
        if rows == list(entry.rows):
            return
        if rows:  # a cascade changed rows of a keyless table: start over
            connection.execute(delete(entry.table))
        _insert(connection, entry, entry.rows)
        return
    present = {entry.key(row): row for row in rows}
    missing = [row for row in entry.rows if entry.key(row) not in present]
    changed = [row for row in entry.rows if present.get(entry.key(row), row) != row]
    if changed:
        values = [i for i in entry.writable if i not in entry.key_positions]
        where = and_(
            *(
                columns[i] == bindparam(f"sessionerror_k{n}")
                for n, i in enumerate(entry.key_positions)
            )
        )
        statement = (
            update(entry.table)
            .where(where)
            .values({columns[i].name: bindparam(f"sessionerror_v{i}") for i in values})
        )
        connection.execute(
            statement,
            [
                _key_params(entry, row) | {f"sessionerror_v{i}": row[i] for i in values}
                for row in changed
            ],
        )
    if missing:
        _insert(connection, entry, missing)


def _insert(connection: Connection, entry: TableRows, rows: Sequence[Row]) -> None:
    if not rows:
        return
    columns = list(entry.table.columns)
    connection.execute(
        insert(entry.table),
        [{columns[i].key: row[i] for i in entry.writable} for row in rows],
    )


def _key_params(entry: TableRows, row: Row) -> dict[str, Any]:
    return {f"sessionerror_k{n}": row[i] for n, i in enumerate(entry.key_positions)}
