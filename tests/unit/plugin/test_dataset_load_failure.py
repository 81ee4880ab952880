"""Issue 19: a data set the database refuses while a fixture loads it fails the test in one line."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sessionerror import datasets
from sessionerror.datasets import DatasetError
from sessionerror.plugin import database_fixtures, database_fixtures_async


def _refused(*_args: Any, **_kwargs: Any) -> None:
    raise DatasetError("the database refused the rows: duplicate key", file="data/x.json")


def test_sync_fixture_fails_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datasets, "load_dataset", _refused)
    with pytest.raises(pytest.fail.Exception) as failed:
        database_fixtures._load_datasets(None, ("data/x.json",))  # type: ignore[arg-type]
    assert failed.value.pytrace is False
    assert str(failed.value) == (
        "sessionerror: data set 'data/x.json': data/x.json: the database refused the rows: "
        "duplicate key"
    )
    assert failed.value.__context__ is None  # no "during handling" chain


def test_async_fixture_fails_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    class Session:
        async def run_sync(self, function: Any, *args: Any) -> Any:
            return function(None, *args)

    monkeypatch.setattr(datasets, "load_dataset", _refused)
    load = database_fixtures_async._load_datasets(Session(), ("data/x.json",))  # type: ignore[arg-type]
    with pytest.raises(pytest.fail.Exception) as failed:
        asyncio.run(load)
    assert failed.value.pytrace is False
    assert "data/x.json: the database refused the rows" in str(failed.value)
