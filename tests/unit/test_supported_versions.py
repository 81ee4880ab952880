"""The SQLAlchemy range that pyproject declares is the one CI tests and the README states.

pyproject's lower bound must be exactly the 2.0.x that `.ci/run` pins for its second run, so
the oldest release we accept is the oldest release we test; the README's "Supported versions"
line repeats the same specifier; and the SQLAlchemy this run imports lies inside the range.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import sqlalchemy
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def requirement_line() -> str:
    """pyproject's SQLAlchemy requirement as written, e.g. ``SQLAlchemy>=2.0.30,<2.2``."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = [d for d in project["dependencies"] if Requirement(d).name.lower() == "sqlalchemy"]
    assert len(lines) == 1, lines
    return str(lines[0])


def declared() -> SpecifierSet:
    return Requirement(requirement_line()).specifier


def ci_pin() -> Version:
    script = (ROOT / ".ci" / "run").read_text()
    pins = re.findall(r"^SQLALCHEMY_LOWEST=(\S+)$", script, flags=re.MULTILINE)
    assert len(pins) == 1, f".ci/run must set SQLALCHEMY_LOWEST once, found {pins}"
    assert '"SQLAlchemy==$SQLALCHEMY_LOWEST"' in script, ".ci/run must install the pinned version"
    return Version(pins[0])


def test_lower_bound_is_the_version_ci_pins() -> None:
    spec = declared()
    lower = [s for s in spec if s.operator == ">="]
    assert len(lower) == 1, f"expected one >= bound in {spec}"
    assert Version(lower[0].version) == ci_pin()
    assert ci_pin() in spec


def test_range_covers_2_0_and_2_1_but_not_2_2() -> None:
    spec = declared()
    assert ci_pin().release[:2] == (2, 0)
    assert Version("2.1.9") in spec
    assert Version("2.2.0") not in spec
    assert Version("2.2.0b1") not in spec


def test_readme_states_the_declared_range() -> None:
    readme = (ROOT / "README.md").read_text()
    line = next(ln for ln in readme.splitlines() if ln.startswith("Supported versions:"))
    assert f"`{requirement_line()}`" in line
    paragraph = readme.split("Supported versions:", 1)[1].split("\n\n", 1)[0]
    assert f"exactly {ci_pin()}" in paragraph


def test_this_run_uses_a_supported_sqlalchemy() -> None:
    assert Version(sqlalchemy.__version__) in declared()


def test_bare_postgresql_url_means_psycopg2_on_both_versions() -> None:
    """SQLAlchemy's own default driver differs by version; sessionerror's does not."""
    from sqlalchemy.engine import make_url

    from sessionerror.urls import DatabaseURL

    sqlalchemy_default = make_url("postgresql://u@h/db").get_dialect().driver
    if Version(sqlalchemy.__version__) >= Version("2.1"):
        assert sqlalchemy_default == "psycopg"
    else:
        assert sqlalchemy_default == "psycopg2"
    for ours in (
        DatabaseURL("postgresql://u@h/db").to_sync(),
        DatabaseURL("postgres://u@h/db").require_postgres(),
    ):
        assert ours.parse().get_dialect().driver == "psycopg2"
