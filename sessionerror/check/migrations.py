"""Checks for a team's migrations: model drift and the upgrade/downgrade round trip.

Each ``assert_*`` raises ``AssertionError`` listing every difference. Alembic is imported only
when a function here runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Connection, Engine, MetaData

__all__ = [
    "assert_no_drift",
    "assert_round_trip",
    "describe_difference",
    "metadata_drift",
    "schema_snapshot",
    "snapshot_differences",
]

Snapshot = dict[str, Any]
_VERSION_TABLE = "alembic_version"


def describe_difference(difference: Any) -> str:
    """One line for one entry of Alembic's ``compare_metadata`` output."""
    if isinstance(difference, list):  # modify_* entries come as a list of tuples
        return "; ".join(describe_difference(item) for item in difference)
    kind = difference[0]
    if kind in ("add_table", "remove_table"):
        table = difference[1]
        where = "in the models but not in the migrated schema"
        if kind == "remove_table":
            where = "in the migrated schema but not in the models"
        return f"table {table.name}: {where}"
    if kind in ("add_column", "remove_column"):
        _, _schema, table, column = difference
        where = "models only" if kind == "add_column" else "migrated schema only"
        return f"column {table}.{column.name}: {where}"
    if kind in ("add_index", "remove_index"):
        index = difference[1]
        columns = ", ".join(str(getattr(c, "name", c)) for c in index.expressions)
        where = "models only" if kind == "add_index" else "migrated schema only"
        return f"index {index.name} on {index.table.name}({columns}): {where}"
    if kind in ("add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        constraint = difference[1]
        where = "models only" if kind.startswith("add") else "migrated schema only"
        table = constraint.table.name if constraint.table is not None else "?"
        label = "foreign key" if kind.endswith("fk") else type(constraint).__name__
        return f"{label} {constraint.name or '(unnamed)'} on {table}: {where}"
    if kind.startswith("modify_"):
        _, _schema, table, column, existing, old, new = difference
        what = kind.removeprefix("modify_")
        _ = existing
        return f"column {table}.{column}: {what} is {old!r} in the schema, {new!r} in the models"
    return " ".join(str(part) for part in difference)


def metadata_drift(connection: Connection, metadata: MetaData) -> list[str]:
    """Every difference between ``metadata`` and the schema behind ``connection``.

    Alembic's ``compare_metadata``, plus what it does not compare: CHECK constraints (name and
    normalised expression) and, on PostgreSQL, enum type names and labels.
    """
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from sessionerror.check.drift import schema_object_drift

    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": False}
    )
    differences = compare_metadata(context, metadata)
    retyped = frozenset(
        (str(item[2]), str(item[3]))
        for entry in differences
        if isinstance(entry, list)
        for item in entry
        if item[0] == "modify_type"
    )
    lines = [describe_difference(item) for item in differences]
    return lines + schema_object_drift(connection, metadata, retyped)


def assert_no_drift(bind: Engine | Connection, metadata: MetaData) -> None:
    """Fail listing each difference between the models' ``metadata`` and the migrated schema."""
    with _connection(bind) as connection:
        differences = metadata_drift(connection, metadata)
    if differences:
        lines = "\n".join(f"  - {line}" for line in differences)
        raise AssertionError(
            f"the migrations and the models differ ({len(differences)} difference(s)); write a "
            f"migration for each (alembic revision --autogenerate):\n{lines}"
        )


@contextmanager
def _connection(bind: Engine | Connection) -> Iterator[Connection]:
    from sqlalchemy import Engine

    if isinstance(bind, Engine):
        with bind.connect() as connection:
            yield connection
    else:
        yield bind


def schema_snapshot(connection: Connection) -> Snapshot:
    """Reflected tables (columns, keys, indexes, constraints) and, on PostgreSQL, enum types."""
    from sqlalchemy import inspect

    inspector = inspect(connection)
    snapshot: Snapshot = {}
    for table in sorted(inspector.get_table_names()):
        if table == _VERSION_TABLE:
            continue
        columns = [
            (
                column["name"],
                str(column["type"].compile(dialect=connection.dialect)),
                column["nullable"],
                " ".join(str(column.get("default")).split()),
            )
            for column in inspector.get_columns(table)
        ]
        foreign_keys = sorted(
            (
                tuple(fk["constrained_columns"]),
                fk["referred_table"],
                tuple(fk["referred_columns"]),
                (fk.get("options") or {}).get("ondelete") or "",
            )
            for fk in inspector.get_foreign_keys(table)
        )
        indexes = sorted(
            (str(ix["name"]), tuple(str(c) for c in ix["column_names"]), bool(ix["unique"]))
            for ix in inspector.get_indexes(table)
        )
        checks = sorted(
            (str(ck.get("name")), " ".join(str(ck["sqltext"]).split()))
            for ck in inspector.get_check_constraints(table)
        )
        uniques = sorted(
            (str(uq.get("name")), tuple(uq["column_names"]))
            for uq in inspector.get_unique_constraints(table)
        )
        primary_key = tuple(inspector.get_pk_constraint(table).get("constrained_columns") or ())
        snapshot[f"table {table}"] = {
            "columns": columns,
            "primary key": primary_key,
            "foreign keys": foreign_keys,
            "indexes": indexes,
            "check constraints": checks,
            "unique constraints": uniques,
        }
    if connection.dialect.name == "postgresql":
        for enum in inspector.get_enums():  # type: ignore[attr-defined]
            snapshot[f"enum type {enum['name']}"] = {"labels": list(enum["labels"])}
    return snapshot


def snapshot_differences(before: Snapshot, after: Snapshot) -> list[str]:
    """One line per object that differs between two :func:`schema_snapshot` results."""
    lines: list[str] = []
    for name in sorted(set(before) | set(after)):
        if name not in after:
            lines.append(f"{name}: present before, missing after")
        elif name not in before:
            lines.append(f"{name}: missing before, present after")
        else:
            for part in before[name]:
                first, second = before[name][part], after[name].get(part)
                if first != second:
                    lines.append(f"{name}: {part} differ: {first!r} vs {second!r}")
    return lines


def assert_round_trip(engine: Engine, config: Config, target: str = "head") -> None:
    """Upgrade an EMPTY database to ``target``, downgrade to base, upgrade again; same schema.

    Fails naming what the downgrade left behind, the revision that broke, or each object whose
    reflected definition differs between the two upgrades.
    """
    from sessionerror.testdb.migrations import MigrationError, downgrade, upgrade

    steps = (
        ("upgrade to " + target, upgrade, target),
        ("downgrade to base", downgrade, "base"),
        ("upgrade to " + target + " again", upgrade, target),
    )
    snapshots: list[Snapshot] = []
    for label, step, revision in steps:
        try:
            with engine.begin() as connection:
                step(connection, config, revision)
        except MigrationError as exc:
            raise AssertionError(f"round trip: {label} failed: {exc}") from None
        with engine.connect() as connection:
            snapshots.append(schema_snapshot(connection))
        if label == "downgrade to base" and snapshots[-1]:
            left = ", ".join(sorted(snapshots[-1]))
            raise AssertionError(
                f"round trip: downgrade to base left {left} behind; drop it in the downgrade() "
                "of the revision that creates it"
            )
    differences = snapshot_differences(snapshots[0], snapshots[2])
    if differences:
        lines = "\n".join(f"  - {line}" for line in differences)
        raise AssertionError(
            "round trip: the schema after upgrade, downgrade to base and upgrade again differs "
            f"from the first upgrade:\n{lines}"
        )
