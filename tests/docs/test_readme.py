"""The README stays true: its option table is the one the plugin registers."""

from __future__ import annotations

from pathlib import Path

from sessionerror.plugin.config import options_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_option_table_matches_the_registered_options() -> None:
    text = README.read_text()
    table = text.split("<!-- options:start -->\n", 1)[1].split("\n<!-- options:end -->", 1)[0]
    assert table == options_markdown()


def test_readme_quick_start_has_two_commands() -> None:
    text = README.read_text()
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [line.strip() for line in quick.splitlines() if line.startswith("    ")]
    assert len(commands) == 2
    assert "sessionerror check" in commands[0]
    assert "pytest" in commands[1]
