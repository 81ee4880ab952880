"""Proving a kept worker database is still as its template left it (issue 20, the inner loop).

A kept worker database is a copy of the kept template that outlives the run, so the next run
needs neither ``CREATE DATABASE`` nor ``DROP DATABASE``. Right after it is copied, the kit
records its *state* in the database's comment (after the ``kept by sessionerror`` marker): a
digest of its schema (tables, columns, constraints, indexes, views, functions, triggers, enum
labels) and of every row of every table, and the values of its sequences. The next run computes
the digest again: equal means nothing committed anything since (the tests' transactions were
rolled back), so the sequences are set back and the database is used as is; different (a killed
committed test, an app engine that committed, DDL) means it is dropped and copied again from the
template. Seeded rows of a migration are therefore never lost.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sessionerror.testdb.postgres.kept import KEEP_MARKER

if TYPE_CHECKING:
    from sqlalchemy import Connection

__all__ = ["KeptState", "read_state", "record_state", "restore_sequences", "snapshot"]

_USER_SCHEMAS = "n.nspname <> 'information_schema' AND NOT starts_with(n.nspname, 'pg_')"

# One text line per schema object; their sorted concatenation is hashed.
_SCHEMA_SQL = f"""
SELECT concat_ws(' ', 'c', n.nspname, c.relname, c.relkind::text, a.attname,
       format_type(a.atttypid, a.atttypmod), a.attnotnull::text,
       pg_get_expr(d.adbin, d.adrelid))
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped AND {_USER_SCHEMAS}
UNION ALL
SELECT concat_ws(' ', 'k', n.nspname, k.conname, pg_get_constraintdef(k.oid))
FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE {_USER_SCHEMAS}
UNION ALL
SELECT concat_ws(' ', 'i', pg_get_indexdef(i.indexrelid))
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {_USER_SCHEMAS}
UNION ALL
SELECT concat_ws(' ', 'v', n.nspname, c.relname, pg_get_viewdef(c.oid))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND {_USER_SCHEMAS}
UNION ALL
SELECT concat_ws(' ', 'f', n.nspname, p.proname, md5(p.prosrc))
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {_USER_SCHEMAS}
UNION ALL
SELECT concat_ws(' ', 't', t.tgname, pg_get_triggerdef(t.oid))
FROM pg_trigger t WHERE NOT t.tgisinternal
UNION ALL
SELECT concat_ws(' ', 'e', e.enumtypid::regtype::text, e.enumlabel, e.enumsortorder::text)
FROM pg_enum e
"""

_TABLES_SQL = f"""
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm') AND {_USER_SCHEMAS} ORDER BY 1
"""

_SEQUENCES_SQL = f"""
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'S' AND {_USER_SCHEMAS} ORDER BY 1
"""


@dataclass(frozen=True)
class KeptState:
    """A database's digest (schema and rows) and its sequences' ``(last_value, is_called)``."""

    digest: str
    sequences: dict[str, tuple[int, bool]] = field(default_factory=dict)

    def comment(self) -> str:
        """The database comment recording this state after the kit's kept marker."""
        payload = {"digest": self.digest, "sequences": self.sequences}
        return f"{KEEP_MARKER}\n{json.dumps(payload, sort_keys=True)}"


def snapshot(connection: Connection) -> KeptState:
    """The state of the database ``connection`` is on (read in one transaction)."""
    digest = hashlib.sha256()
    lines = sorted(str(line) for line in connection.exec_driver_sql(_SCHEMA_SQL).scalars())
    digest.update("\n".join(lines).encode())
    tables = list(connection.exec_driver_sql(_TABLES_SQL).scalars())
    if tables:
        parts = [
            f"SELECT {i}, count(*), md5(coalesce(string_agg(t::text, E'\\n' "
            f"ORDER BY t::text), '')) FROM {name} t"
            for i, name in enumerate(tables)
        ]
        for index, count, rows in connection.exec_driver_sql(" UNION ALL ".join(parts)):
            digest.update(f"\0{tables[index]}\0{count}\0{rows}".encode())
    sequences: dict[str, tuple[int, bool]] = {}
    for name in connection.exec_driver_sql(_SEQUENCES_SQL).scalars():
        row = connection.exec_driver_sql(f"SELECT last_value, is_called FROM {name}").one()
        sequences[str(name)] = (int(row[0]), bool(row[1]))
    return KeptState(digest.hexdigest()[:32], sequences)


def read_state(comment: str | None) -> KeptState | None:
    """The state recorded in a kept database's comment; None if there is none (or unreadable)."""
    if comment is None or not comment.startswith(KEEP_MARKER + "\n"):
        return None
    try:
        payload = json.loads(comment[len(KEEP_MARKER) + 1 :])
        sequences = {str(k): (int(v[0]), bool(v[1])) for k, v in payload["sequences"].items()}
        return KeptState(str(payload["digest"]), sequences)
    except (ValueError, KeyError, TypeError, IndexError):
        return None


def record_state(connection: Connection, name: str, state: KeptState) -> None:
    """Write ``state`` into the comment of kept database ``name`` (an AUTOCOMMIT connection)."""
    quoted = connection.dialect.identifier_preparer.quote(name)
    literal = "'" + state.comment().replace("'", "''") + "'"
    connection.exec_driver_sql(f"COMMENT ON DATABASE {quoted} IS {literal}")


def restore_sequences(connection: Connection, state: KeptState) -> None:
    """Set every sequence back to its recorded value (rolled-back inserts advanced them)."""
    for name, (value, called) in state.sequences.items():
        connection.exec_driver_sql("SELECT setval(%s, %s, %s)", (name, value, called))
