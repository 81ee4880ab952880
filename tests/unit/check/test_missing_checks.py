"""A team revision that drops the contract's CHECKs is caught by ``check`` and by the drift check.

Alembic's ``compare_metadata`` compares no CHECK constraint, so the kit's drift check does.
"""

from __future__ import annotations

import pytest
from broken_schemas import make_engine
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from sessionerror.check import CheckStatus, run_checks
from sessionerror.check.drift import enum_type_drift, normalise_check_sql
from sessionerror.check.migrations import assert_no_drift, metadata_drift
from sessionerror.check.probe_rows import RowWriter, insert_parent_rows
from sessionerror.models import Base
from sessionerror.models.contract import CHECKS

DROPPED = ("operation_stage_valid", "recovery_actions_list", "technical_details_object")


def _team_revision_without_checks(engine: Engine) -> None:
    """What a team's revision does: the reference tables, minus three CHECKs."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        op = Operations(MigrationContext.configure(conn))
        if conn.dialect.name == "postgresql":
            for name in DROPPED:
                op.drop_constraint(f"ck_session_errors_{name}", "session_errors", type_="check")
        else:
            with op.batch_alter_table("session_errors", recreate="always") as batch:
                for name in DROPPED:
                    batch.drop_constraint(f"ck_session_errors_{name}", type_="check")


def _stores_uploading(engine: Engine) -> bool:
    """Whether raw SQL can store operation_stage='uploading' (rolled back either way)."""
    with engine.connect() as conn, conn.begin() as transaction:
        writer = RowWriter(conn)
        rows = insert_parent_rows(writer)
        try:
            writer.error(session_id=rows.session_1, operation_stage="uploading")
        except IntegrityError:
            return False
        finally:
            transaction.rollback()
        return True


def test_missing_contract_checks_fail_check_and_drift_with_their_ddl(blank_db_url: str) -> None:
    engine = make_engine(blank_db_url)
    try:
        _team_revision_without_checks(engine)
        assert _stores_uploading(engine)  # what the CHECKs are there to prevent
        report = run_checks(engine)
        dialect = report.dialect
        failing = {r.id for r in report.failures}
        assert failing == {f"schema.check.{name}" for name in DROPPED}, report.format()
        for rule in CHECKS:
            result = report.get(f"schema.check.{rule.name}")
            if rule.name not in DROPPED:
                assert result.status is CheckStatus.PASS
                continue
            assert f"no CHECK constraint on {rule.column}" in result.found
            assert result.fix is not None
            assert f"CHECK ({rule.sql_for(dialect)})" in result.fix.ddl
            assert rule.name in result.fix.sqlalchemy
        stage = report.get("schema.check.operation_stage_valid")
        assert "operation_stage='uploading'" in stage.found
        with engine.connect() as conn:
            drift = metadata_drift(conn, Base.metadata)
        assert sorted(drift) == sorted(
            f"CHECK ck_session_errors_{name} on session_errors: models only "
            f"(CHECK ({next(r for r in CHECKS if r.name == name).sql_for(dialect)}))"
            for name in DROPPED
        )
        with pytest.raises(AssertionError, match="ck_session_errors_operation_stage_valid"):
            assert_no_drift(engine, Base.metadata)
        if dialect == "postgresql":  # the printed DDL, applied verbatim, restores them
            with engine.begin() as conn:
                for statement in report.fix_script():
                    conn.exec_driver_sql(statement)
            assert run_checks(engine).ok
            assert_no_drift(engine, Base.metadata)
            assert not _stores_uploading(engine)
    finally:
        engine.dispose()


def test_the_reference_schema_has_no_check_or_enum_drift(reference_db_url: str) -> None:
    engine = make_engine(reference_db_url)
    try:
        assert_no_drift(engine, Base.metadata)
    finally:
        engine.dispose()


@pytest.mark.postgresql
@pytest.mark.sessionerror(backends=["postgresql"])
def test_drift_reports_enum_type_names_labels_and_changed_check_expressions(
    reference_db_url: str,
) -> None:
    engine = make_engine(reference_db_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TYPE error_category RENAME TO error_category_v")
            conn.exec_driver_sql("ALTER TYPE error_severity ADD VALUE 'fatal'")
            conn.exec_driver_sql(
                "ALTER TABLE session_errors DROP CONSTRAINT ck_session_errors_operation_stage_valid"
            )
            conn.exec_driver_sql(
                "ALTER TABLE session_errors ADD CONSTRAINT "
                "ck_session_errors_operation_stage_valid CHECK (operation_stage IN "
                "('upload', 'uploading', 'processing', 'review', 'jira_export'))"
            )
        with engine.connect() as conn:
            drift = metadata_drift(conn, Base.metadata)
            enums = enum_type_drift(conn, Base.metadata.tables["session_errors"])
    finally:
        engine.dispose()
    assert enums[0] == (
        "column session_errors.error_category: enum type error_category_v in the schema, "
        "error_category in the models (asyncpg casts every write to ::error_category)"
    )
    assert len(drift) == 3, "\n".join(drift)
    assert any(  # Alembic >= 1.x reports the type; the kit adds the name when it does not
        (
            line.startswith("column session_errors.error_category: ")
            and "error_category_v" in line
            and "name='error_category'" in line
        )
        or "enum type error_category_v in the schema, error_category in the models" in line
        for line in drift
    )
    assert any(
        "session_errors.severity: enum labels" in line and "'fatal'" in line for line in drift
    )
    assert any(
        line.startswith("CHECK ck_session_errors_operation_stage_valid on session_errors: CHECK")
        and "'uploading'" in line
        for line in drift
    )


def test_check_expressions_are_compared_without_layout() -> None:
    assert normalise_check_sql("(( a  IN ('x y', 'Z') ))") == "ain('x y','Z')"
    assert normalise_check_sql("(a) AND (b)") == "(a)and(b)"


def test_a_copied_metadata_with_per_dialect_check_variants_has_no_drift(
    reference_db_url: str,
) -> None:
    # Table.to_metadata() drops ddl_if(): the copy holds both dialects' CHECK of one name.
    from sqlalchemy import MetaData

    copy = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(copy)
    engine = make_engine(reference_db_url)
    try:
        assert_no_drift(engine, copy)
    finally:
        engine.dispose()
