"""Schema checks of the SessionError contract: tables, columns, enums, indexes, FKs, CHECKs.

Everything here only reads the catalog (SQLAlchemy inspector, ``pg_enum``, ``PRAGMA``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sessionerror.check.catalog import (
    CatalogSchema,
    allowed_kinds,
    column_kind,
    read_catalog,
)
from sessionerror.check.contract_checks import (
    check_constraint_fix,
    check_contract_constraint,
    check_enum,
)
from sessionerror.check.report import CheckResult, CheckStatus, Fix
from sessionerror.models.contract import (
    CHECKS,
    COLUMN_NAMES,
    FOREIGN_KEYS,
    INDEXES,
    SESSION_ERRORS_TABLE,
    TABLES,
    ColumnKind,
    ForeignKeyRule,
    IndexRule,
    column_rule,
)
from sessionerror.models.contract import COLUMNS as CONTRACT_COLUMNS
from sessionerror.models.ddl import (
    SQLITE_REBUILD,
    column_ddl,
    column_sqlalchemy,
    foreign_key_ddl,
    foreign_key_sqlalchemy,
    index_ddl,
    index_sqlalchemy,
    sql_type,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

__all__ = ["COLUMNS", "SCHEMA_CHECK_IDS", "run_schema_checks"]

#: The 12 spec columns of ``session_errors``, in spec order.
COLUMNS = COLUMN_NAMES
_TABLE = SESSION_ERRORS_TABLE
_NOT_NULL = tuple(c.name for c in CONTRACT_COLUMNS if c.checked_nullability and not c.nullable)
_NULLABLE = tuple(c.name for c in CONTRACT_COLUMNS if c.checked_nullability and c.nullable)
_ENUM_COLUMNS = tuple(c for c in CONTRACT_COLUMNS if c.kind is ColumnKind.ENUM)
_JSON = tuple(c.name for c in CONTRACT_COLUMNS if c.kind is ColumnKind.JSON)
_PG_DDL = {c.name: column_ddl(c, "postgresql") for c in CONTRACT_COLUMNS}
_SQLITE_DDL = {c.name: column_ddl(c, "sqlite") for c in CONTRACT_COLUMNS}
_PG_TYPES = {c.name: sql_type(c, "postgresql") for c in CONTRACT_COLUMNS}
_SA = {c.name: column_sqlalchemy(c) for c in CONTRACT_COLUMNS}
_BLANK_MESSAGE = next(rule for rule in CHECKS if rule.name == "user_message_not_blank")
_CHECKS = tuple(rule for rule in CHECKS if rule.verified_by_checker)
#: Ids of the schema checks, in report order: one per enum column, index, foreign key and
#: verified CHECK of the contract.
SCHEMA_CHECK_IDS: tuple[str, ...] = (
    "schema.tables",
    "schema.columns",
    "schema.column_types",
    "schema.jsonb",
    "schema.nullability",
    "schema.created_at_default",
    "schema.created_at_timezone",
    *(f"schema.enum.{column.name}" for column in _ENUM_COLUMNS),
    *(f"schema.index.{index.columns[0]}" for index in INDEXES),
    *(f"schema.fk.{rule.column}" for rule in FOREIGN_KEYS),
    *(f"schema.check.{rule.name}" for rule in _CHECKS),
    "sqlite.foreign_keys",
)


def _result(check_id: str, title: str, problems: list[str], expected: str, fix: Fix) -> CheckResult:
    if problems:
        return CheckResult(check_id, title, CheckStatus.FAIL, "; ".join(problems), expected, fix)
    return CheckResult(check_id, title, CheckStatus.PASS, expected=expected)


def _column_fix(schema: CatalogSchema, names: list[str], extra_pg: str = "") -> Fix:
    if schema.is_pg():
        ddl = extra_pg or "; ".join(f"ALTER TABLE {_TABLE} ADD COLUMN {_PG_DDL[n]}" for n in names)
    else:
        ddl = SQLITE_REBUILD.format(piece=", ".join(_SQLITE_DDL[n] for n in names))
    return Fix(ddl, "; ".join(f"{n}: Mapped[...] = {_SA[n]}" for n in names))


# -- the checks ------------------------------------------------------------------------------


def _check_tables(schema: CatalogSchema) -> CheckResult:
    missing = [t for t in TABLES if t not in schema.tables]
    problems = [f"missing table(s): {', '.join(missing)}"] if missing else []
    fix = Fix(
        "create them with your migration tool (see sessionerror.models.contract for the DDL)",
        "Base.metadata.create_all(engine) with models deriving from SessionErrorMixin",
    )
    return _result(
        "schema.tables",
        f"{_TABLE} and its parent tables exist",
        problems,
        "tables " + ", ".join(TABLES),
        fix,
    )


def _check_columns(schema: CatalogSchema) -> CheckResult:
    missing = [c for c in COLUMNS if c not in schema.columns]
    return _result(
        "schema.columns",
        "the 12 spec columns exist",
        [f"missing column(s): {', '.join(missing)}"] if missing else [],
        "columns " + ", ".join(COLUMNS),
        _column_fix(schema, missing or ["id"]),
    )


def _check_types(schema: CatalogSchema) -> CheckResult:
    problems, bad = [], []
    for name in COLUMNS:
        if name not in schema.columns:
            continue
        kind, shown = column_kind(schema, name)
        if kind not in allowed_kinds(schema, name):
            problems.append(f"{name} is {shown}")
            bad.append(name)
    if schema.is_pg():
        expected = "uuid for ids, text/varchar, enum or text for enums, timestamp for created_at"
        ddl = "; ".join(
            f"ALTER TABLE {_TABLE} ALTER COLUMN {n} TYPE {_PG_TYPES[n]} USING {n}::{_PG_TYPES[n]}"
            for n in bad
        )
        fix = Fix(ddl, "; ".join(f"{n} = {_SA[n]}" for n in bad))
    else:
        expected = "CHAR(32)/TEXT/BLOB for ids, JSON/TEXT for JSON, TEXT/VARCHAR for text"
        fix = _column_fix(schema, bad)
    return _result("schema.column_types", "columns have compatible types", problems, expected, fix)


def _check_jsonb(schema: CatalogSchema) -> CheckResult:
    title = "recovery_actions and technical_details are JSONB"
    if not schema.is_pg():
        return CheckResult(
            "schema.jsonb", title, CheckStatus.SKIP, reason="JSONB exists on PostgreSQL only"
        )
    problems = []
    for name in _JSON:
        if name in schema.columns and column_kind(schema, name)[0] == "json":
            problems.append(f"{name} is JSON (text, not indexable, keeps duplicate keys)")
    ddl = "; ".join(
        f"ALTER TABLE {_TABLE} ALTER COLUMN {n} TYPE JSONB USING {n}::jsonb" for n in _JSON
    )
    fix = Fix(ddl, _SA[_JSON[0]])
    return _result("schema.jsonb", title, problems, "JSONB on PostgreSQL", fix)


def _check_nullability(schema: CatalogSchema) -> CheckResult:
    problems, alters = [], []
    for name in _NOT_NULL:
        if name in schema.columns and schema.columns[name]["nullable"]:
            problems.append(f"{name} is nullable")
            alters.append(f"ALTER TABLE {_TABLE} ALTER COLUMN {name} SET NOT NULL")
    for name in _NULLABLE:
        if name in schema.columns and not schema.columns[name]["nullable"]:
            problems.append(f"{name} is NOT NULL (SET NULL on delete cannot work)")
            alters.append(f"ALTER TABLE {_TABLE} ALTER COLUMN {name} DROP NOT NULL")
    wanted = [n for n in (*_NOT_NULL, *_NULLABLE) if any(p.startswith(n) for p in problems)]
    fix = _column_fix(schema, wanted, "; ".join(alters))
    return _result(
        "schema.nullability",
        "NOT NULL where the contract requires it",
        problems,
        "NOT NULL: " + ", ".join(_NOT_NULL) + "; nullable: " + ", ".join(_NULLABLE),
        fix,
    )


def _check_created_at_default(schema: CatalogSchema) -> CheckResult:
    column = schema.columns.get("created_at")
    problems = [] if column is None or column.get("default") else ["created_at has no default"]
    default = column_rule("created_at").server_default["postgresql"]
    ddl = f"ALTER TABLE {_TABLE} ALTER COLUMN created_at SET DEFAULT {default}"
    return _result(
        "schema.created_at_default",
        "created_at has a server default",
        problems,
        "DEFAULT now() / CURRENT_TIMESTAMP",
        _column_fix(schema, ["created_at"], ddl),
    )


def _check_timezone(schema: CatalogSchema) -> CheckResult:
    title = "created_at is timezone-aware (timestamptz)"
    if not schema.is_pg():
        return CheckResult(
            "schema.created_at_timezone",
            title,
            CheckStatus.SKIP,
            reason=(
                "SQLite has no timezone-aware type; store UTC "
                "(sessionerror.models.types.UTCDateTime)"
            ),
        )
    problems = []
    if "created_at" in schema.columns:
        shown = column_kind(schema, "created_at")[1]
        if shown != "timestamptz":
            problems.append(f"created_at is {shown} (naive: the offset is lost)")
    ddl = (
        f"ALTER TABLE {_TABLE} ALTER COLUMN created_at TYPE timestamptz "
        "USING created_at AT TIME ZONE 'UTC'"
    )
    return _result(
        "schema.created_at_timezone",
        title,
        problems,
        "timestamp with time zone",
        Fix(ddl, _SA["created_at"]),
    )


def _check_index(schema: CatalogSchema, index: IndexRule) -> CheckResult:
    name = index.columns[0]
    found = any(cols and cols[0] == name for cols in schema.indexes)
    problems = [] if found else [f"no index whose first column is {name}"]
    return _result(
        f"schema.index.{name}",
        f"an index leads with {name}",
        problems,
        f"an index on ({', '.join(index.columns)})",
        Fix(index_ddl(index), index_sqlalchemy(index)),
    )


def _check_fk(schema: CatalogSchema, rule: ForeignKeyRule) -> CheckResult:
    column, target, on_delete = rule.column, rule.table, rule.on_delete
    check_id = f"schema.fk.{column}"
    title = f"{column} references {rule.target} ON DELETE {on_delete}"
    fk = next((f for f in schema.fks if f["constrained_columns"] == [column]), None)
    problems = []
    if fk is None:
        problems.append(f"no foreign key on {column}")
    else:
        found_target = f"{fk['referred_table']}.{','.join(fk['referred_columns'])}"
        if found_target != rule.target:
            problems.append(f"{column} references {found_target}")
        ondelete = str((fk.get("options") or {}).get("ondelete") or "NO ACTION").upper()
        if ondelete != on_delete:
            problems.append(f"ON DELETE {ondelete} (missing ON DELETE {on_delete})")
    if schema.is_pg():
        ddl = foreign_key_ddl(rule, name=(fk or {}).get("name"), replace=fk is not None)
    else:
        ddl = SQLITE_REBUILD.format(piece=_SQLITE_DDL[column])
    return _result(
        check_id,
        title,
        problems,
        f"FOREIGN KEY REFERENCES {target} ({rule.target_column}) ON DELETE {on_delete}",
        Fix(ddl, foreign_key_sqlalchemy(rule)),
    )


def blank_message_fix(dialect: str) -> Fix:
    """How to add the reference not-blank CHECK on ``dialect`` (DDL and SQLAlchemy)."""
    return check_constraint_fix(_BLANK_MESSAGE, dialect)


def _check_sqlite_foreign_keys(conn: Connection, *, own_connection: bool) -> CheckResult:
    check_id, title = "sqlite.foreign_keys", "the connection enforces foreign keys"
    if conn.dialect.name != "sqlite":
        reason = "PostgreSQL always enforces foreign keys"
        return CheckResult(check_id, title, CheckStatus.SKIP, reason=reason)
    if own_connection:
        reason = (
            "checked through a URL, with the checker's own connection (foreign keys ON); "
            "your engine needs a 'connect' event running PRAGMA foreign_keys=ON: check it with "
            "sessionerror.check.api.assert_contract(engine)"
        )
        return CheckResult(check_id, title, CheckStatus.SKIP, reason=reason)
    enabled = bool(conn.exec_driver_sql("PRAGMA foreign_keys").scalar())
    off = "PRAGMA foreign_keys = 0: ON DELETE CASCADE / SET NULL silently do nothing"
    problems = [] if enabled else [off]
    sa = (
        "@event.listens_for(engine, 'connect') def _fk(dbapi_conn, _): "
        "dbapi_conn.execute('PRAGMA foreign_keys=ON')  # on the SQLite engine, not Engine"
    )
    return _result(
        check_id,
        title,
        problems,
        "PRAGMA foreign_keys = 1 on every connection",
        Fix("PRAGMA foreign_keys=ON  (per connection, outside a transaction)", sa),
    )


def run_schema_checks(conn: Connection, *, own_connection: bool = False) -> list[CheckResult]:
    """Run every schema check on ``conn`` (read-only) and return the results in report order.

    ``own_connection``: the checker opened ``conn`` from a URL, so its PRAGMA says nothing about
    the application's engine.
    """
    schema = read_catalog(conn)
    results = [_check_tables(schema)]
    if _TABLE not in schema.tables:
        results += [
            CheckResult(check_id, check_id, CheckStatus.SKIP, reason=f"no {_TABLE} table")
            for check_id in SCHEMA_CHECK_IDS[1:-1]
        ]
    else:
        results += [
            _check_columns(schema),
            _check_types(schema),
            _check_jsonb(schema),
            _check_nullability(schema),
            _check_created_at_default(schema),
            _check_timezone(schema),
            *(check_enum(conn, schema, column) for column in _ENUM_COLUMNS),
            *(_check_index(schema, index) for index in INDEXES),
            *(_check_fk(schema, rule) for rule in FOREIGN_KEYS),
            *(check_contract_constraint(schema, rule) for rule in _CHECKS),
        ]
    results.append(_check_sqlite_foreign_keys(conn, own_connection=own_connection))
    return results
