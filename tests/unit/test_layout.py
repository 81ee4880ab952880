"""The package layout, guarded: no import cycles, dependencies one way, small modules, light plugin.

Built on :mod:`ast` over ``sessionerror/**``, so a violation names the file, the line and the
import. Every import of a ``sessionerror`` module counts, at module level or inside a function:
a function-level import is how optional, heavy packages stay lazy, never a way to hide a cycle
or an upward dependency. Imports under ``if TYPE_CHECKING:`` do not run and are ignored.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "sessionerror"
ROOT = Path(__file__).resolve().parents[2] / PACKAGE
MAX_LINES = 400

#: The parts of the package, bottom to top. A part may import its own modules, parts of its own
#: layer and parts of lower layers, never a part above it (README, "Architecture").
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"errors", "urls", "engines", "redaction"}),
    # autogenerate: the Alembic render hook for the models' types and CHECKs (imports no part)
    frozenset({"models", "autogenerate"}),
    frozenset({"runtime"}),
    frozenset({"testdb"}),
    frozenset({"connect", "datasets", "factories"}),
    frozenset({"check", "conformance"}),
    frozenset({"plugin"}),
    frozenset({"cli", "export", "summary", "scenarios", "__main__", "testing"}),
    frozenset({PACKAGE}),  # sessionerror/__init__.py: the public API re-exports everything
)

#: Imports a lower part may make of a higher one, each with the reason it is harmless.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {
    (
        "sessionerror.errors",
        "sessionerror.models.enums",
    ): "every error carries an ErrorCategory; enums.py is plain Python with no imports",
}

#: Public exception classes outside the SessionErrorKitError hierarchy, each with the reason.
NOT_KIT_ERRORS: dict[str, str] = {
    "sessionerror.cli.Interrupted": "a signal, not an error: a BaseException so no handler eats it",
}

#: What importing the pytest plugin must not load (the plugin imports them when a test needs them).
HEAVY_MODULES = (
    "sqlalchemy",
    "psycopg2",
    "psycopg",
    "factory",
    "faker",
    "testcontainers",
    "docker",
)


@dataclass(frozen=True)
class Import:
    """One import of a sessionerror module by another."""

    source: str
    target: str
    path: Path
    line: int

    def where(self) -> str:
        """``sessionerror/x.py:12``."""
        return f"{self.path.relative_to(ROOT.parent)}:{self.line}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run (anywhere in the file), minus TYPE_CHECKING blocks."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for child in node.orelse for n in _runtime_imports_in(child))
            continue
        yield from _runtime_imports_in(node)


def _runtime_imports_in(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
        return
    yield from _runtime_imports(node)


def _targets(node: ast.Import | ast.ImportFrom, source: str, modules: dict[str, Path]) -> set[str]:
    """The sessionerror modules ``node`` imports (``from pkg import module``: that module)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
        return {name for name in names if name.split(".")[0] == PACKAGE}
    base = node.module or ""
    if node.level:
        is_package = modules[source].name == "__init__.py"
        anchor = source.split(".")
        anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
        base = ".".join([*anchor, base] if base else anchor)
    if base.split(".")[0] != PACKAGE:
        return set()
    found = {f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules}
    if len(found) < len(node.names):
        found.add(base)
    return found


def _imports() -> list[Import]:
    modules = _modules()
    found: list[Import] = []
    for source, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _runtime_imports(tree):
            for target in sorted(_targets(node, source, modules)):
                if target != source:
                    found.append(Import(source, target, path, node.lineno))
    return found


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else PACKAGE


def _layer(module: str) -> int:
    part = _part(module)
    for index, parts in enumerate(LAYERS):
        if part in parts:
            return index
    raise AssertionError(f"{module}: part {part!r} is in no layer of LAYERS in test_layout.py")


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(edges.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return components


def test_no_import_cycles() -> None:
    imports = _imports()
    edges: dict[str, set[str]] = {}
    for item in imports:
        edges.setdefault(item.source, set()).add(item.target)
    problems = []
    for component in _cycles(edges):
        members = set(component)
        inside = [i for i in imports if i.source in members and i.target in members]
        lines = "\n".join(f"    {i.where()} imports {i.target}" for i in inside)
        problems.append(f"cycle between {', '.join(component)}:\n{lines}")
    assert not problems, "import cycles:\n" + "\n".join(problems)


def test_dependencies_run_one_way() -> None:
    problems = [
        f"{i.where()}: {i.source} ({_part(i.source)}) imports {i.target} ({_part(i.target)}), "
        "a part above it"
        for i in _imports()
        if _layer(i.target) > _layer(i.source) and (i.source, i.target) not in ALLOWED_UPWARD
    ]
    assert not problems, "upward imports (see LAYERS):\n" + "\n".join(problems)


def test_type_only_imports_run_one_way_too() -> None:
    """An ``if TYPE_CHECKING:`` import of a higher part is still a dependency on it (issue 17:
    testdb named the plugin's settings types that way); only cycles may ignore them."""
    modules = _modules()
    problems = []
    for source, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target in sorted(_targets(node, source, modules) - {source}):
                upward = _layer(target) > _layer(source)
                if upward and (source, target) not in ALLOWED_UPWARD:
                    problems.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}: {target}")
    assert not problems, "upward imports, type-only included:\n" + "\n".join(problems)


def test_allowed_upward_imports_are_still_needed() -> None:
    actual = {(i.source, i.target) for i in _imports()}
    stale = sorted(set(ALLOWED_UPWARD) - actual)
    assert not stale, f"ALLOWED_UPWARD lists imports that no longer exist: {stale}"


def test_no_module_is_over_the_line_limit() -> None:
    long = sorted(
        (count, f"{path.relative_to(ROOT.parent)}: {count} lines")
        for path in _modules().values()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    )
    assert not long, f"modules over {MAX_LINES} lines:\n" + "\n".join(t for _, t in long)


def test_every_module_is_in_a_layer() -> None:
    for module in _modules():
        _layer(module)


def test_importing_the_plugin_loads_no_heavy_package() -> None:
    probe = (
        "import sys, sessionerror.plugin; "
        f"heavy = {HEAVY_MODULES!r}; "
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_every_public_exception_is_a_kit_error() -> None:
    from sessionerror.errors import SessionErrorKitError

    outside = []
    for info in pkgutil.walk_packages([str(ROOT)], f"{PACKAGE}."):
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name, None)
            qualified = f"{info.name}.{name}"
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and not issubclass(value, SessionErrorKitError)
                and qualified not in NOT_KIT_ERRORS
            ):
                bases = ", ".join(base.__name__ for base in value.__bases__)
                outside.append(f"{qualified} ({bases})")
    assert not outside, "public exceptions outside SessionErrorKitError (errors.py):\n" + "\n".join(
        sorted(outside)
    )
