"""The package's faces (issue 17): the application API, the test tooling, one hooks module."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections import Counter
from pathlib import Path

import sessionerror
import sessionerror.plugin.hooks
import sessionerror.testing

ROOT = Path(sessionerror.__file__).resolve().parent
HOOKS = ROOT / "plugin" / "hooks.py"


def _hook_definitions() -> list[tuple[Path, str, int]]:
    """Every ``def pytest_*`` in the package (methods of hook classes included)."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("pytest_"):
                found.append((path, node.name, node.lineno))
    return found


def test_every_pytest_hook_is_in_the_hooks_module() -> None:
    elsewhere = [
        f"{path.relative_to(ROOT.parent)}:{line} {name}"
        for path, name, line in _hook_definitions()
        if path != HOOKS
    ]
    assert not elsewhere, "pytest hooks outside sessionerror/plugin/hooks.py:\n" + "\n".join(
        elsewhere
    )


def test_each_module_level_hook_is_defined_once() -> None:
    tree = ast.parse(HOOKS.read_text(encoding="utf-8"))
    names = Counter(
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("pytest_")
    )
    assert [name for name, count in names.items() if count > 1] == []
    assert set(names) == set(sessionerror.plugin.hooks.__all__)


def test_the_plugin_registers_fixture_modules_only() -> None:
    for module_name in sessionerror.plugin.pytest_plugins:
        module = importlib.import_module(module_name)
        hooks = [name for name in vars(module) if name.startswith("pytest_")]
        assert hooks == [], f"{module_name} defines hooks {hooks}"


def test_every_testing_name_resolves() -> None:
    for name in sessionerror.testing.__all__:
        assert getattr(sessionerror.testing, name) is not None, name


def test_the_top_level_has_no_test_tooling() -> None:
    assert set(sessionerror.__all__).isdisjoint(sessionerror.testing.__all__)


def test_importing_the_testing_module_loads_no_sqlalchemy() -> None:
    probe = (
        "import sys, sessionerror.testing; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'factory'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
