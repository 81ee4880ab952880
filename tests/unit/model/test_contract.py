"""models/contract.py is the one statement of the contract: the reference model and the checker
both follow it, so neither can drift from it without a failure here (on every backend)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, inspect
from sqlalchemy import types as sqltypes

from sessionerror.check.schema import SCHEMA_CHECK_IDS, run_schema_checks
from sessionerror.models import SessionError
from sessionerror.models.contract import (
    CHECKS,
    COLUMN_NAMES,
    COLUMNS,
    FOREIGN_KEYS,
    INDEXES,
    SESSION_ERRORS_TABLE,
    TABLES,
    ColumnKind,
)
from sessionerror.models.ddl import check_constraint_name, column_ddl

from .conftest import SPEC_COLUMNS


def _reflected(engine: Engine) -> Any:
    return inspect(engine)


def test_contract_lists_the_spec_columns() -> None:
    assert list(COLUMN_NAMES) == SPEC_COLUMNS


def test_reflected_tables_and_columns_match_the_contract(sessionerror_engine: Engine) -> None:
    insp = _reflected(sessionerror_engine)
    assert set(TABLES) <= set(insp.get_table_names())
    columns = insp.get_columns(SESSION_ERRORS_TABLE)
    assert [c["name"] for c in columns] == list(COLUMN_NAMES)
    nullable = {c["name"]: bool(c["nullable"]) for c in columns}
    for rule in COLUMNS:
        if not rule.primary_key:  # SQLite reports a non-integer primary key as nullable
            assert nullable[rule.name] is rule.nullable, rule.name
    assert insp.get_pk_constraint(SESSION_ERRORS_TABLE)["constrained_columns"] == [
        rule.name for rule in COLUMNS if rule.primary_key
    ]


def test_reflected_foreign_keys_match_the_contract(sessionerror_engine: Engine) -> None:
    found = {
        fk["constrained_columns"][0]: (
            f"{fk['referred_table']}.{fk['referred_columns'][0]}",
            (fk["options"] or {}).get("ondelete"),
        )
        for fk in _reflected(sessionerror_engine).get_foreign_keys(SESSION_ERRORS_TABLE)
    }
    assert found == {rule.column: (rule.target, rule.on_delete) for rule in FOREIGN_KEYS}


def test_reflected_indexes_match_the_contract(sessionerror_engine: Engine) -> None:
    found = {
        index["name"]: tuple(index["column_names"])
        for index in _reflected(sessionerror_engine).get_indexes(SESSION_ERRORS_TABLE)
    }
    assert found == {index.name_for(): index.columns for index in INDEXES}


def test_reflected_checks_match_the_contract(
    sessionerror_engine: Engine, sessionerror_backend: str
) -> None:
    found = {
        check["name"]: str(check["sqltext"])
        for check in _reflected(sessionerror_engine).get_check_constraints(SESSION_ERRORS_TABLE)
    }
    for rule in CHECKS:
        name = check_constraint_name(rule)
        assert name in found, name
        if sessionerror_backend == "sqlite":  # PostgreSQL normalises the stored text
            assert found[name] == rule.sql_for("sqlite")


def test_model_enums_match_the_contract() -> None:
    table = SessionError.__table__
    for rule in COLUMNS:
        type_ = table.c[rule.name].type
        if rule.kind is ColumnKind.ENUM:
            assert isinstance(type_, sqltypes.Enum)
            assert type_.name == rule.enum_type_name
            assert list(type_.enums) == rule.enum_values
        else:
            assert not isinstance(type_, sqltypes.Enum), rule.name


def test_fix_ddl_matches_the_model_ddl_shape() -> None:
    # The DDL the checker prints names every contract column with its NOT NULL rule.
    for rule in COLUMNS:
        for dialect in ("postgresql", "sqlite"):
            ddl = column_ddl(rule, dialect)
            assert ddl.startswith(f"{rule.name} ")
            assert ("NOT NULL" in ddl) is (not rule.nullable and not rule.primary_key)


def test_every_contract_entry_has_a_check_and_the_reference_passes(
    sessionerror_engine: Engine,
) -> None:
    expected = {
        *(f"schema.enum.{rule.name}" for rule in COLUMNS if rule.kind is ColumnKind.ENUM),
        *(f"schema.index.{index.columns[0]}" for index in INDEXES),
        *(f"schema.fk.{rule.column}" for rule in FOREIGN_KEYS),
        *(f"schema.check.{rule.name}" for rule in CHECKS if rule.verified_by_checker),
    }
    assert expected <= set(SCHEMA_CHECK_IDS)
    with sessionerror_engine.connect() as connection:
        results = run_schema_checks(connection)
    assert [result.id for result in results] == list(SCHEMA_CHECK_IDS)
    failed = [(result.id, result.found) for result in results if result.status.value == "FAIL"]
    assert failed == []
