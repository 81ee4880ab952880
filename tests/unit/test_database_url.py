"""DatabaseURL: a URL read once, that prints masked and knows its driver and sync/async forms."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from sessionerror.urls import DatabaseURL

SECRET = "Tr0ub4dor"


@pytest.mark.parametrize(
    ("text", "backend", "driver", "is_async"),
    [
        ("postgresql://u@h/db", "postgresql", "postgresql+psycopg2", False),
        ("postgres://u@h/db", "postgresql", "postgresql+psycopg2", False),
        ("postgresql+psycopg://u@h/db", "postgresql", "postgresql+psycopg", False),
        ("postgresql+asyncpg://u@h/db", "postgresql", "postgresql+asyncpg", True),
        ("sqlite:///x.db", "sqlite", "sqlite", False),
        ("sqlite+aiosqlite:///x.db", "sqlite", "sqlite+aiosqlite", True),
        ("mysql://u@h/db", "mysql", "mysql", False),
        ("not a url", "", "", False),
    ],
)
def test_backend_driver_and_kind(text: str, backend: str, driver: str, is_async: bool) -> None:
    url = DatabaseURL(text)
    assert (url.backend, url.driver, url.is_async) == (backend, driver, is_async)


@pytest.mark.parametrize(
    ("text", "sync", "async_"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg2://u@h/db", "postgresql+asyncpg://u@h/db"),
        (
            "postgresql+asyncpg://u@h/db",
            "postgresql+psycopg2://u@h/db",
            "postgresql+asyncpg://u@h/db",
        ),
        (
            "postgresql+psycopg://u@h/db",
            "postgresql+psycopg://u@h/db",
            "postgresql+psycopg_async://u@h/db",
        ),
        ("sqlite+aiosqlite:///x.db", "sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("  sqlite:///x.db ", "sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_sync_and_async_forms(text: str, sync: str, async_: str) -> None:
    url = DatabaseURL(text)
    assert url.to_sync().reveal() == sync
    assert url.to_async().reveal() == async_


def test_no_async_driver_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="no async driver is known for 'mysql'"):
        DatabaseURL("mysql://u@h/db").to_async()


@pytest.mark.parametrize(
    "text",
    [
        f"postgresql://app:{SECRET}@db.internal:5432/app",
        f"postgresql+asyncpg://app:{SECRET}@XyZzy@db.internal/app",
        f"postgresql://app@db.internal/app?password={SECRET}",
    ],
)
def test_str_and_repr_never_show_the_password(text: str) -> None:
    url = DatabaseURL(text)
    for shown in (str(url), repr(url), url.masked, str([url]), f"{url}"):
        assert SECRET not in shown
        assert "***" in shown
    assert repr(url).startswith("DatabaseURL(")
    assert SECRET in url.reveal()  # the one way back, for the place that connects
    assert SECRET not in url.to_sync().masked


def test_forms_keep_the_password_for_connecting() -> None:
    url = DatabaseURL(f"postgresql+asyncpg://app:{SECRET}@h/db")
    assert url.to_sync().reveal() == f"postgresql+psycopg2://app:{SECRET}@h/db"
    assert url.to_sync().parse().password == SECRET


def test_built_from_an_engine_url_keeps_the_password() -> None:
    parsed = make_url(f"postgresql+psycopg2://app:{SECRET}@h/db")
    url = DatabaseURL(parsed)
    assert url.reveal() == f"postgresql+psycopg2://app:{SECRET}@h/db"
    assert SECRET not in str(url)
    assert DatabaseURL(url) == url
    assert hash(DatabaseURL(url)) == hash(url)


def test_hide_masks_the_password_wherever_it_appears() -> None:
    url = DatabaseURL(f"postgresql://app:{SECRET}@XyZzy@h/db")
    hidden = url.hide(f"could not translate host name 'XyZzy@h' for app:{SECRET}")
    assert SECRET not in hidden
    assert "XyZzy" not in hidden
    other = DatabaseURL(f"postgresql+psycopg2://app:{SECRET}@h/db")
    assert SECRET not in url.masked_with(other)


def test_is_immutable() -> None:
    url = DatabaseURL("sqlite:///x.db")
    with pytest.raises(AttributeError, match="immutable"):
        url._text = "sqlite:///y.db"


def test_empty_and_other_types() -> None:
    assert DatabaseURL("   ").is_empty
    assert not DatabaseURL("sqlite://").is_empty
    with pytest.raises(TypeError, match="got int"):
        DatabaseURL(5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg2://u@h/db"),
        ("  PostgreSQL://h/db?sslmode=disable ", "postgresql+psycopg2://h/db?sslmode=disable"),
        ("postgresql+psycopg://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
    ],
)
def test_require_postgres_spells_out_the_driver(text: str, expected: str) -> None:
    assert DatabaseURL(text).require_postgres().reveal() == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("u:hunter2@h", "not a PostgreSQL URL: 'u:***@h'; expected postgresql://"),
        ("mysql://u:hunter2@h/db", "unsupported URL scheme 'mysql' in 'mysql://u:***@h/db'; use"),
        ("postgresql+asyncpg://h/db", "unsupported URL scheme 'postgresql+asyncpg'"),
        ("postgresql://u:hunter2@h:port/db", "malformed PostgreSQL URL 'postgresql://u:***@h:"),
    ],
)
def test_require_postgres_refuses_other_urls_masked(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="URL") as info:
        DatabaseURL(text).require_postgres()
    assert str(info.value).startswith(message)
    assert "hunter2" not in str(info.value)


def test_copies_and_pickles_keep_the_url() -> None:
    import copy
    import pickle

    url = DatabaseURL("postgresql://u:hunter2@h/db")
    assert copy.deepcopy(url) == url
    assert pickle.loads(pickle.dumps(url)).reveal() == url.reveal()
