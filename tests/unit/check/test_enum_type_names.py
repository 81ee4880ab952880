"""The checker verifies the enum type NAMES the model binds, and its printed fix really fixes.

asyncpg casts every enum parameter to the type name the model declares (``$1::error_category``):
a column of another type, or VARCHAR, passes every label check yet refuses every write.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import pytest
from broken_schemas import ddl, make_engine, run_ddl
from sqlalchemy import ForeignKey, Integer, String, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from sessionerror.check import CheckStatus, run_checks, run_checks_async
from sessionerror.check.behaviour import _unknown_category_fix
from sessionerror.check.catalog import read_catalog
from sessionerror.check.contract_checks import enum_fix
from sessionerror.models import SessionErrorMixin
from sessionerror.models.contract import ENUM_TYPE_NAMES, column_rule
from sessionerror.models.ddl import column_sqlalchemy
from sessionerror.models.types import GUID, UTCDateTime, utcnow


class TeamBase(DeclarativeBase):
    pass


class TeamSession(TeamBase):
    """The parent of the raw-DDL schema, with its extra NOT NULL columns."""

    __tablename__ = "sessions"
    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    owner_email: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    session_errors: Mapped[list[TeamError]] = relationship(
        back_populates="session", passive_deletes=True
    )


class TeamFile(TeamBase):
    __tablename__ = "uploaded_files"
    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("sessions.id"))
    filename: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(Integer)


class TeamTicket(TeamBase):
    __tablename__ = "tickets"
    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("sessions.id"))
    summary: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TeamError(SessionErrorMixin, TeamBase):
    sessionerror_session_model = "TeamSession"


def _error(session_id: uuid.UUID) -> TeamError:
    return TeamError(
        session_id=session_id,
        error_category="admin_required",
        severity="blocking",
        operation_stage="jira_export",
        user_message="Jira refused the token",
        recovery_actions={"actions": ["Ask an admin to renew the token"]},
    )


def _write_sync(url: str) -> int:
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            parent = TeamSession(name="s", owner_email="a@example.org")
            db.add(parent)
            db.flush()
            db.add(_error(parent.id))
            db.commit()
            return int(db.scalar(select(func.count()).select_from(TeamError)) or 0)
    finally:
        engine.dispose()


async def _write_async(url: str) -> int:
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    engine = create_async_engine(make_url(url).set(drivername="postgresql+asyncpg"))
    try:
        async with AsyncSession(engine, expire_on_commit=False) as db:
            parent = TeamSession(name="s", owner_email="a@example.org")
            db.add(parent)
            await db.flush()
            db.add(_error(parent.id))
            await db.commit()
            return int(await db.scalar(select(func.count()).select_from(TeamError)) or 0)
    finally:
        await engine.dispose()


def test_the_mixin_binds_the_contract_type_names_and_every_fix_uses_them() -> None:
    table = TeamError.__table__
    assert ENUM_TYPE_NAMES == {"error_category": "error_category", "severity": "error_severity"}
    for column, type_name in ENUM_TYPE_NAMES.items():
        assert getattr(table.c[column].type, "name", None) == type_name
        assert f"name='{type_name}'" in column_sqlalchemy(column_rule(column))


# The real app's schema (VARCHAR(50) enums, no CHECK at all), a type of another name (what the
# old fix created: error_category_v), and a type of the right name holding member NAMES.
SCHEMAS = {
    "varchar_no_checks": {
        "enum_columns": "varchar",
        "message_check": False,
        "contract_checks": False,
    },
    "other_type_name": {"category_type": "error_category_v"},
    "names_in_the_type": {"categories": ("USER_FIXABLE", "ADMIN_REQUIRED", "TEMPORARY")},
}


@pytest.mark.postgresql
@pytest.mark.sessionerror(backends=["postgresql"])
@pytest.mark.parametrize("schema", list(SCHEMAS))
def test_the_printed_fix_applied_verbatim_passes_and_writes_through_both_drivers(
    blank_db_url: str, schema: str
) -> None:
    run_ddl(blank_db_url, ddl("postgresql", **SCHEMAS[schema]))
    report = run_checks(blank_db_url)
    failing = {result.id for result in report.failures}
    assert "schema.enum.error_category" in failing, report.format()
    category = report.get("schema.enum.error_category")
    found = {"varchar_no_checks": "VARCHAR(50)", "other_type_name": "error_category_v"}
    assert found.get(schema, "NAMES") in category.found
    script = report.fix_script()
    assert all(f"  {statement};" in report.format() for statement in script)
    assert report.to_dict()["fix_script"] == script
    retype = "ALTER TABLE session_errors ALTER COLUMN error_category TYPE error_category USING"
    assert any(statement.startswith(retype) for statement in script), script
    if schema == "varchar_no_checks":  # every missing CHECK is named, with its DDL
        for name in ("operation_stage_valid", "recovery_actions_list", "technical_details_object"):
            assert f"ADD CONSTRAINT ck_session_errors_{name} CHECK" in " ".join(script)
        assert "schema.enum.severity" in failing
        behaviour_fix = report.get("behaviour.rejects_unknown_category").fix
        assert behaviour_fix is not None and behaviour_fix == category.fix
    run_ddl(blank_db_url, script)
    again = run_checks(blank_db_url)
    assert again.ok, again.format()
    assert asyncio.run(run_checks_async_on(blank_db_url)).ok
    assert _write_sync(blank_db_url) == 1
    assert asyncio.run(_write_async(blank_db_url)) == 2


async def run_checks_async_on(url: str) -> object:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(make_url(url).set(drivername="postgresql+asyncpg"))
    try:
        return await run_checks_async(engine)
    finally:
        await engine.dispose()


@pytest.mark.postgresql
@pytest.mark.sessionerror(backends=["postgresql"])
def test_the_behaviour_fix_is_the_schema_fix(blank_db_url: str) -> None:
    run_ddl(blank_db_url, ddl("postgresql", enum_columns="varchar"))
    engine = make_engine(blank_db_url)
    try:
        with engine.connect() as conn:
            schema_fix = enum_fix(conn, read_catalog(conn), column_rule("error_category"))
            assert _unknown_category_fix(conn) == schema_fix
    finally:
        engine.dispose()
    assert schema_fix.ddl.startswith("CREATE TYPE error_category AS ENUM (")
    assert "TYPE error_category USING lower(error_category::text)::error_category" in (
        schema_fix.ddl
    )
    assert "name='error_category'" in schema_fix.sqlalchemy
    report = run_checks(blank_db_url, behaviour=False)
    assert report.get("schema.enum.error_category").status is CheckStatus.FAIL
    assert "VARCHAR(50)" in report.get("schema.enum.error_category").found
