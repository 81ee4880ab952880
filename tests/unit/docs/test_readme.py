"""The README stays true: short, the first test early, the two quick-start commands, live links."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "README.md"
FIRST_TEST = ROOT / "docs" / "snippets" / "test_first.py"


def test_readme_is_short_and_shows_a_test_early() -> None:
    text = README.read_text()
    assert len(text.encode()) <= 12 * 1024
    block = text.split("```python\n", 1)[1].split("```", 1)[0]
    assert block == FIRST_TEST.read_text(), "the README's test is docs/snippets/test_first.py"
    assert len(text.split("```python\n", 1)[0].encode()) < 3 * 1024


def test_readme_quick_start_has_two_commands() -> None:
    text = README.read_text()
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [line.strip() for line in quick.splitlines() if line.startswith("    ")]
    assert len(commands) == 2
    assert "sessionerror check" in commands[0]
    assert "pytest" in commands[1]


def test_readme_links_point_at_files() -> None:
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text()):
        if "://" not in target:
            assert (ROOT / target).exists(), target


def test_the_configuration_page_is_generated_from_the_options() -> None:
    import importlib.util

    from sessionerror.plugin.config import options_markdown

    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "tools" / "docs_hooks.py")
    assert spec is not None and spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    page = (ROOT / "docs" / "configuration.md").read_text()
    assert hooks.PLACEHOLDER in page
    assert options_markdown() in hooks.on_page_markdown(page)
