"""The downstream app of benchmarks/inner_loop.py: its files, and both conftests."""

MODELS = '''\
"""The app's models (FastAPI-style, async SQLAlchemy)."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    tier: Mapped[str] = mapped_column(String(20), server_default="free")
    orders: Mapped[list["Order"]] = relationship(back_populates="customer")


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    total_cents: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    customer: Mapped[Customer] = relationship(back_populates="orders")


class Tier(Base):
    __tablename__ = "tiers"
    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    discount: Mapped[int]
'''

APP = '''\
"""The app: an async service the endpoints call."""
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Customer, Order, Tier


async def place_order(db: AsyncSession, email: str, total_cents: int) -> Order:
    customer = (await db.scalars(select(Customer).where(Customer.email == email))).one_or_none()
    if customer is None:
        customer = Customer(email=email)
        db.add(customer)
        await db.flush()
    order = Order(customer_id=customer.id, total_cents=total_cents)
    db.add(order)
    await db.flush()
    return order


async def revenue(db: AsyncSession) -> int:
    return int((await db.scalar(select(func.coalesce(func.sum(Order.total_cents), 0)))) or 0)


async def discount(db: AsyncSession, tier: str) -> int:
    row = await db.get(Tier, tier)
    return 0 if row is None else row.discount
'''

ALEMBIC_INI = "[alembic]\nscript_location = %(here)s/migrations\nsqlalchemy.url = \n"

ENV_PY = """\
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config


def run(connection):
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = engine_from_config(
        config.get_section(config.config_ini_section), prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as own:
        run(own)
        own.commit()
"""

REVISIONS = {
    "0001": (
        None,
        """    op.create_table(
        "customers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(200), nullable=False, unique=True),
    )""",
    ),
    "0002": (
        "0001",
        """    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "customer_id", sa.Integer,
            sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False,
        ),
        sa.Column("total_cents", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, server_default=sa.func.now(), nullable=False),
    )""",
    ),
    "0003": (
        "0002",
        """    op.add_column(
        "customers", sa.Column("tier", sa.String(20), server_default="free", nullable=False)
    )
    tiers = op.create_table(
        "tiers",
        sa.Column("name", sa.String(20), primary_key=True),
        sa.Column("discount", sa.Integer, nullable=False),
    )
    op.bulk_insert(tiers, [{"name": "free", "discount": 0}, {"name": "gold", "discount": 10}])""",
    ),
}

REVISION = """\
import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = {down!r}


def upgrade():
{body}


def downgrade():
    pass
"""

TESTS = """\
from app.main import discount, place_order, revenue


async def test_0_place_order(db):
    order = await place_order(db, "a@example.com", 1200)
    assert order.id is not None


async def test_1_revenue_starts_empty(db):
    assert await revenue(db) == 0


async def test_2_revenue_sums(db):
    await place_order(db, "b@example.com", 500)
    await place_order(db, "b@example.com", 700)
    assert await revenue(db) == 1200


async def test_3_seeded_tier(db):
    assert await discount(db, "gold") == 10


async def test_4_unknown_tier(db):
    assert await discount(db, "platinum") == 0


async def test_5_same_customer(db):
    first = await place_order(db, "c@example.com", 1)
    second = await place_order(db, "c@example.com", 2)
    assert first.customer_id == second.customer_id


async def test_6_isolated(db):
    assert await revenue(db) == 0


async def test_7_many(db):
    for cents in range(20):
        await place_order(db, f"d{cents}@example.com", cents)
    assert await revenue(db) == sum(range(20))


async def test_8_free_tier(db):
    assert await discount(db, "free") == 0


async def test_9_still_isolated(db):
    assert await revenue(db) == 0
"""

KIT_CONFTEST = """\
import pytest


@pytest.fixture
def db(sessionerror_async_db):
    return sessionerror_async_db
"""

KIT_INI = """\
[pytest]
asyncio_mode = auto
sessionerror_backend = postgresql
sessionerror_alembic_ini = alembic.ini
sessionerror_metadata = app.models:Base.metadata
"""

HAND_CONFTEST = """\
import os
import uuid

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

SERVER = os.environ["SESSIONERROR_POSTGRES_URL"]


@pytest.fixture(scope="session")
def database_url():
    name = f"app_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(SERVER).set(database=name)
    config = Config("alembic.ini")
    config.set_main_option("sqlalchemy.url", url.render_as_string(hide_password=False))
    command.upgrade(config, "head")
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
async def db(database_url):
    engine = create_async_engine(
        database_url.set(drivername="postgresql+asyncpg"), poolclass=NullPool
    )
    async with engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()
    await engine.dispose()
"""

HAND_INI = "[pytest]\nasyncio_mode = auto\n"
