"""The import the README gives for the fixture factories works and names the factories."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_names_where_the_fixture_factories_are_imported_from() -> None:
    text = " ".join(README.read_text().split())
    match = re.search(
        r"`(from sessionerror\.fixtures import sessionerror_engine_factory, "
        r"sessionerror_db_factory)`",
        text,
    )
    assert match, "README must say: from sessionerror.fixtures import ..."
    namespace: dict[str, object] = {}
    exec(match.group(1), namespace)  # the exact line a user copies
    from sessionerror.fixtures import sessionerror_db_factory, sessionerror_engine_factory

    assert namespace["sessionerror_engine_factory"] is sessionerror_engine_factory
    assert namespace["sessionerror_db_factory"] is sessionerror_db_factory
    assert callable(sessionerror_engine_factory) and callable(sessionerror_db_factory)
